/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The devices a request's Request-URI names (docs/design.md §7 "Device
 * key"): the one registered with that contact, else the one with that push
 * address, else every device of the AOR. The one lookup of a call's
 * devices: the worker that decides a call makes it, and passes what it found
 * on (dataplane/dp_ring.h, struct dp_call).
 *
 * ~1.5k instructions on a 1 KB INVITE (callgrind, bench_dp fwd-invite):
 * reading the push address ~0.75k, sw_pn_key ~0.75k (unescaping),
 * sw_bind_by_pn ~0.45k.
 */
#ifndef SW_DEVICES_H
#define SW_DEVICES_H

#include "common/sw_bind.h"
#include "sip/sip_scan.h"

/**
 * Call @p fn for each device @p sm's Request-URI names (@p msg: the scanned
 * bytes) until it returns non-zero. Read side (an online QSBR thread). Inline
 * so that the worker's callback is a direct call.
 * @return the number of devices visited.
 */
static inline __attribute__((always_inline)) unsigned
sw_devices_of(const struct sw_bind_table *t, const uint8_t *msg, const struct sip_msg *sm,
	      int (*fn)(const struct sw_device *d, void *arg), void *arg)
{
	const struct sip_uri *u = &sm->ruri;
	const struct sw_device *d = NULL;
	struct sip_push pn;
	char key[SW_PN_KEY_MAX];
	int kl;

	/* The contact exactly as registered first: one token may serve several
	 * accounts of one app (two AORs, one push address), and the contact is
	 * what tells them apart. Then the push address, for a PBX that
	 * re-escapes or reorders the URI (RFC 8599 §5.3). */
	d = sw_bind_by_contact(t, sip_ptr(msg, u->whole), u->whole.len);
	if (d == NULL) {
		sip_push_from_params(msg, u->params, &pn);
		if (pn.form != SIP_PN_NONE) {
			kl = sw_pn_key(key, sizeof(key), sip_ptr(msg, pn.provider), pn.provider.len,
				       sip_ptr(msg, pn.prid), pn.prid.len, sip_ptr(msg, pn.param),
				       pn.param.len);
			if (kl > 0)
				d = sw_bind_by_pn(t, key, (size_t)kl);
		}
	}
	if (d != NULL) {
		fn(d, arg);
		return 1;
	}
	if (u->scheme != SIP_SCHEME_SIP && u->scheme != SIP_SCHEME_SIPS)
		return 0;
	kl = sw_aor_canon(key, SW_AOR_MAX, sip_ptr(msg, u->user), u->user.len,
			  sip_ptr(msg, u->host), u->host.len, u->host_is_ipv6);
	if (kl <= 0)
		return 0;
	return sw_bind_foreach_aor(t, key, (size_t)kl, fn, arg);
}

#endif /* SW_DEVICES_H */
