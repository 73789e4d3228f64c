/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, control protocol: one command a line on stdin (per-token
 * behaviour, delay, access-token lifetime and revocation, GOAWAY, frozen
 * connections, event lines on or off, stats, quit), each answered OK or
 * ERR on stdout; stdin closed ends the server. tests/pushd/README.md has
 * the commands; the event lines are ts_emit.c's.
 */
#include "tests/pushd/ts_server.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void control_line(struct ts_server *srv, char *line)
{
	char cmd[32] = "", a1[256] = "";
	int off = 0;

	if (sscanf(line, "%31s %255s %n", cmd, a1, &off) < 1) {
		ts_emit(srv, "ERR empty");
		return;
	}
	if (!strcmp(cmd, "set") || !strcmp(cmd, "once")) {
		if (!off || ts_beh_set(a1, line + off, cmd[0] == 'o') != 0) {
			ts_emit(srv, "ERR bad behaviour or too many tokens");
			return;
		}
	} else if (!strcmp(cmd, "kind")) {
		char k[16] = "";

		if (!off || sscanf(line + off, "%15s", k) != 1 || ts_beh_set_kind(a1, k) != 0) {
			ts_emit(srv, "ERR kind <token> voip|regular");
			return;
		}
	} else if (!strcmp(cmd, "wpsub")) {
		char keys[160];

		/* The answer carries the subscription, as the browser gives it to the app. */
		if (!a1[0] || ts_wp_mint(a1, keys, sizeof(keys)) != 0) {
			ts_emit(srv, "ERR wpsub <id>: too many or too long");
			return;
		}
		ts_emit(srv, "OK wpsub %s %s/wp/%s %s", a1, srv->origin, a1, keys);
		return;
	} else if (!strcmp(cmd, "clear")) {
		ts_beh_clear();
	} else if (!strcmp(cmd, "delay")) {
		srv->delay_ms = (unsigned)atoi(a1);
	} else if (!strcmp(cmd, "fcm-ttl")) {
		srv->fcm_ttl = (unsigned)atoi(a1);
	} else if (!strcmp(cmd, "revoke")) {
		ts_tokens_revoke();
	} else if (!strcmp(cmd, "events")) {
		srv->events_on = !strcmp(a1, "on");
	} else if (!strcmp(cmd, "goaway")) {
		for (struct sess *s = srv->sessions.next, *n; s != &srv->sessions; s = n) {
			n = s->next;
			nghttp2_session_terminate_session2(
				s->ng, nghttp2_session_get_last_proc_stream_id(s->ng),
				NGHTTP2_NO_ERROR);
			if (ts_sess_send(s) != 0)
				ts_sess_free(s);
		}
	} else if (!strcmp(cmd, "freeze")) {
		/* Stop (or resume) reading on the open connections: PINGs go unanswered. */
		for (struct sess *s = srv->sessions.next; s != &srv->sessions; s = s->next)
			if (!strcmp(a1, "on"))
				bufferevent_disable(s->bev, EV_READ);
			else
				bufferevent_enable(s->bev, EV_READ);
	} else if (!strcmp(cmd, "stats")) {
		ts_emit(srv, "STATS requests=%lu conns=%lu", srv->n_requests, srv->n_conns);
		return;
	} else if (!strcmp(cmd, "quit")) {
		event_base_loopbreak(srv->base);
	} else {
		ts_emit(srv, "ERR unknown command %s", cmd);
		return;
	}
	ts_emit(srv, "OK %s", cmd);
}

void ts_control_cb(struct bufferevent *bev, void *arg)
{
	char *line;

	while ((line = evbuffer_readln(bufferevent_get_input(bev), NULL, EVBUFFER_EOL_LF)) !=
	       NULL) {
		control_line(arg, line);
		free(line);
	}
}

void ts_control_event(struct bufferevent *bev, short what, void *arg)
{
	struct ts_server *srv = arg;

	(void)bev;
	(void)what;
	event_base_loopbreak(srv->base); /* stdin closed: the test is gone */
}
