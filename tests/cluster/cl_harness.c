/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster link's test harness (cl_harness.h): real Redis processes,
 * recorded links, bounded driving.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/cluster/cl_harness.h"

#define H_MAX_LINKS 8

static struct h_link *links[H_MAX_LINKS];

uint16_t h_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void mkdir_tmp(struct h_redis *r)
{
	if (r->dir[0])
		return;
	snprintf(r->dir, sizeof(r->dir), "/tmp/cl_test.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
}

static void spawn(struct h_redis *r, const char *const *argv)
{
	char log[96];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", r->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that dies takes its servers along */
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	r->pid = pid;
}

static void wait_ping(struct h_redis *r)
{
	uint64_t end = sw_mono_ms() + 5000;

	while (sw_mono_ms() < end) {
		struct timeval tv = {0, 200000};
		redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
		redisReply *rep = c && !c->err ? redisCommand(c, "PING") : NULL;
		bool ok = rep != NULL; /* PONG, or NOAUTH: it answers */

		if (rep)
			freeReplyObject(rep);
		if (c)
			redisFree(c);
		if (ok)
			return;
		usleep(20000);
	}
	fail_msg("redis on port %u did not answer PING (see %s/log)", r->port, r->dir);
}

void h_redis_start(struct h_redis *r, uint16_t port, const char *const *extra)
{
	const char *argv[32];
	char p[8];
	int n = 0;

	mkdir_tmp(r);
	r->port = port ? port : h_free_port();
	snprintf(p, sizeof(p), "%u", r->port);
	argv[n++] = "redis-server";
	argv[n++] = "--port";
	argv[n++] = p;
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = r->dir;
	argv[n++] = "--enable-debug-command";
	argv[n++] = "yes";
	for (; extra && *extra && n < 31; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	spawn(r, argv);
	wait_ping(r);
}

void h_sentinel_start(struct h_redis *r, uint16_t master_port)
{
	char conf[96];
	const char *argv[] = {"redis-server", conf, "--sentinel", NULL};
	FILE *f;

	mkdir_tmp(r);
	r->port = h_free_port();
	snprintf(conf, sizeof(conf), "%s/sentinel.conf", r->dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f,
		"port %u\nbind 127.0.0.1\ndir %s\n"
		"sentinel monitor sipwake 127.0.0.1 %u 1\n"
		"sentinel down-after-milliseconds sipwake 1000\n"
		"sentinel failover-timeout sipwake 5000\n",
		r->port, r->dir, master_port);
	fclose(f);
	spawn(r, argv);
	wait_ping(r);
}

void h_redis_kill(struct h_redis *r, int sig)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, sig);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}

void h_redis_clean(struct h_redis *r)
{
	char cmd[128];

	h_redis_kill(r, SIGKILL);
	if (!r->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", r->dir);
	r->dir[0] = '\0';
}

redisContext *h_cli(uint16_t port)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	redisSetTimeout(c, tv);
	return c;
}

redisReply *h_cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	return r;
}

long long h_int(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;
	long long v;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

void h_cfg(struct cl_config *cfg, const char *edge, uint16_t port)
{
	cl_config_defaults(cfg);
	snprintf(cfg->edge, sizeof(cfg->edge), "%s", edge);
	snprintf(cfg->redis.host, sizeof(cfg->redis.host), "127.0.0.1");
	cfg->redis.port = port;
	cfg->retry_ms = 100;
}

static void on_done(void *arg, uint64_t ticket, bool ok)
{
	struct h_link *l = arg;

	assert_true(l->ndone < H_MAX_DONE);
	l->done_ticket[l->ndone] = ticket;
	l->done_ok[l->ndone++] = ok;
}

static void copy(char *dst, size_t cap, const char *s, size_t len)
{
	assert_true(len < cap);
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static void on_change(void *arg, enum cl_change kind, const struct cl_binding *b)
{
	struct h_link *l = arg;
	struct h_change *c;

	assert_true(l->nchanges < H_MAX_CHANGES);
	c = &l->changes[l->nchanges++];
	c->kind = kind;
	copy(c->aor, sizeof(c->aor), b->aor, b->aor_len);
	copy(c->key, sizeof(c->key), b->key, b->key_len);
	copy(c->val, sizeof(c->val), b->val, b->val_len);
	copy(c->edge, sizeof(c->edge), b->edge, b->edge_len);
	c->val_len = b->val_len;
	c->key_len = b->key_len;
	c->stamp = b->stamp;
	c->expires_at = b->expires_at;
}

static void on_state(void *arg, enum cl_state s)
{
	struct h_link *l = arg;

	assert_true(l->nstates < H_MAX_STATES);
	l->states[l->nstates++] = s;
}

void h_link_new(struct h_link *l, const struct cl_config *cfg)
{
	struct cl_ops ops = {.arg = l, .done = on_done, .change = on_change, .state = on_state};
	char err[128] = "";

	memset(l, 0, sizeof(*l));
	l->changes = calloc(H_MAX_CHANGES, sizeof(*l->changes));
	assert_non_null(l->changes);
	l->cl = cl_new(cfg, &ops, err, sizeof(err));
	assert_non_null(l->cl);
	for (unsigned i = 0; i < H_MAX_LINKS; i++)
		if (!links[i]) {
			links[i] = l;
			return;
		}
	fail_msg("too many links");
}

void h_link_free(struct h_link *l)
{
	for (unsigned i = 0; i < H_MAX_LINKS; i++)
		if (links[i] == l)
			links[i] = NULL;
	cl_free(l->cl);
	l->cl = NULL;
	free(l->changes);
	l->changes = NULL;
}

void h_pump(void)
{
	for (unsigned i = 0; i < H_MAX_LINKS; i++)
		if (links[i] && !links[i]->paused)
			cl_run(links[i]->cl, sw_mono_ms());
}

struct cl_stats h_stats(const struct h_link *l)
{
	struct cl_stats s;

	cl_get_stats(l->cl, &s);
	return s;
}

struct cl_binding h_bind(const char *aor, const char *key, const char *val, size_t val_len,
			 int64_t stamp, int64_t expires_at)
{
	return (struct cl_binding){
		.aor = aor,
		.aor_len = strlen(aor),
		.key = key,
		.key_len = key ? strlen(key) : 0,
		.val = val,
		.val_len = val_len,
		.stamp = stamp,
		.expires_at = expires_at,
	};
}

bool h_submit_wait(struct h_link *l, struct cl_batch *b)
{
	uint64_t ticket = 0;
	unsigned before = l->ndone;

	assert_int_equal(cl_submit(l->cl, b, &ticket), 0);
	assert_true(H_UNTIL(3000, l->ndone > before));
	assert_int_equal(l->ndone, before + 1);
	assert_int_equal(l->done_ticket[before], ticket);
	return l->done_ok[before];
}

struct h_redis h_srv;
redisContext *h_rc;

int h_group_setup(void **state)
{
	(void)state;
	h_redis_start(&h_srv, 0, NULL);
	h_rc = h_cli(h_srv.port);
	return 0;
}

int h_group_teardown(void **state)
{
	(void)state;
	redisFree(h_rc);
	h_redis_clean(&h_srv);
	return 0;
}

int h_flush(void **state)
{
	(void)state;
	freeReplyObject(h_cmd(h_rc, "FLUSHALL"));
	return 0;
}
