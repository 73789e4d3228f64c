/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread's connection code driven on the calling thread over a
 * socketpair (st_fuzz.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/util.h>

#include "tests/fuzz/st_fuzz.h"

/* Loop passes before a connection that should have moved is a failure. */
#define PUMP_MAX 100000

struct st *stz_new(uint8_t tp)
{
	struct st_config cfg;
	char err[256] = "";
	struct st *st;

	/* The harness writes into a socket whose other end may have closed. */
	signal(SIGPIPE, SIG_IGN);
	st_config_defaults(&cfg);
	cfg.n_listeners = 1;
	cfg.listeners[0].tp = tp;
	cfg.listeners[0].port = 5060;
	/* No message-rate closes: the target checks framing, not the bucket. */
	cfg.msg_rate = cfg.msg_burst = 1u << 30;
	cfg.ring_size = 8192;
	st = st_new(&cfg, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s: st_new: %s\n", stz_name, err);
		abort();
	}
	/* As st_listen_open() sets it, without opening the listener. */
	st->lis[0].layer = tp == SW_TP_WS ? &st_ws_layer : NULL;
	return st;
}

static void take_up(struct st *st, struct stz_run *r)
{
	struct st_up *u[64];
	unsigned n;

	while ((n = st_poll(st, u, 64)) != 0)
		for (unsigned i = 0; i < n; i++) {
			if (u[i]->kind == ST_UP_SIP) {
				STZ_CHECK(r->why < 0); /* nothing after the connection's end */
				STZ_CHECK(r->n_msgs < STZ_MAX_MSGS);
				r->msg[r->n_msgs] = malloc(u[i]->len ? u[i]->len : 1);
				STZ_CHECK(r->msg[r->n_msgs] != NULL);
				memcpy(r->msg[r->n_msgs], u[i]->data, u[i]->len);
				r->len[r->n_msgs++] = u[i]->len;
			} else {
				STZ_CHECK(u[i]->kind == ST_UP_CLOSED && r->why < 0);
				r->why = u[i]->why;
			}
			free(u[i]);
		}
}

/* What the connection wrote toward the peer, appended to r->out. */
static int take_out(int fd, struct stz_run *r)
{
	uint8_t buf[4096];
	ssize_t k;

	while ((k = recv(fd, buf, sizeof(buf), 0)) > 0) {
		uint8_t *o = realloc(r->out, r->n_out + (size_t)k);

		STZ_CHECK(o != NULL);
		memcpy(o + r->n_out, buf, (size_t)k);
		r->out = o;
		r->n_out += (size_t)k;
	}
	return k == 0; /* EOF: the connection's end is closed */
}

/* Run the loop until the connection has read all that waits for it (or
 * stopped reading, or closed). @return 1 while it is open. */
static int pump(struct st *st, uint64_t id, int conn_fd, int peer_fd, struct stz_run *r)
{
	for (unsigned i = 0; i < PUMP_MAX; i++) {
		struct st_conn *c = st_tab_get(st, id);
		int avail = 0;

		take_up(st, r);
		take_out(peer_fd, r);
		if (!c)
			return 0;
		if (c->state != ST_CS_DRAIN && ioctl(conn_fd, FIONREAD, &avail) == 0 && avail == 0)
			return 1;
		event_base_loop(st->base, EVLOOP_NONBLOCK);
	}
	STZ_CHECK(!"the connection neither read nor closed");
	return 0;
}

void stz_run(struct st *st, uint32_t max_message, const uint8_t *p, size_t n,
	     size_t (*chunk)(void *arg, size_t left), void *arg, struct stz_run *r)
{
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct st_bound b = {.lis = &st->lis[0]};
	uint64_t id = st->next_id;
	int sv[2];
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->why = -1;
	st->cfg.max_message = max_message;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	STZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	STZ_CHECK(evutil_make_socket_nonblocking(sv[0]) == 0);
	STZ_CHECK(evutil_make_socket_nonblocking(sv[1]) == 0);
	st_conn_accept(&b, sv[0], (const struct sockaddr *)&peer);
	STZ_CHECK(st_tab_get(st, id) != NULL);

	while (off < n && pump(st, id, sv[0], sv[1], r)) {
		size_t k = chunk(arg, n - off);
		ssize_t w;

		STZ_CHECK(k >= 1 && k <= n - off);
		w = send(sv[1], p + off, k, MSG_NOSIGNAL);
		if (w < 0) {
			/* Its end closed meanwhile (EPIPE), or the socket is full. */
			STZ_CHECK(errno == EPIPE || errno == ECONNRESET || errno == EAGAIN);
			continue;
		}
		off += (size_t)w;
	}
	r->fed = off;
	r->closed_early = !pump(st, id, sv[0], sv[1], r);
	/* The peer is done: EOF closes the connection (ST_CLOSE_peer) unless
	 * it has closed or is draining already. */
	shutdown(sv[1], SHUT_WR);
	for (unsigned i = 0; i < PUMP_MAX && st_tab_get(st, id); i++) {
		take_out(sv[1], r);
		event_base_loop(st->base, EVLOOP_NONBLOCK);
	}
	STZ_CHECK(st_tab_get(st, id) == NULL);
	/* bufferevent_free() may finish in the loop. */
	event_base_loop(st->base, EVLOOP_NONBLOCK);
	for (unsigned i = 0; i < PUMP_MAX && !take_out(sv[1], r); i++)
		;
	take_up(st, r);
	close(sv[1]);
	STZ_CHECK(r->why >= 0 && r->why < ST_CLOSE_N);
	STZ_CHECK(st->n_conns == 0 && TAILQ_EMPTY(&st->conns));
}

void stz_run_free(struct stz_run *r)
{
	for (unsigned i = 0; i < r->n_msgs; i++)
		free(r->msg[i]);
	free(r->out);
	memset(r, 0, sizeof(*r));
}

size_t stz_one_write(void *arg, size_t left)
{
	(void)arg;
	return left;
}

size_t stz_chunked(void *arg, size_t left)
{
	struct stz_rng *g = arg;
	size_t k;

	g->s ^= g->s << 13;
	g->s ^= g->s >> 17;
	g->s ^= g->s << 5;
	k = 1 + g->s % (1u << g->scale);
	return k < left ? k : left;
}

void stz_rng_seed(struct stz_rng *g, const uint8_t *data)
{
	g->scale = (data[0] >> 3) & 15;
	memcpy(&g->s, data + 1, 4);
	g->s |= 1; /* xorshift never leaves 0 */
}
