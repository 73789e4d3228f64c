/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread's connection code without its thread, for the stream
 * fuzz targets (fuzz_st_frame.c, fuzz_st_ws.c): one struct st made once by
 * st_new() (never started: no listener, no thread), and per run one
 * connection accepted by the real st_conn_accept() on one end of a
 * socketpair. The harness writes the peer's bytes into the other end in
 * chunks and runs the streams loop (event_base_loop) on the calling thread
 * until each chunk has been read, so every byte goes through the real
 * read_cb, framing (st_frame.c) or WebSocket layer (st_ws.c), st_up_push()
 * and close path. What the connection handed up (st_poll()) and wrote back
 * is collected for the target to check.
 */
#ifndef ST_FUZZ_H
#define ST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "streams/st_internal.h"

#define STZ_MAX_MSGS 4096

/* What one connection did, from accept to its ST_UP_CLOSED. */
struct stz_run {
	unsigned n_msgs;
	uint8_t *msg[STZ_MAX_MSGS]; /* each ST_UP_SIP's bytes (malloc'd) */
	uint32_t len[STZ_MAX_MSGS];
	int why;	  /* ST_UP_CLOSED's reason; -1 if none came */
	int closed_early; /* closed before the harness shut its end */
	size_t fed;	  /* bytes written before the connection closed */
	uint8_t *out;	  /* everything it wrote toward the peer */
	size_t n_out;
};

/* Made once: a struct st with one listener of @p tp (SW_TP_TCP or SW_TP_WS). */
struct st *stz_new(uint8_t tp);

/*
 * One connection on @p st: @p n bytes @p p written in chunks whose sizes
 * come from @p chunk (called with the bytes left; returns 1..left), then
 * the peer's end shut for writing, then the loop run until the connection
 * has closed. @p max_message is set on @p st for the run.
 */
void stz_run(struct st *st, uint32_t max_message, const uint8_t *p, size_t n,
	     size_t (*chunk)(void *arg, size_t left), void *arg, struct stz_run *r);

/* Frees what @p r holds. */
void stz_run_free(struct stz_run *r);

/* The two ways a target writes its input: whole (stz_one_write, arg
 * unused), or in chunks of 1 .. 2^scale bytes from an xorshift32 seeded by
 * the input (stz_chunked, arg a struct stz_rng; stz_rng_seed() reads the
 * scale and the seed from the input's first 5 bytes). */
struct stz_rng {
	uint32_t s;
	unsigned scale;
};

size_t stz_one_write(void *arg, size_t left);
size_t stz_chunked(void *arg, size_t left);
void stz_rng_seed(struct stz_rng *g, const uint8_t *data);

/* Aborts with @p what if @p cond is false (the fuzz targets' CHECK). */
#define STZ_CHECK(cond)                                                                        \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s: invariant broken: %s (%s:%d)\n", stz_name, #cond, \
				__FILE__, __LINE__);                                           \
			abort();                                                               \
		}                                                                              \
	} while (0)

extern const char *stz_name;

#endif /* ST_FUZZ_H */
