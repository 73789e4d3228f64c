/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_tls's command line (bench_tls.h). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bench_tls.h"

const char bt_usage[] =
	"usage: bench_tls --mode handshakes|messages|idle [--dst IP] [--port P] [--src IP,..]\n"
	"  [--ca FILE] [--count N] [--conc C] [--conns K] [--window W<=32]\n"
	"  [--mix reg|call|mixed] [--hold S] [--time T] [--conn-timeout T] [--drain T]\n"
	"  [--plain: TCP without TLS, idle and handshakes only]\n";

int bt_parse(int argc, char **argv, struct bt_opts *o)
{
	static const struct option opts[] = {{"mode", 1, 0, 'm'},	  {"dst", 1, 0, 'd'},
					     {"port", 1, 0, 'p'},	  {"src", 1, 0, 's'},
					     {"ca", 1, 0, 'a'},		  {"count", 1, 0, 'n'},
					     {"conc", 1, 0, 'c'},	  {"conns", 1, 0, 'k'},
					     {"window", 1, 0, 'w'},	  {"mix", 1, 0, 'x'},
					     {"hold", 1, 0, 'h'},	  {"time", 1, 0, 't'},
					     {"conn-timeout", 1, 0, 'T'}, {"drain", 1, 0, 'D'},
					     {"plain", 0, 0, 'P'},	  {0, 0, 0, 0}};
	int ch;

	*o = (struct bt_opts){.dst = "198.18.0.1",
			      .port = 5061,
			      .conc = 64,
			      .conns = 16,
			      .window = 4,
			      .count = 1000,
			      .time_s = 60,
			      .hold_s = 5,
			      .conn_timeout = 10,
			      .drain = 5,
			      .mix = "mixed"};

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		/* Numbers first: one table, one conversion each. */
		unsigned *u = ch == 'p'	  ? &o->port
			      : ch == 'c' ? &o->conc
			      : ch == 'k' ? &o->conns
			      : ch == 'w' ? &o->window
					  : NULL;
		double *d = ch == 'D'	? &o->drain
			    : ch == 'h' ? &o->hold_s
			    : ch == 't' ? &o->time_s
			    : ch == 'T' ? &o->conn_timeout
					: NULL;

		if (ch == 'P')
			o->plain = 1;
		else if (u != NULL)
			*u = (unsigned)atoi(optarg);
		else if (d != NULL)
			*d = atof(optarg);
		else if (ch == 'n')
			o->count = strtoul(optarg, NULL, 10);
		else if (ch == 'd')
			o->dst = optarg;
		else if (ch == 'a')
			o->ca = optarg;
		else if (ch == 'x')
			o->mix = optarg;
		else if (ch == 'm')
			o->mode = strcmp(optarg, "handshakes") == 0 ? M_HANDSHAKES
				  : strcmp(optarg, "messages") == 0 ? M_MESSAGES
				  : strcmp(optarg, "idle") == 0	    ? M_IDLE
								    : (enum bt_mode) - 1;
		else if (ch == 's')
			for (char *t = strtok(optarg, ","); t != NULL && o->nsrc < BT_MAX_SRC;
			     t = strtok(NULL, ","))
				o->srcs[o->nsrc++] = t;
		else
			return -1;
	}
	if ((int)o->mode < 0 || o->conc == 0 || o->conns == 0 || o->window == 0 || o->count == 0 ||
	    o->window > 32 || (o->plain && o->mode == M_MESSAGES))
		return -1;
	return 0;
}
