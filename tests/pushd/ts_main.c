/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pd_testsrv: an APNs / FCM HTTP v1 / Google OAuth2-like HTTP/2 TLS server
 * for tests and benchmarks. Structure follows nghttp2's
 * examples/libevent-server.c (libevent bufferevent_openssl + nghttp2's
 * server session). Control protocol on stdin/stdout: tests/pushd/README.md.
 * This file has the command line, the event lines on stdout and the loop;
 * connections are in ts_sess.c, answers in ts_answer.c, the control
 * protocol in ts_control.c (their shared state: ts_server.h).
 */
#include "tests/pushd/ts_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: pd_testsrv --cert PEM --key PEM [--port N] [--delay-ms N]\n"
			"  [--max-streams N] [--apns-key PUB --apns-kid KID --apns-team TEAM\n"
			"  --apns-bundle ID] [--fcm-key PUB --fcm-email EMAIL --fcm-project P]\n"
			"  [--client-ca PEM]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cert", 1, NULL, 'c'},	       {"key", 1, NULL, 'k'},
		{"port", 1, NULL, 'p'},	       {"delay-ms", 1, NULL, 'd'},
		{"max-streams", 1, NULL, 'm'}, {"apns-key", 1, NULL, 'A'},
		{"apns-kid", 1, NULL, 'K'},    {"apns-team", 1, NULL, 'T'},
		{"apns-bundle", 1, NULL, 'B'}, {"fcm-key", 1, NULL, 'F'},
		{"fcm-email", 1, NULL, 'E'},   {"fcm-project", 1, NULL, 'P'},
		{"client-ca", 1, NULL, 'C'},   {NULL, 0, NULL, 0},
	};
	const char *cert = NULL, *key = NULL, *client_ca = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct evconnlistener *lis;
	struct bufferevent *ctl;
	struct ts_server srv = {
		.max_streams = 1000,
		.fcm_ttl = 3600,
		.events_on = 1,
	};
	socklen_t sl = sizeof(sin);
	int c;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.sessions.next = srv.sessions.prev = &srv.sessions;
	srv.cfg.apns_kid = srv.cfg.apns_team = srv.cfg.apns_bundle = "";
	srv.cfg.fcm_email = srv.cfg.fcm_project = "";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'p':
			sin.sin_port = htons((uint16_t)atoi(optarg));
			break;
		case 'd':
			srv.delay_ms = (unsigned)atoi(optarg);
			break;
		case 'm':
			srv.max_streams = (unsigned)atoi(optarg);
			break;
		case 'A':
			srv.cfg.apns_key = ts_load_pubkey(optarg);
			if (!srv.cfg.apns_key)
				usage();
			break;
		case 'K':
			srv.cfg.apns_kid = optarg;
			break;
		case 'T':
			srv.cfg.apns_team = optarg;
			break;
		case 'B':
			srv.cfg.apns_bundle = optarg;
			break;
		case 'F':
			srv.cfg.fcm_key = ts_load_pubkey(optarg);
			if (!srv.cfg.fcm_key)
				usage();
			break;
		case 'E':
			srv.cfg.fcm_email = optarg;
			break;
		case 'P':
			srv.cfg.fcm_project = optarg;
			break;
		case 'C':
			client_ca = optarg;
			srv.cfg.check_client_cert = 1;
			break;
		default:
			usage();
		}
	}
	if (!cert || !key)
		usage();
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	srv.ssl_ctx = ts_tls_new(cert, key, client_ca);
	if (!srv.ssl_ctx) {
		fprintf(stderr, "pd_testsrv: cannot load %s / %s%s%s\n", cert, key,
			client_ca ? " / " : "", client_ca ? client_ca : "");
		return 1;
	}
	srv.base = event_base_new();
	lis = evconnlistener_new_bind(srv.base, ts_accept, &srv,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
				      (struct sockaddr *)&sin, sizeof(sin));
	if (!lis) {
		fprintf(stderr, "pd_testsrv: bind: %s\n", strerror(errno));
		return 1;
	}
	getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&sin, &sl);
	evutil_make_socket_nonblocking(1);
	srv.out_bev = bufferevent_socket_new(srv.base, 1, 0);
	bufferevent_enable(srv.out_bev, EV_WRITE);
	snprintf(srv.origin, sizeof(srv.origin), "https://127.0.0.1:%u", ntohs(sin.sin_port));
	ts_emit(&srv, "PORT %u", ntohs(sin.sin_port));
	ctl = bufferevent_socket_new(srv.base, 0, 0);
	bufferevent_setcb(ctl, ts_control_cb, NULL, ts_control_event, &srv);
	bufferevent_enable(ctl, EV_READ);
	event_base_dispatch(srv.base);
	while (srv.sessions.next != &srv.sessions)
		ts_sess_free(srv.sessions.next);
	bufferevent_free(ctl);
	evconnlistener_free(lis);
	while (evbuffer_get_length(bufferevent_get_output(srv.out_bev)) &&
	       evbuffer_write(bufferevent_get_output(srv.out_bev), 1) >= 0)
		;
	bufferevent_free(srv.out_bev);
	/* bufferevent_free() finalizes in the loop: let it run before freeing the base. */
	event_base_loop(srv.base, EVLOOP_NONBLOCK);
	event_base_free(srv.base);
	SSL_CTX_free(srv.ssl_ctx);
	EVP_PKEY_free(srv.cfg.apns_key);
	EVP_PKEY_free(srv.cfg.fcm_key);
	ts_jwt_cache_free();
	ts_wp_free();
	return 0;
}
