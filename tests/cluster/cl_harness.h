/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the cluster link's tests share: a real redis-server (or sentinel)
 * started in a temporary directory on a free 127.0.0.1 port, links whose
 * callbacks are recorded, and a bounded loop that drives every live link's
 * cl_run() until a condition holds.
 */
#ifndef CL_HARNESS_H
#define CL_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "cluster/cl.h"
#include "common/sw_clock.h"

#define H_MAX_DONE    64
#define H_MAX_CHANGES 4096
#define H_MAX_STATES  32

/* A redis-server (or sentinel) of a test. */
struct h_redis {
	pid_t pid;
	uint16_t port;
	char dir[64];
};

/* One change as change() saw it (strings copied, NUL-terminated). */
struct h_change {
	enum cl_change kind;
	char aor[64], key[64], val[256], edge[32];
	size_t val_len, key_len;
	int64_t stamp, expires_at;
};

/* A link and what its callbacks said. */
struct h_link {
	struct cl *cl;
	bool paused; /* not driven by H_UNTIL */
	unsigned ndone;
	uint64_t done_ticket[H_MAX_DONE];
	bool done_ok[H_MAX_DONE];
	unsigned nstates;
	enum cl_state states[H_MAX_STATES];
	unsigned nchanges;
	struct h_change *changes; /* H_MAX_CHANGES */
};

/* A free TCP port on 127.0.0.1 (bound, then released). */
uint16_t h_free_port(void);

/* Start redis-server on @p port (0: a free one) with the NULL-terminated
 * extra arguments, and wait (up to 5 s) until it answers PING. */
void h_redis_start(struct h_redis *r, uint16_t port, const char *const *extra);
/* Start a sentinel monitoring 127.0.0.1:@p master_port as "sipwake". */
void h_sentinel_start(struct h_redis *r, uint16_t master_port);
/* Send @p sig, reap it. The directory stays (h_redis_clean() removes it). */
void h_redis_kill(struct h_redis *r, int sig);
void h_redis_clean(struct h_redis *r);

/* A blocking client (1 s timeouts); every command must get an answer. */
redisContext *h_cli(uint16_t port);

/* One redis-server for a group of tests, and a plain client to it:
 * cmocka group setup / teardown, and a per-test setup that empties it. */
extern struct h_redis h_srv;
extern redisContext *h_rc;
int h_group_setup(void **state);
int h_group_teardown(void **state);
int h_flush(void **state);
redisReply *h_cmd(redisContext *c, const char *fmt, ...);
long long h_int(redisContext *c, const char *fmt, ...);

/* A config for edge @p edge and the master at 127.0.0.1:@p port. */
void h_cfg(struct cl_config *cfg, const char *edge, uint16_t port);
/* A link on @p cfg, recorded in @p l and driven by H_UNTIL from now on. */
void h_link_new(struct h_link *l, const struct cl_config *cfg);
void h_link_free(struct h_link *l);
/* One cl_run() of every live, unpaused link. */
void h_pump(void);
struct cl_stats h_stats(const struct h_link *l);

/* Drive the links until @p cond holds, for at most @p ms. */
#define H_UNTIL(ms, cond)                                        \
	({                                                       \
		uint64_t end_ = sw_mono_ms() + (ms);             \
		bool ok_;                                        \
		while (!(ok_ = (cond)) && sw_mono_ms() < end_) { \
			h_pump();                                \
			usleep(500);                             \
		}                                                \
		ok_;                                             \
	})

/* A binding for a batch (strings borrowed). */
struct cl_binding h_bind(const char *aor, const char *key, const char *val, size_t val_len,
			 int64_t stamp, int64_t expires_at);
/* Submit @p b on @p l and drive until its done(): @return its ok. */
bool h_submit_wait(struct h_link *l, struct cl_batch *b);

#endif /* CL_HARNESS_H */
