/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the benchmarks of the cluster (bench_reg --redis, bench_cluster)
 * need of Redis besides the link: a server to run against (given as
 * HOST:PORT, or a redis-server started here on a free 127.0.0.1 port in a
 * temporary directory, --spawn-redis), a blocking client for INFO and
 * clean-up, and the keys of one run under a prefix of its own.
 */
#ifndef BENCH_REDIS_H
#define BENCH_REDIS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/** A Redis server to benchmark against. */
struct bench_redis {
	char host[64];
	uint16_t port;
	pid_t pid;    /**< > 0: started here (bench_redis_spawn()) */
	char dir[64]; /**< its temporary directory */
};

/** "HOST:PORT" into @p r. @return 0, or -1 (not that form). */
int bench_redis_parse(struct bench_redis *r, const char *hostport);

/** Start redis-server (--save "" --appendonly no) on a free 127.0.0.1 port
 *  and wait (up to 5 s) until it answers PING. It dies with this process.
 *  @return 0, or -1 (a message on stderr). */
int bench_redis_spawn(struct bench_redis *r);

/** Stop a server bench_redis_spawn() started and remove its directory;
 *  one given as HOST:PORT is left alone. */
void bench_redis_stop(struct bench_redis *r);

/** A blocking client (5 s timeouts), or NULL (a message on stderr). */
redisContext *bench_redis_cli(const struct bench_redis *r);

/** Field @p name of INFO @p section (an integer or a decimal), or -1. */
double bench_redis_info(redisContext *c, const char *section, const char *name);

/** Remove every key that begins with @p prefix (SCAN + DEL: freed now, so used_memory is settled).
 *  @return keys removed, or -1. */
long long bench_redis_drop(redisContext *c, const char *prefix);

/** A prefix of its own for one benchmark's keys: "swbench:<pid>:<tag>:". */
void bench_redis_prefix(char *out, size_t cap, const char *tag);

#endif /* BENCH_REDIS_H */
