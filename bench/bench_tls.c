/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS load generator for a SIP edge (docs/performance.md, "bench-tls.py"):
 * one thread, non-blocking sockets on epoll, OpenSSL. scripts/bench-tls.py
 * runs it against sipwake's TLS listener and against Kamailio's.
 *
 *   bench_tls --mode handshakes --count N --conc C   open, handshake, close
 *   bench_tls --mode messages --conns K --count N --window W --mix reg|call|mixed
 *   bench_tls --mode idle --count M --conc C --hold S  M idle connections for S s
 * common: --dst IP --port P --src IP[,IP...] (bound round robin) --ca FILE
 *         --plain (TCP without TLS: idle and handshakes, the transport's share)
 *         --time T (the whole run, default 60 s) --conn-timeout T (one
 *         connection's handshake, default 10 s) --drain T (messages: how
 *         long the last answers are awaited, default 5 s)
 *
 * messages: every connection first registers its own device (CSeq 1) and
 * waits for the 200; then, timed, each keeps up to W transactions in
 * flight: REGISTER refreshes (reg), INVITE -> 200 -> BYE -> 200 (call; no
 * ACK: the sink does not retransmit), or both alternating (mixed). The
 * figure is messages crossing the edge per second: the requests sent plus
 * the answers received here, each counted once.
 *
 * Prints one "RESULT key=value ..." line; idle also prints "ESTABLISHED
 * n=..." when it starts holding, so the caller can read the edge's memory
 * then. Every loop is bounded by --time (and a count).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench_tls.h"
#include "bench_tls_sip.h"

#define BUF_CAP 65536 /* per connection, messages mode only */

static struct bt_opts o;

enum cst { C_FREE, C_CONNECTING, C_HANDSHAKE, C_READY };

struct conn {
	int fd;
	SSL *ssl;
	uint8_t st, registered, reg_pending;
	uint32_t ev; /* the epoll interest set now */
	uint32_t cseq, inflight;
	double since; /* the attempt's start */
	struct bt_app app;
	char ip[INET_ADDRSTRLEN];
	uint32_t rlen, olen, ooff;
	char *rbuf, *obuf;
};

static struct {
	int ep;
	SSL_CTX *ctx;
	struct conn *c;
	unsigned n;	/* slots */
	unsigned *free; /* handshakes mode: free slots */
	unsigned nfree;
	unsigned long opened, ok, failed, lost, handshaking, registered;
	unsigned long req, ans, errors, calls, sent_measured; /* messages */
	long open[3]; /* transactions without a final answer: REGISTER, INVITE, BYE */
	double t_stop;
	double t0, t_last;
	int measuring, stop_sending;
	char proto[16], cipher[64], first_error[24];
} g;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_ev(struct conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.u32 = (uint32_t)(c - g.c)};

	if (ev != c->ev && epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->ev = ev;
}

static void conn_close(struct conn *c, int ok)
{
	if (c->st == C_CONNECTING || c->st == C_HANDSHAKE)
		g.handshaking--;
	if (c->ssl != NULL) {
		/* close_notify, once, without waiting for the peer's: a
		 * client that is done does not linger either. */
		if (ok)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->st = C_FREE;
	if (o.mode == M_HANDSHAKES)
		g.free[g.nfree++] = (unsigned)(c - g.c);
}

static void conn_fail(struct conn *c)
{
	if (c->st == C_READY)
		g.lost++;
	else
		g.failed++;
	conn_close(c, 0);
}

static int conn_open(unsigned slot)
{
	struct conn *c = &g.c[slot];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o.port)};
	struct sockaddr_in la = {.sin_family = AF_INET};
	struct epoll_event e = {.events = EPOLLOUT, .data.u32 = slot};
	socklen_t ll = sizeof(la);
	int one = 1;

	memset(c, 0, offsetof(struct conn, rbuf));
	g.opened++;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		g.failed++; /* EMFILE: counted, the slot stays free */
		if (o.mode == M_HANDSHAKES)
			g.free[g.nfree++] = slot;
		return -errno;
	}
	g.handshaking++;
	c->st = C_CONNECTING;
	c->since = now_s();
	c->ev = EPOLLOUT;
	inet_pton(AF_INET, o.dst, &sa.sin_addr);
	/* The port is chosen at connect() by the 4-tuple, so one local
	 * address serves more than the ephemeral range's bind()-time ports. */
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o.nsrc > 0) {
		inet_pton(AF_INET, o.srcs[g.opened % o.nsrc], &la.sin_addr);
		if (bind(c->fd, (struct sockaddr *)&la, sizeof(la)) != 0)
			goto fail;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		goto fail;
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &e) != 0)
		goto fail;
	getsockname(c->fd, (struct sockaddr *)&la, &ll);
	inet_ntop(AF_INET, &la.sin_addr, c->ip, sizeof(c->ip));
	c->app = (struct bt_app){.ip = c->ip, .port = ntohs(la.sin_port), .dev = slot};
	return 0;
fail:
	conn_fail(c);
	return -errno;
}

/* Write what is queued; the rest waits for EPOLLOUT. */
static void flush(struct conn *c)
{
	while (c->ooff < c->olen) {
		int n = SSL_write(c->ssl, c->obuf + c->ooff, (int)(c->olen - c->ooff));

		if (n > 0) {
			c->ooff += (uint32_t)n;
			continue;
		}
		if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_WRITE) {
			set_ev(c, EPOLLIN | EPOLLOUT);
			return;
		}
		if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ)
			return;
		conn_fail(c);
		return;
	}
	c->olen = c->ooff = 0;
	set_ev(c, EPOLLIN);
}

static void queue(struct conn *c, int len, int kind)
{
	if (len < 0)
		return;
	c->olen += (uint32_t)len;
	g.open[kind]++;
	g.req++;
	if (g.measuring)
		g.sent_measured++;
}

/* Start the next transaction of the mix on @c; 0 if none may start now. */
static int next_request(struct conn *c)
{
	char *p = c->obuf + c->olen;
	size_t cap = BUF_CAP - c->olen;
	int call = strcmp(o.mix, "call") == 0 || (strcmp(o.mix, "mixed") == 0 && (c->cseq & 1));

	/* RFC 3261 §10.2: no new REGISTER before the previous one's final
	 * answer; the window fills with calls meanwhile. */
	if (!call && c->reg_pending) {
		if (strcmp(o.mix, "reg") == 0)
			return 0;
		call = 1;
	}
	c->inflight++;
	if (call) {
		uint64_t id = ((uint64_t)(c - g.c) << 32) | ++g.calls;

		c->cseq++;
		queue(c, bt_invite(p, cap, &c->app, id), 1);
	} else {
		c->reg_pending = 1;
		queue(c, bt_register(p, cap, &c->app, ++c->cseq), 0);
	}
	return 1;
}

static void pump(struct conn *c)
{
	for (unsigned i = 0; i < o.window && g.measuring && !g.stop_sending; i++) {
		if (c->inflight >= o.window || c->olen + 2048 > BUF_CAP)
			break;
		if (g.sent_measured >= o.count) {
			g.stop_sending = 1;
			g.t_stop = now_s();
			break;
		}
		if (!next_request(c))
			break;
	}
	flush(c);
}

static void answer(struct conn *c, const struct bt_answer *a)
{
	if (a->status == 0)
		return; /* a request from the edge: none expected */
	g.ans++;
	g.t_last = now_s();
	if (a->status < 200)
		return;
	if (a->status >= 300 && g.errors++ == 0)
		snprintf(g.first_error, sizeof(g.first_error), "%d/%s", a->status, a->method);
	if (strcmp(a->method, "REGISTER") == 0)
		c->reg_pending = 0;
	g.open[strcmp(a->method, "INVITE") == 0 ? 1 : strcmp(a->method, "BYE") == 0 ? 2 : 0]--;
	if (strcmp(a->method, "INVITE") == 0 && a->status < 300) {
		queue(c, bt_bye(c->obuf + c->olen, BUF_CAP - c->olen, &c->app, a->call, a->to_tag),
		      2);
		return; /* the slot stays taken until the BYE's answer */
	}
	if (c->inflight > 0)
		c->inflight--;
	if (strcmp(a->method, "REGISTER") == 0 && !c->registered) {
		c->registered = 1;
		if (++g.registered == o.conns) {
			/* Every device bound: the timed part starts. */
			g.measuring = 1;
			g.t0 = now_s();
			g.req = g.ans = g.errors = 0;
			g.first_error[0] = 0;
			for (unsigned i = 0; i < g.n; i++)
				if (g.c[i].st == C_READY && &g.c[i] != c)
					pump(&g.c[i]);
		}
	}
}

static void readable(struct conn *c)
{
	for (int guard = 0; guard < 64 && c->st == C_READY; guard++) {
		char sink[4096];
		char *dst = c->rbuf != NULL ? c->rbuf + c->rlen : sink;
		int cap = c->rbuf != NULL ? (int)(BUF_CAP - c->rlen) : (int)sizeof(sink);
		int n = c->ssl != NULL ? SSL_read(c->ssl, dst, cap) : (int)read(c->fd, dst, cap);
		struct bt_answer a;
		int used;

		if (n <= 0) {
			if (c->ssl != NULL ? SSL_get_error(c->ssl, n) != SSL_ERROR_WANT_READ
					   : n == 0 || errno != EAGAIN)
				conn_fail(c);
			return;
		}
		if (c->rbuf == NULL)
			continue; /* idle: session tickets, keepalives */
		c->rlen += (uint32_t)n;
		while ((used = bt_frame(c->rbuf, c->rlen, &a)) > 0) {
			answer(c, &a);
			memmove(c->rbuf, c->rbuf + used, c->rlen - (uint32_t)used);
			c->rlen -= (uint32_t)used;
		}
		if (used < 0 || c->rlen == BUF_CAP) {
			conn_fail(c);
			return;
		}
		pump(c);
	}
}

static void ready(struct conn *c)
{
	g.handshaking--;
	c->st = C_READY;
	g.ok++;
	if (g.proto[0] == 0 && c->ssl != NULL) {
		snprintf(g.proto, sizeof(g.proto), "%s", SSL_get_version(c->ssl));
		snprintf(g.cipher, sizeof(g.cipher), "%s", SSL_get_cipher_name(c->ssl));
	}
	if (o.mode == M_HANDSHAKES) {
		conn_close(c, 1);
		return;
	}
	set_ev(c, EPOLLIN);
	if (o.mode == M_MESSAGES) {
		c->inflight = 1;
		queue(c, bt_register(c->obuf, BUF_CAP, &c->app, ++c->cseq), 0);
		flush(c);
	}
}

static void handshake(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl), e = r == 1 ? 0 : SSL_get_error(c->ssl, r);

	if (r == 1)
		ready(c);
	else if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		set_ev(c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
	else
		conn_fail(c);
}

static void event(struct conn *c, uint32_t ev)
{
	int err = 0;
	socklen_t el = sizeof(err);

	switch (c->st) {
	case C_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0 ||
		    (ev & (EPOLLERR | EPOLLHUP))) {
			conn_fail(c);
			return;
		}
		if (o.plain) {
			ready(c);
			return;
		}
		c->ssl = SSL_new(g.ctx);
		if (c->ssl == NULL) {
			conn_fail(c);
			return;
		}
		SSL_set_fd(c->ssl, c->fd);
		SSL_set_connect_state(c->ssl);
		SSL_set_tlsext_host_name(c->ssl, "edge.sipwake.test");
		c->st = C_HANDSHAKE;
		handshake(c);
		break;
	case C_HANDSHAKE:
		handshake(c);
		break;
	case C_READY:
		if (ev & EPOLLOUT)
			flush(c);
		if (c->st == C_READY && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			readable(c);
		break;
	default:
		break;
	}
}

/* Open attempts up to --conc in flight; false once no more will be. */
static int refill(void)
{
	for (unsigned guard = 0; g.handshaking < o.conc && guard < o.conc; guard++) {
		if (o.mode == M_HANDSHAKES && g.opened < o.count && g.nfree > 0)
			conn_open(g.free[--g.nfree]);
		else if (o.mode != M_HANDSHAKES && g.opened < g.n)
			conn_open((unsigned)g.opened);
		else
			break;
	}
	return (o.mode == M_HANDSHAKES ? g.opened < o.count : g.opened < g.n) || g.handshaking > 0;
}

/* Attempts stuck past --conn-timeout give their slot back. */
static void sweep(double now)
{
	for (unsigned i = 0; i < g.n; i++)
		if ((g.c[i].st == C_CONNECTING || g.c[i].st == C_HANDSHAKE) &&
		    now - g.c[i].since > o.conn_timeout)
			conn_fail(&g.c[i]);
}

static void loop(double until, int holding)
{
	struct epoll_event ev[256];
	double last_sweep = now_s();

	for (;;) {
		double now = now_s();
		int busy = holding ? 1 : refill();

		if (now >= until)
			return;
		if (!busy && o.mode != M_MESSAGES)
			return;
		if (o.mode == M_MESSAGES && g.stop_sending) {
			unsigned long left = 0;

			for (unsigned i = 0; i < g.n; i++)
				left += g.c[i].st == C_READY ? g.c[i].inflight : 0;
			/* Answers that never come end the run after
			 * --drain s, counted as unanswered. */
			if (left == 0 || now - g.t_stop > o.drain)
				return;
		}
		if (o.mode == M_MESSAGES && !busy && g.registered + g.failed + g.lost >= o.conns &&
		    !g.measuring)
			return; /* some never registered: nothing to time */
		if (now - last_sweep > 1.0) {
			sweep(now);
			last_sweep = now;
		}
		int n = epoll_wait(g.ep, ev, 256, 50);

		for (int i = 0; i < n; i++)
			if (g.c[ev[i].data.u32].st != C_FREE)
				event(&g.c[ev[i].data.u32], ev[i].events);
	}
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

static int setup(void)
{
	g.ctx = SSL_CTX_new(TLS_client_method());
	if (g.ctx == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(g.ctx, TLS1_2_VERSION);
	/* Every handshake a full one, as a new app's: no session cache. */
	SSL_CTX_set_session_cache_mode(g.ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(g.ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS |
					SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (o.ca != NULL) {
		if (SSL_CTX_load_verify_locations(g.ctx, o.ca, NULL) != 1)
			return -1;
		SSL_CTX_set_verify(g.ctx, SSL_VERIFY_PEER, NULL);
	}
	g.n = o.mode == M_HANDSHAKES ? o.conc : o.mode == M_MESSAGES ? o.conns : (unsigned)o.count;
	if (o.mode == M_MESSAGES)
		o.conc = o.conc < o.conns ? o.conc : o.conns;
	g.c = calloc(g.n, sizeof(*g.c));
	g.free = calloc(g.n, sizeof(*g.free));
	g.ep = epoll_create1(0);
	if (g.c == NULL || g.free == NULL || g.ep < 0)
		return -1;
	for (unsigned i = 0; i < g.n; i++) {
		g.c[i].fd = -1;
		g.free[g.nfree++] = g.n - 1 - i;
		if (o.mode == M_MESSAGES) {
			g.c[i].rbuf = malloc(BUF_CAP);
			g.c[i].obuf = malloc(BUF_CAP);
			if (g.c[i].rbuf == NULL || g.c[i].obuf == NULL)
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	double t0, c0, end, secs;

	if (bt_parse(argc, argv, &o) != 0 || setup() != 0) {
		fprintf(stderr, "%s", bt_usage);
		ERR_print_errors_fp(stderr);
		return 2;
	}
	/* A peer that closes first must not kill the generator mid-write. */
	signal(SIGPIPE, SIG_IGN);
	t0 = now_s();
	c0 = cpu_s();
	end = t0 + o.time_s;
	loop(end, 0);
	secs = now_s() - t0;
	if (o.mode == M_HANDSHAKES) {
		printf("RESULT mode=handshakes ok=%lu failed=%lu secs=%.3f rate=%.1f cpu=%.3f "
		       "proto=%s cipher=%s\n",
		       g.ok, g.failed, secs, g.ok / secs, cpu_s() - c0, g.proto, g.cipher);
	} else if (o.mode == M_MESSAGES) {
		double span = g.measuring ? g.t_last - g.t0 : 0;

		printf("RESULT mode=messages conns=%lu registered=%lu requests=%lu answers=%lu "
		       "errors=%lu first_error=%s lost=%lu open_reg=%ld open_inv=%ld open_bye=%ld "
		       "secs=%.3f "
		       "rate=%.1f cpu=%.3f proto=%s cipher=%s\n",
		       g.ok, g.registered, g.req, g.ans, g.errors,
		       g.first_error[0] ? g.first_error : "-", g.lost + g.failed, g.open[0],
		       g.open[1], g.open[2], span, span > 0 ? (g.req + g.ans) / span : 0.0,
		       cpu_s() - c0, g.proto, g.cipher);
	} else {
		printf("ESTABLISHED n=%lu failed=%lu secs=%.3f\n", g.ok - g.lost, g.failed, secs);
		fflush(stdout);
		loop(now_s() + o.hold_s, 1);
		printf("RESULT mode=idle established=%lu alive=%lu failed=%lu lost=%lu secs=%.3f "
		       "cpu=%.3f proto=%s\n",
		       g.ok, g.ok - g.lost, g.failed, g.lost, secs, cpu_s() - c0, g.proto);
	}
	fflush(stdout);
	return 0;
}
