/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis for the cluster benchmarks (bench_redis.h).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_redis.h"
#include "common/sw_clock.h"

int bench_redis_parse(struct bench_redis *r, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	char *end;
	unsigned long port;

	memset(r, 0, sizeof(*r));
	if (colon == NULL || colon == hostport || (size_t)(colon - hostport) >= sizeof(r->host))
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -1;
	memcpy(r->host, hostport, (size_t)(colon - hostport));
	r->port = (uint16_t)port;
	return 0;
}

static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool answers(const struct bench_redis *r)
{
	struct timeval tv = {0, 200000};
	redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
	redisReply *rep = c != NULL && !c->err ? redisCommand(c, "PING") : NULL;
	bool ok = rep != NULL;

	if (rep != NULL)
		freeReplyObject(rep);
	if (c != NULL)
		redisFree(c);
	return ok;
}

int bench_redis_spawn(struct bench_redis *r)
{
	char port[8], log[96];
	uint64_t end;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/bench_redis.XXXXXX");
	if (mkdtemp(r->dir) == NULL) {
		perror("bench_redis: mkdtemp");
		return -1;
	}
	snprintf(r->host, sizeof(r->host), "127.0.0.1");
	r->port = free_port();
	snprintf(port, sizeof(port), "%u", r->port);
	snprintf(log, sizeof(log), "%s/log", r->dir);
	pid = fork();
	if (pid < 0) {
		perror("bench_redis: fork");
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a benchmark that dies takes it along */
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", r->dir, (char *)NULL);
		_exit(127);
	}
	r->pid = pid;
	for (end = sw_mono_ms() + 5000; sw_mono_ms() < end; usleep(20000))
		if (answers(r))
			return 0;
	fprintf(stderr, "bench_redis: redis-server on port %u did not answer (see %s)\n", r->port,
		log);
	bench_redis_stop(r);
	return -1;
}

void bench_redis_stop(struct bench_redis *r)
{
	char cmd[128];

	if (r->pid <= 0)
		return;
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_redis: cannot remove %s\n", r->dir);
}

redisContext *bench_redis_cli(const struct bench_redis *r)
{
	struct timeval tv = {5, 0};
	redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);

	if (c == NULL || c->err) {
		fprintf(stderr, "bench_redis: %s:%u: %s\n", r->host, r->port,
			c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return c;
}

double bench_redis_info(redisContext *c, const char *section, const char *name)
{
	redisReply *rep = redisCommand(c, "INFO %s", section);
	size_t n = strlen(name);
	double v = -1;

	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS) {
		for (const char *p = rep->str; p != NULL && *p; p = strchr(p, '\n')) {
			if (*p == '\n')
				p++;
			if (strncmp(p, name, n) == 0 && p[n] == ':') {
				v = strtod(p + n + 1, NULL);
				break;
			}
		}
	}
	freeReplyObject(rep);
	return v;
}

long long bench_redis_drop(redisContext *c, const char *prefix)
{
	char cursor[32] = "0";
	long long n = 0;

	do {
		redisReply *rep = redisCommand(c, "SCAN %s MATCH %s* COUNT 1000", cursor, prefix);

		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep != NULL)
				freeReplyObject(rep);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];

			redisAppendCommand(c, "DEL %b", k->str, (size_t)k->len);
		}
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			redisReply *u = NULL;

			if (redisGetReply(c, (void **)&u) != REDIS_OK) {
				freeReplyObject(rep);
				return -1;
			}
			n += u->type == REDIS_REPLY_INTEGER ? u->integer : 0;
			freeReplyObject(u);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0);
	return n;
}

void bench_redis_prefix(char *out, size_t cap, const char *tag)
{
	snprintf(out, cap, "swbench:%ld:%s:", (long)getpid(), tag);
}
