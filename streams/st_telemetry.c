/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /sipwake/conns in DPDK telemetry: the streams thread's connections per
 * transport ({"tcp": {...}, "tls": {...}, "ws": ..., "wss": ...}) with
 * the counters of ST_FOREACH_COUNTER and the closes of ST_FOREACH_CLOSE
 * ("closed_<reason>"), so names cannot drift from the code; and the
 * thread's own figures (rings, the oldest and idlest connection, memory).
 */
#include <errno.h>

#include <rte_telemetry.h>

#include "streams/st.h"

static struct st *tel_st;

static int conns_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const closes[ST_CLOSE_N] = {
#define ST_CW_NAME(n, desc) "closed_" #n,
		ST_FOREACH_CLOSE(ST_CW_NAME)
#undef ST_CW_NAME
	};
	struct st_stats s;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (tel_st == NULL)
		return 0;
	st_stats_get(tel_st, &s);
	for (unsigned tp = SW_TP_TCP; tp < SW_TP_N; tp++) {
		const struct st_tp_stats *t = &s.tp[tp];
		struct rte_tel_data *o = rte_tel_data_alloc();

		if (o == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(o);
		rte_tel_data_add_dict_u64(o, "open", t->open);
		rte_tel_data_add_dict_u64(o, "handshaking", t->handshaking);
#define ST_C_TEL(n, desc) rte_tel_data_add_dict_u64(o, #n, t->n);
		ST_FOREACH_COUNTER(ST_C_TEL)
#undef ST_C_TEL
		for (unsigned w = 0; w < ST_CLOSE_N; w++)
			rte_tel_data_add_dict_u64(o, closes[w], t->closed[w]);
		rte_tel_data_add_dict_container(d, sw_tp_name((uint8_t)tp), o, 0);
	}
	rte_tel_data_add_dict_u64(d, "oldest_s", s.oldest_s);
	rte_tel_data_add_dict_u64(d, "idlest_s", s.idlest_s);
	rte_tel_data_add_dict_u64(d, "mem_bytes", s.mem_bytes);
	rte_tel_data_add_dict_u64(d, "up_ring_full", s.up_ring_full);
	rte_tel_data_add_dict_u64(d, "down_ring_full", s.down_ring_full);
	rte_tel_data_add_dict_u64(d, "send_no_conn", s.send_no_conn);
	rte_tel_data_add_dict_u64(d, "cert_reloads", s.cert_reloads);
	return 0;
}

int st_telemetry_register(struct st *st)
{
	tel_st = st;
	return rte_telemetry_register_cmd(
		"/sipwake/conns", conns_cb,
		"stream connections (TCP, TLS, WS, WSS): open, handshakes, closes by reason");
}
