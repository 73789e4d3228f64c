/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP side of bench_tls (bench/bench_tls.c): the requests an app sends
 * over its TLS connection, and the cutting of what comes back into whole
 * messages by Content-Length (RFC 3261 §18.3), as an app's stack does.
 */
#ifndef BENCH_TLS_SIP_H
#define BENCH_TLS_SIP_H

#include <stddef.h>
#include <stdint.h>

/** Who an app is: its connection's address, its device number. */
struct bt_app {
	const char *ip; /**< the connection's local address (borrowed) */
	unsigned port;	/**< its local port */
	unsigned dev;	/**< the device number: AOR, instance, token */
};

/** What bt_frame() found in one answer. */
struct bt_answer {
	int status;	 /**< 0: a request (not expected from the sink) */
	char method[12]; /**< of the CSeq line */
	uint64_t call;	 /**< the call number in the Call-ID, or 0 */
	char to_tag[32]; /**< the To tag, "" if none */
};

/** REGISTER of @a's device, CSeq @cseq, into @buf (@cap bytes): the
 * length written, or -ENOSPC. */
int bt_register(char *buf, size_t cap, const struct bt_app *a, uint32_t cseq);

/** INVITE with SDP of call @call from @a's device (a new dialog); the
 * length, or -ENOSPC. */
int bt_invite(char *buf, size_t cap, const struct bt_app *a, uint64_t call);

/** BYE ending call @call, whose 200 gave @to_tag; the length, or -ENOSPC. */
int bt_bye(char *buf, size_t cap, const struct bt_app *a, uint64_t call, const char *to_tag);

/** Cut one whole message off the front of @buf (@len bytes, CRLF
 * keepalives skipped) and read it into @out. Returns the bytes it took,
 * 0 if the message is not whole yet, or -EPROTO for what cannot be framed
 * (no Content-Length, or one above 64 KiB). */
int bt_frame(const char *buf, size_t len, struct bt_answer *out);

#endif
