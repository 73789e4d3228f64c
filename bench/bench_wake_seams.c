/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_wake's link seams (bench/meson.build wraps them with -Wl,--wrap):
 * pd_submit, cp_udp_send(_as) and cp_bind_sync are timed where the
 * control plane calls them, and run as they are.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "bench/bench_wake_seams.h"
#include "controlplane/cp_internal.h"
#include "pushd/pd.h"

struct wake_seams seams;

int __real_pd_submit(struct pd *p, const struct pd_request *req);
int __wrap_pd_submit(struct pd *p, const struct pd_request *req);
int __real_cp_udp_send_as(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
			  const void *payload, uint16_t len, bool stranger);
int __wrap_cp_udp_send_as(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
			  const void *payload, uint16_t len, bool stranger);
int __real_cp_udp_send(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
		       const void *payload, uint16_t len);
int __wrap_cp_udp_send(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
		       const void *payload, uint16_t len);
int __real_cp_bind_sync(struct cp_ctx *c);
int __wrap_cp_bind_sync(struct cp_ctx *c);

/* The moment the control plane hands a push over (pd_submit() reads its
 * clock first thing). */
int __wrap_pd_submit(struct pd *p, const struct pd_request *req)
{
	if (seams.n_subs < RTE_DIM(seams.subs))
		seams.subs[seams.n_subs++] =
			(typeof(seams.subs[0])){.id = req->id, .tsc = rte_rdtsc()};
	seams.n_submitted++;
	return __real_pd_submit(p, req);
}

/* An INVITE to a device is on the down ring when this returns. */
static void sent(const void *payload, uint16_t len)
{
	if (len > 7 && memcmp(payload, "INVITE ", 7) == 0 && seams.n_inv < RTE_DIM(seams.inv_tsc))
		seams.inv_tsc[seams.n_inv++] = rte_rdtsc();
}

/* Both entries: cp_udp_send() calls cp_udp_send_as() inside cp_tx.c, where
 * no wrap reaches, so each INVITE is seen once. */
int __wrap_cp_udp_send(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
		       const void *payload, uint16_t len)
{
	int rc = __real_cp_udp_send(c, dst, dport, payload, len);

	sent(payload, len);
	return rc;
}

int __wrap_cp_udp_send_as(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
			  const void *payload, uint16_t len, bool stranger)
{
	int rc = __real_cp_udp_send_as(c, dst, dport, payload, len, stranger);

	sent(payload, len);
	return rc;
}

int __wrap_cp_bind_sync(struct cp_ctx *c)
{
	uint64_t t = rte_rdtsc();
	int rc = __real_cp_bind_sync(c);

	seams.sync_cycles += rte_rdtsc() - t;
	return rc;
}
