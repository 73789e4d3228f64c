/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The other edges (cluster.peers, docs/cluster.md "Any edge routes any
 * call"): which edge a binding from the change feed was made through, their
 * health (OPTIONS every PEER_CHECK_MS; no answer for PEER_DOWN_MS: down),
 * published to the workers as dp->peer_up, and where a message for a
 * device bound through another edge goes while that edge is up.
 *
 * A peer that stops answering is down: its devices are then treated as
 * bound here (asleep until heard from), so a call for one of them wakes it
 * through this edge, and its new REGISTER binds it here. That is the
 * failover for a lost edge: the wake path itself.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/output/cp_msg.h"

#define PEER_CHECK_MS 500  /* an OPTIONS to each peer this often */
#define PEER_DOWN_MS  2000 /* no answer for this long: down */

int cp_peer_index(const struct cp_ctx *cp, const char *edge, size_t len)
{
	if (len == strlen(cp->cfg.cl.edge) && memcmp(edge, cp->cfg.cl.edge, len) == 0)
		return 0;
	for (unsigned i = 0; i < cp->cfg.n_peers; i++)
		if (len == strlen(cp->cfg.peers[i].edge) &&
		    memcmp(edge, cp->cfg.peers[i].edge, len) == 0)
			return (int)i + 1;
	return -1;
}

static void peer_ip(const struct cp_ctx *cp, unsigned i, struct sw_ip *ip, uint16_t *port)
{
	memcpy(ip->a, cp->cfg.peers[i].addr.addr, 16);
	*port = cp->cfg.peers[i].addr.port;
}

bool cp_peer_up(const struct cp_ctx *cp, unsigned peer)
{
	return peer != 0 && peer <= cp->cfg.n_peers &&
	       (__atomic_load_n(cp->dp->peer_up, __ATOMIC_RELAXED) >> (peer - 1) & 1u);
}

bool cp_peer_dest(const struct cp_ctx *cp, const struct sw_device *d, struct sw_ip *ip,
		  uint16_t *port)
{
	if (!cp_peer_up(cp, d->peer))
		return false;
	peer_ip(cp, d->peer - 1u, ip, port);
	return true;
}

static void set_up(struct cp_ctx *cp, unsigned i, bool up)
{
	uint32_t mask = __atomic_load_n(cp->dp->peer_up, __ATOMIC_RELAXED);
	bool was = mask >> i & 1u;

	if (was == up)
		return;
	mask = up ? mask | 1u << i : mask & ~(1u << i);
	__atomic_store_n(cp->dp->peer_up, mask, __ATOMIC_RELAXED);
	if (!up)
		cp_count(cp, CP_C_PEER_DOWN, 1);
	if (up)
		CP_LOG(NOTICE,
		       "cluster.peers.[%u] (%s) answers: devices bound through it are reached "
		       "through it",
		       i, cp->cfg.peers[i].edge);
	else
		CP_LOG(WARNING,
		       "cluster.peers.[%u] (%s) does not answer: devices bound through it wake "
		       "through this edge",
		       i, cp->cfg.peers[i].edge);
}

void cp_peer_tick(struct cp_ctx *cp, uint64_t now)
{
	uint64_t down = cp->hz * PEER_DOWN_MS / 1000;

	if (cp->cfg.n_peers == 0 || now < cp->peer_next_tsc)
		return;
	cp->peer_next_tsc = now + cp->hz * PEER_CHECK_MS / 1000;
	cp->peer_seq++;
	for (unsigned i = 0; i < cp->cfg.n_peers; i++) {
		char tail[24], tag[16], to[24], cid[32];
		struct sw_ip ip;
		uint16_t port;

		if (now - cp->peer_heard_tsc[i] > down)
			set_up(cp, i, false);
		snprintf(tail, sizeof(tail), "%02x%08x", i, cp->peer_seq);
		snprintf(tag, sizeof(tag), "ec%x", cp->peer_seq);
		snprintf(to, sizeof(to), "ping@%u.peer", i);
		snprintf(cid, sizeof(cid), "ec-%u-%x", i, cp->peer_seq);
		peer_ip(cp, i, &ip, &port);
		cp_send_options(cp, &ip, port,
				&(struct cp_options){.kind = 'e',
						     .branch_tail = tail,
						     .tag = tag,
						     .to = to,
						     .call_id = cid,
						     .cseq = cp->peer_seq});
	}
}

void cp_peer_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch);
	struct sw_ip ip;
	uint16_t port;
	unsigned i;

	if (sm->via.branch.len < DP_BRANCH_MAGIC_LEN + 4 ||
	    sscanf(b + DP_BRANCH_MAGIC_LEN + 2, "%2x", &i) != 1 || i >= cp->cfg.n_peers)
		return;
	peer_ip(cp, i, &ip, &port);
	if (!sw_ip_eq(&meta->src, &ip))
		return;
	cp->peer_heard_tsc[i] = rte_rdtsc();
	cp_count(cp, CP_C_PEER_CHECKS_ANSWERED, 1);
	set_up(cp, i, true);
}
