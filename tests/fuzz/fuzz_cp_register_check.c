/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cp_register.c's checks: what the control plane sent (read off the
 * worker's down ring and the port), the bindings against the REGISTERs
 * the PBX accepted, and the reset between inputs (fuzz_cp_register.h).
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <strings.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <urcu/urcu-qsbr.h>

#include "controlplane/relay/cp_reg_internal.h"
#include "sip/sip_scan.h"
#include "tests/fuzz/fuzz_cp_register.h"

static struct sip_msg scan_msg; /* scratch */

/* One UDP datagram the control plane (or the worker) sent to @p dst. */
static void sent(const struct sw_ip *dst, const uint8_t *p, size_t n)
{
	struct sw_ip pbx = dph_ip(DPH_PBX_IP4);
	bool to_app = false;

	if (sw_ip_eq(dst, &pbx)) {
		const uint8_t *via = memmem(p, n, "\r\nVia: ", 7), *eol;
		struct reg_relay *rl;

		if (n < 9 || memcmp(p, "REGISTER ", 9) != 0 || via == NULL)
			return; /* health checks */
		via += 2;
		eol = memmem(via, n - (size_t)(via - p), "\r\n", 2);
		if (eol == NULL || (size_t)(eol - via) >= sizeof(rl->via))
			return;
		for (unsigned i = 0; i < F.n_relays; i++)
			if (strlen(F.relays[i].via) == (size_t)(eol - via) &&
			    memcmp(F.relays[i].via, via, (size_t)(eol - via)) == 0)
				return; /* sent again: an app's retransmission */
		if (F.n_relays == MAX_RELAYS)
			return;
		rl = &F.relays[F.n_relays++];
		rl->p = malloc(n);
		CHECK(rl->p != NULL);
		memcpy(rl->p, p, n);
		rl->n = n;
		rl->reg = F.cur_reg;
		rl->answered = false;
		F.relayed++;
		memcpy(rl->via, via, (size_t)(eol - via));
		rl->via[eol - via] = '\0';
		return;
	}
	/* Answers go back to where the apps sent from, nowhere else. */
	for (unsigned i = 0; i < N_APPS; i++)
		to_app |= sw_ip_eq(dst, &F.apps[i].sip);
	CHECK(to_app);
	if (n <= UINT16_MAX && sip_scan(p, (uint32_t)n, &scan_msg) == SIP_SCAN_OK &&
	    !scan_msg.is_request && scan_msg.status >= 200 && scan_msg.status < 300 &&
	    scan_msg.cseq_method == SIP_M_REGISTER) {
		F.app_2xx++;
		F.app_2xx_all++;
		/* sipwake relays the registrar's 2xx, and answers an app's
		 * retransmission with the one it relayed (Timer J); it never
		 * makes one up. */
		CHECK(F.app_2xx <=
		      F.pbx_2xx + cp_counter(F.cp, CP_C_REG_ANSWER_REPEATED) - F.repeated0);
	}
}

/* An IPv4 frame; fragments (a relayed REGISTER over the MTU) joined. */
static void frame(struct rte_mbuf *m)
{
	static uint8_t dgram[65536];
	static uint16_t frag_id;
	static size_t frag_len;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *), *ip = p + RTE_ETHER_HDR_LEN;
	size_t len = rte_pktmbuf_data_len(m), ihl, tot, off;
	uint16_t fo;
	struct sw_ip dst;
	uint32_t d4;

	if (len < RTE_ETHER_HDR_LEN + 20 || p[12] != 0x08 || p[13] != 0x00 || ip[9] != 17)
		return;
	ihl = (size_t)(ip[0] & 15) * 4;
	tot = (size_t)ip[2] << 8 | ip[3];
	fo = (uint16_t)(ip[6] << 8 | ip[7]);
	off = (size_t)(fo & 0x1fff) * 8;
	CHECK(tot <= len - RTE_ETHER_HDR_LEN && ihl >= 20 && ihl <= tot);
	memcpy(&d4, ip + 16, 4);
	dst = sw_ip_from_v4(d4);
	if (off == 0)
		frag_len = 0;
	if (off != frag_len || (off != 0 && frag_id != (uint16_t)(ip[4] << 8 | ip[5])))
		return; /* a fragment out of order: not one of ours */
	frag_id = (uint16_t)(ip[4] << 8 | ip[5]);
	CHECK(off + tot - ihl <= sizeof(dgram));
	memcpy(dgram + off, ip + ihl, tot - ihl);
	frag_len = off + tot - ihl;
	if (fo & 0x2000)
		return; /* more to come */
	frag_len = 0;
	if (off + tot - ihl < 8)
		return;
	sent(&dst, dgram + 8, off + tot - ihl - 8);
}

void rf_round(void)
{
	struct rte_mbuf *m;

	cp_reg_flush(F.cp);
	/* Without a store every 2xx is durable at once and leaves in the round. */
	CHECK(F.cp->reg->n_out == 0);
	while (rte_ring_sc_dequeue(F.h.ctx->workers[0].down, (void **)&m) == 0) {
		frame(m);
		rte_pktmbuf_free(m);
	}
	while ((m = dph_sent(&F.h)) != NULL) {
		frame(m);
		rte_pktmbuf_free(m);
	}
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static int snap_one(const struct sw_device *d, void *arg)
{
	struct snap *s = arg;
	uint64_t h = 0xcbf29ce484222325ull;

	CHECK(s->n <= MAX_DEVICES); /* bindings.max_devices holds */
	h = mix(h, d->aor, d->aor_len);
	h = mix(h, d->contact, d->contact_len);
	h = mix(h, d->instance, d->instance_len);
	h = mix(h, d->pn_provider, d->pn_provider_len);
	h = mix(h, d->pn_prid, d->pn_prid_len);
	h = mix(h, d->pn_param, d->pn_param_len);
	h = mix(h, &d->src, sizeof(d->src));
	h = mix(h, &d->sport, sizeof(d->sport));
	h = mix(h, &d->expires_at, sizeof(d->expires_at));
	h = mix(h, &d->registered_at, sizeof(d->registered_at));
	s->id[s->n] = d->id;
	s->sum[s->n++] = h;
	return 0;
}

void rf_snapshot(struct snap *s)
{
	s->n = 0;
	sw_bind_foreach(F.h.ctx->bind, snap_one, s);
	CHECK(sw_bind_count(F.h.ctx->bind) == s->n && s->n <= MAX_DEVICES);
}

/* %XX decoded (RFC 3986 §2.1), the rest as it is. */
static size_t unescape(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && isxdigit(p[i + 1]) && isxdigit(p[i + 2])) {
			char hex[3] = {(char)p[i + 1], (char)p[i + 2], 0};

			out[o++] = (uint8_t)strtoul(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = p[i];
		}
	}
	return o;
}

static bool has(const uint8_t *p, size_t n, const char *s, size_t l)
{
	return l == 0 || memmem(p, n, s, l) != NULL;
}

static bool has_ci(const uint8_t *p, size_t n, const char *s, size_t l)
{
	for (size_t i = 0; i + l <= n; i++)
		if (strncasecmp((const char *)p + i, s, l) == 0)
			return true;
	return l == 0;
}

/* Is @p d what REGISTER @p r asked for? Its source, its contact as it came,
 * its RFC 8599 push address as it came (unescaped). */
static bool bound_from(const struct sw_device *d, const struct reg_sent *r)
{
	static uint8_t u[8192];
	size_t un;

	if (!r->accepted || !sw_ip_eq(&r->src, &d->src) || r->port != d->sport ||
	    !has(r->p, r->n, d->contact, d->contact_len))
		return false;
	if (d->pn_form != SW_PN_RFC8599)
		return true;
	un = unescape(r->p, r->n, u);
	return has_ci(u, un, d->pn_provider, d->pn_provider_len) &&
	       has(u, un, d->pn_prid, d->pn_prid_len) && has(u, un, d->pn_param, d->pn_param_len);
}

static int check_one(const struct sw_device *d, void *arg)
{
	bool found = false;

	(void)arg;
	CHECK(d->tp == SW_TP_UDP && d->aor_len > 0 && d->contact_len > 0);
	for (unsigned i = 0; i < F.n_regs && !found; i++)
		found = bound_from(d, &F.regs[i]);
	/* A binding exists only for a REGISTER the PBX accepted, as it came. */
	CHECK(found);
	return 0;
}

void rf_check(void)
{
	struct cp_reg *r = F.cp->reg;
	struct snap now;
	unsigned pending = 0;

	rf_snapshot(&now);
	if (!F.stepped_2xx) {
		/* Only the PBX's 2xx changes a binding. */
		CHECK(now.n == F.before.n);
		for (unsigned i = 0; i < now.n; i++)
			CHECK(now.id[i] == F.before.id[i] && now.sum[i] == F.before.sum[i]);
	}
	F.before = now;
	sw_bind_foreach(F.h.ctx->bind, check_one, NULL);
	for (uint32_t i = 0; i < r->idx.max; i++)
		if (r->tx[i].id != 0) {
			pending++;
			CHECK(cp_reg_tx_by_id(r, r->tx[i].id) == &r->tx[i]);
		}
	CHECK(r->idx.max == MAX_PENDING && pending <= MAX_PENDING);
}

static int collect(const struct sw_device *d, void *arg)
{
	struct snap *s = arg;

	if (s->n <= MAX_DEVICES)
		s->id[s->n++] = d->id;
	return 0;
}

void rf_reset(void)
{
	struct cp_reg *r = F.cp->reg;
	struct snap s = {0};

	for (uint32_t i = 0; i < r->idx.max; i++)
		if (r->tx[i].id != 0)
			cp_reg_tx_free(r, &r->tx[i]);
	r->done_head = r->done_n = 0; /* the completed ones were among them */
	rf_round();
	sw_bind_foreach(F.h.ctx->bind, collect, &s);
	F.bound += s.n;
	for (unsigned i = 0; i < s.n; i++)
		CHECK(sw_bind_del(F.h.ctx->bind, s.id[i]) == 0);
	CHECK(sw_bind_count(F.h.ctx->bind) == 0);
	/* The sources the devices held are released with them. */
	for (unsigned i = 0; i < N_APPS; i++)
		CHECK(sw_src_lookup(F.h.ctx->src, &F.apps[i].sip, F.apps[i].port) == NULL);
	urcu_qsbr_quiescent_state();
	for (unsigned i = 0; i < F.n_relays; i++)
		free(F.relays[i].p);
	F.n_relays = F.n_regs = 0;
	F.cur_reg = F.last_app = -1;
}
