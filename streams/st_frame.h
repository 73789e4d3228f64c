/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * SIP framing on a stream (RFC 3261 §18.3, §7.5; RFC 5626 §4.4.1): where
 * a message ends in the bytes received so far, by its Content-Length.
 * Pure functions, no libevent: tests/streams/test_st_frame.c.
 */
#ifndef ST_FRAME_H
#define ST_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "streams/st.h"

enum st_frame_kind {
	ST_FRAME_MORE = 0, /**< not whole yet: read more */
	ST_FRAME_MSG,	   /**< a message of len bytes */
	ST_FRAME_PING,	   /**< CRLFCRLF keepalive (len 4): answer CRLF */
	ST_FRAME_SKIP,	   /**< a stray CRLF (len 2) or CR / LF (len 1) before a message: drop it */
	ST_FRAME_ERR,	   /**< the stream is broken: close with why */
};

struct st_frame {
	uint8_t kind;	 /**< enum st_frame_kind */
	uint8_t why;	 /**< ST_FRAME_ERR: enum st_close_why */
	uint8_t started; /**< ST_FRAME_MORE: a message has begun (not only CRLFs) */
	size_t len;	 /**< bytes to take off the front */
};

/**
 * Look at the @p n bytes @p p received so far on a stream (borrowed).
 * A message is its header block and Content-Length bytes of body, at most
 * @p max_message bytes in all; Content-Length (or "l") is required.
 */
void st_frame(const uint8_t *p, size_t n, uint32_t max_message, struct st_frame *out);

/**
 * One WebSocket message (RFC 7118 §5: one SIP message per message,
 * Content-Length optional): its header block must end within it and a
 * Content-Length, if any, must match the body. @return 0 or the close
 * reason (ST_CLOSE_*), never ST_CLOSE_peer.
 */
int st_frame_ws(const uint8_t *p, size_t n, uint32_t max_message);

#endif /* ST_FRAME_H */
