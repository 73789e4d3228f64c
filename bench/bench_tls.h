/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_tls's command line (bench/bench_tls.c has the loop): what to run,
 * against which edge, how much, for how long.
 */
#ifndef BENCH_TLS_H
#define BENCH_TLS_H

#define BT_MAX_SRC 64

enum bt_mode { M_HANDSHAKES, M_MESSAGES, M_IDLE };

struct bt_opts {
	enum bt_mode mode;
	const char *dst, *ca, *mix;
	char *srcs[BT_MAX_SRC]; /**< local addresses, bound round robin (into argv) */
	unsigned nsrc, port, conc, conns, window;
	unsigned long count;
	double time_s, hold_s, conn_timeout, drain;
	int plain; /**< TCP without TLS (idle, handshakes): the transport's share */
};

extern const char bt_usage[];

/** Fill @o from the command line, defaults first. Returns 0, or -1 for a
 * command line to refuse (print bt_usage). */
int bt_parse(int argc, char **argv, struct bt_opts *o);

#endif
