/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_st_ws.c's model: frames built from a fuzz input's records, and what
 * RFC 6455 (as libwslay applies it) and RFC 7118 say a server must do with
 * them; and the server's frames read back.
 */
#ifndef WS_MODEL_H
#define WS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define WSM_MAX 4096

struct wsm {
	unsigned n_msgs; /* the messages the control plane must get */
	uint8_t *msg[WSM_MAX];
	uint32_t len[WSM_MAX];
	unsigned n_pings; /* pings before the end: each must get its pong */
	uint32_t ping_hash[WSM_MAX];
	int why;	 /* enum st_close_why */
	int close_code;	 /* the server's close frame: -1 none, 0 without a code */
	int either_utf8; /* a close frame with a reason: 1007 is possible too */
	int unmodelled;	 /* a raw record: only invariants hold */
	/* inside the model */
	int done;
	uint8_t frag_op; /* the fragmented message going on: 0 none, 1 text, 2 binary */
	uint8_t *frag;
	size_t frag_len;
	uint8_t u8_need, u8_lo, u8_hi, u8_bad; /* UTF-8 of the text message */
};

/*
 * The records @p in (fuzz_st_ws.c's format) as frames into @p out (at most
 * @p cap bytes; returns how many), and what the server must do into @p m.
 */
size_t wsm_build(const uint8_t *in, size_t n, uint32_t max_message, uint8_t *out, size_t cap,
		 struct wsm *m);
void wsm_free(struct wsm *m);

/* The server's frames after its 101. */
struct wsm_out {
	int ok; /* only pongs, then at most one close, last */
	unsigned n_pongs;
	uint32_t pong_hash[WSM_MAX];
	int close_code; /* -1 none, 0 without a code */
};

void wsm_parse_out(const uint8_t *p, size_t n, struct wsm_out *o);

#endif /* WS_MODEL_H */
