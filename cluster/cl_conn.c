/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One hiredis async connection and the event adapter under it. hiredis
 * 0.14 asks an event library, through five hooks, to watch its socket;
 * here the hooks only set two flags, and cl_conn_poll() polls every open
 * socket with a zero timeout and calls hiredis back, so nothing ever waits.
 *
 * hiredis frees a context on its own when the connection fails (a read or
 * write error, EOF, a refused connect): it calls every pending reply
 * callback with a NULL reply, then the disconnect callback (the connect
 * callback with an error if it never connected). Both mark the connection
 * lost for its owner; every reply callback starts with cl_conn_answered(),
 * which says NULL for those NULL replies and for a connection closed here.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cl_internal.h"

/* A round of cl_run() reads at most this many times per connection
 * (hiredis reads 16 KiB at a time): a resync of many bindings is spread
 * over rounds instead of holding the control plane. */
#define CL_POLL_ROUNDS 32

static void ev_add_read(void *p)
{
	((struct cl_conn *)p)->want_rd = true;
}

static void ev_del_read(void *p)
{
	((struct cl_conn *)p)->want_rd = false;
}

static void ev_add_write(void *p)
{
	((struct cl_conn *)p)->want_wr = true;
}

static void ev_del_write(void *p)
{
	((struct cl_conn *)p)->want_wr = false;
}

static void ev_cleanup(void *p)
{
	ev_del_read(p);
	ev_del_write(p);
}

/* hiredis is freeing the context: ac->data is NULL when cl_conn_close()
 * began it (nothing to tell), the connection otherwise. */
static void lost(const redisAsyncContext *ac, const char *what)
{
	struct cl_conn *c = ac->data;

	if (!c)
		return;
	c->ac = NULL;
	c->lost = true;
	/* The context's own error: ac->err is copied from it only later. */
	cl_set_error(c->cl, "%s %s: %s", c->name, c->addr, ac->c.err ? ac->c.errstr : what);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct cl_conn *c = ac->data;

	if (!c)
		return;
	if (status != REDIS_OK) {
		lost(ac, "connect failed");
		return;
	}
	c->pending--;
	c->since_ms = c->cl->now;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	lost(ac, "connection closed");
}

/* Redis answers AUTH with an error when it has no password at all: that
 * one is harmless (the same password is sent everywhere, sentinels too). */
static void on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);

	(void)priv;
	if (c && cl_reply_is_err(r) && !strstr(r->str, "without any password configured"))
		cl_conn_fail(c, "AUTH: %s", r->str);
}

/*
 * Start a non-blocking connect to host:port, with AUTH queued when a
 * password is set. A host that is a name is resolved by hiredis with
 * getaddrinfo(), which blocks: configure addresses (docs/cluster.md).
 * @return 0, or -1 (cl's last error says why; nothing is open).
 */
int cl_conn_open(struct cl_conn *c, const char *host, uint16_t port)
{
	redisAsyncContext *ac = redisAsyncConnect(host, port);

	snprintf(c->addr, sizeof(c->addr), "%s:%u", host, port);
	if (!ac) {
		cl_set_error(c->cl, "%s %s: out of memory", c->name, c->addr);
		return -1;
	}
	if (ac->err) {
		cl_set_error(c->cl, "%s %s: %s", c->name, c->addr, ac->errstr);
		redisAsyncFree(ac);
		return -1;
	}
	c->ac = ac;
	c->want_rd = c->want_wr = false;
	c->lost = false;
	c->pending = 1; /* the connect itself */
	c->since_ms = c->cl->now;
	c->extra_ms = 0;
	ac->data = c;
	ac->ev.data = c;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect); /* asks for write: the connect's end */
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	redisEnableKeepAlive(&ac->c);
	if (c->cl->cfg.password[0] &&
	    cl_conn_cmd(c, on_auth, NULL, 0, "AUTH", c->cl->cfg.password, NULL) < 0) {
		cl_conn_close(c);
		c->lost = false;
		return -1;
	}
	return 0;
}

/* Close now (inside one of its callbacks, hiredis frees it when the
 * callback returns). Pending callbacks get NULL; no lost flag is set. */
void cl_conn_close(struct cl_conn *c)
{
	redisAsyncContext *ac = c->ac;

	if (!ac)
		return;
	c->ac = NULL;
	c->pending = 0;
	ac->data = NULL;
	redisAsyncFree(ac);
}

/* Close for an error its owner must act on: the error is kept (after the
 * connection's name and address), lost set. */
void cl_conn_fail(struct cl_conn *c, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cl_set_error(c->cl, "%s %s: %s", c->name, c->addr, msg);
	cl_conn_close(c);
	c->lost = true;
}

/*
 * Queue one command (argv copied by hiredis). @p extra_ms: time allowed
 * beyond timeout_ms for its answer (a blocking read).
 * @return 0, or -1 (the connection is failed: lost is set).
 */
int cl_conn_send(struct cl_conn *c, redisCallbackFn *fn, void *priv, int argc, const char **argv,
		 const size_t *lens, uint32_t extra_ms)
{
	if (!c->ac)
		return -1;
	if (redisAsyncCommandArgv(c->ac, fn, priv, argc, argv, lens) != REDIS_OK) {
		cl_conn_fail(c, "cannot queue %.*s", (int)lens[0], argv[0]);
		return -1;
	}
	if (c->pending++ == 0)
		c->since_ms = c->cl->now;
	c->extra_ms = extra_ms;
	return 0;
}

/* cl_conn_send() of a command of NUL-terminated strings (NULL ends them). */
int cl_conn_cmd(struct cl_conn *c, redisCallbackFn *fn, void *priv, uint32_t extra_ms, ...)
{
	const char *argv[CL_CMD_MAX];
	size_t lens[CL_CMD_MAX];
	const char *a;
	va_list ap;
	int n = 0;

	va_start(ap, extra_ms);
	while ((a = va_arg(ap, const char *)) != NULL && n < CL_CMD_MAX) {
		argv[n] = a;
		lens[n++] = strlen(a);
	}
	va_end(ap);
	return cl_conn_send(c, fn, priv, n, argv, lens, extra_ms);
}

/* At the top of each reply callback: the connection the reply is for, or
 * NULL (a NULL reply of a context being freed, or one closed here). */
struct cl_conn *cl_conn_answered(redisAsyncContext *ac, const redisReply *r)
{
	struct cl_conn *c = ac->data;

	if (!r || !c || c->ac != ac)
		return NULL;
	c->pending--;
	c->since_ms = c->cl->now;
	return c;
}

/* Waiting (for the connect or an answer) longer than allowed. */
bool cl_conn_timed_out(const struct cl_conn *c)
{
	const struct cl *cl = c->cl;

	return c->ac && c->pending &&
	       cl->now - c->since_ms > (uint64_t)cl->cfg.timeout_ms + c->extra_ms;
}

bool cl_reply_is_err(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR;
}

/* What to say of an answer that is not the one expected. */
const char *cl_reply_what(const redisReply *r)
{
	return cl_reply_is_err(r)	    ? r->str
	       : r->type == REDIS_REPLY_NIL ? "nil"
					    : "unexpected answer";
}

/* Errors that say this server cannot take our writes or reads any more:
 * demoted by a failover, loading, its master gone, our credentials or our
 * functions refused. The link drops it and finds the master again. */
bool cl_err_is_fatal(const char *msg)
{
	static const char *const fatal[] = {
		"READONLY",  "LOADING", "MASTERDOWN", "NOAUTH",
		"WRONGPASS", "NOPERM",	"NOSCRIPT",   "ERR Function not found"};

	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (!strncmp(msg, fatal[i], strlen(fatal[i])))
			return true;
	return false;
}

/*
 * hiredis writes with write(): to a server whose reset came in after the
 * poll, that raises SIGPIPE, which kills the process unless ignored. The
 * control plane's thread is not the link's to change for good, so SIGPIPE
 * is blocked around the write and one it raised is taken back before the
 * mask is restored; the write fails with EPIPE and hiredis drops the
 * connection. (The read goes first, so a reset seen by poll() never gets
 * this far.) A few system calls, only when there is something to write.
 */
static void handle_write(redisAsyncContext *ac)
{
	static const struct timespec zero;
	sigset_t pipe, old, pending;
	bool was_pending;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	redisAsyncHandleWrite(ac);
	if (!was_pending && !sigpending(&pending) && sigismember(&pending, SIGPIPE))
		sigtimedwait(&pipe, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void handle(struct cl_conn *c, redisAsyncContext *ac, short rev)
{
	if (rev & (POLLIN | POLLERR | POLLHUP))
		redisAsyncHandleRead(ac);
	/* The read may have ended the context (c->ac changes then). */
	if (c->ac == ac && c->want_wr && (rev & (POLLOUT | POLLERR | POLLHUP)))
		handle_write(ac);
}

/* The event loop's one turn: every open socket polled, zero timeout,
 * repeated while something is ready (up to CL_POLL_ROUNDS). */
void cl_conn_poll(struct cl *cl)
{
	struct cl_conn *all[] = {&cl->s.conn, &cl->w.conn, &cl->r.conn};

	for (unsigned round = 0; round < CL_POLL_ROUNDS; round++) {
		struct pollfd pfd[3];
		struct cl_conn *pc[3];
		redisAsyncContext *pac[3];
		int n = 0;

		for (unsigned i = 0; i < 3; i++) {
			struct cl_conn *c = all[i];

			if (!c->ac || !(c->want_rd || c->want_wr))
				continue;
			pfd[n].fd = c->ac->c.fd;
			pfd[n].events =
				(short)((c->want_rd ? POLLIN : 0) | (c->want_wr ? POLLOUT : 0));
			pfd[n].revents = 0;
			pc[n] = c;
			pac[n] = c->ac;
			n++;
		}
		if (n == 0 || poll(pfd, (nfds_t)n, 0) <= 0)
			return; /* EINTR too: the next round polls again */
		for (int i = 0; i < n; i++) {
			/* A callback of an earlier one may have closed it. */
			if (pfd[i].revents && pc[i]->ac == pac[i])
				handle(pc[i], pac[i], pfd[i].revents);
		}
	}
}
