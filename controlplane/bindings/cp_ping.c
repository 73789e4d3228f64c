/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pings and their answers (docs/design.md §1.1, "Alive or asleep").
 *
 * A ping is an OPTIONS to the contact the device registered, sent to the
 * source its REGISTER came from (its NAT binding), To its AOR. The contact
 * with its user part, because an app answers for the contacts it
 * registered, and a softphone answers 404 to a Request-URI whose user it
 * does not know (RFC 3261 §8.2.2.1; baresip does, to sip:<ip>:<port> too).
 * The push parameters are taken out (RFC 8599 §4.1.2), as from a forwarded
 * INVITE: no pn-* leaves sipwake.
 *
 * The answer decides. Any datagram from a bound source is proof of life to
 * the workers (they store the time before the answer reaches us), and most
 * answers are: 2xx, and 405, 415, 420, 489, 480, 486, 603 and the like, which
 * a UA gives to a request it took as addressed to it. 404 (Not Found), 410
 * (Gone) and 481 (no such dialog or transaction, some stacks' answer to a
 * request for a user they do not have) say the contact is unknown there: the
 * app at that address is not the device, most often another app that got
 * the dead device's NAT binding. Then the device counts as asleep at once
 * (pongs_unknown_contact), so that its next call is pushed instead of sent
 * to a stranger.
 */
#include <inttypes.h>
#include <stdio.h>

#include "common/sw_bind.h"
#include "common/sw_log.h"
#include "common/sw_src.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/bindings/cp_ping.h"
#include "controlplane/output/cp_msg.h"

#define PING_TAIL_LEN 24 /* branch tail: 16 hex digits of device id, 8 of the second sent */

void cp_ping_device(struct cp_ctx *cp, const struct sw_device *d, int64_t now)
{
	char tail[PING_TAIL_LEN + 1], tag[24], to[SW_AOR_MAX + 8], cid[48];
	char ruri[SW_CONTACT_MAX + 1];

	/* Over a stream the connection is the liveness: it is open or the
	 * device is asleep (docs/streams.md, "Flows"); the app keeps it with
	 * CRLF keepalives (RFC 5626 §4.4.1), the streams thread answers them. */
	if (d->tp != SW_TP_UDP || (uint64_t)(now + (int64_t)d->id) % cp->cfg.ping_interval_s != 0)
		return;
	/* One edge pings a device: the one it is bound through, while that
	 * one answers (docs/cluster.md); when it does not, this one. */
	if (cp_peer_up(cp, d->peer))
		return;
	if (cp_uri_without_pn(d->contact, d->contact_len, ruri, sizeof(ruri)) < 0)
		return; /* cannot happen: the contact alone is shorter */
	snprintf(tail, sizeof(tail), "%016" PRIx64 "%08" PRIx64, d->id, (uint64_t)now & 0xffffffff);
	snprintf(tag, sizeof(tag), "p%" PRIx64, d->id);
	snprintf(to, sizeof(to), "%s", d->aor);
	snprintf(cid, sizeof(cid), "ping-%" PRIx64 "-%" PRIx64, d->id, (uint64_t)now);
	if (cp_send_options(cp, &d->src, d->sport,
			    &(struct cp_options){.kind = 'p',
						 .branch_tail = tail,
						 .ruri = ruri,
						 .tag = tag,
						 .to = to,
						 .call_id = cid,
						 .cseq = 1}) == 0)
		cp_count(cp, CP_C_PINGS_SENT, 1);
}

static bool contact_unknown(unsigned status)
{
	return status == 404 || status == 410 || status == 481;
}

void cp_ping_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	const char *tail = sip_ptr(msg, sm->via.branch) + DP_BRANCH_MAGIC_LEN + 2;
	const struct sw_device *d;
	struct sw_src *e;
	uint64_t id, sent;
	char src[SW_IP_PORT_STRLEN], contact[SW_CONTACT_MAX + 1];

	cp_count(cp, CP_C_PONGS, 1);
	if (!contact_unknown(sm->status))
		return;
	if (sm->via.branch.len != DP_BRANCH_MAGIC_LEN + 2 + PING_TAIL_LEN ||
	    !cp_hex_u64(tail, 16, &id) || !cp_hex_u64(tail + 16, 8, &sent))
		return;
	/* The device still registered from where the answer came, and not
	 * since the ping went: a REGISTER after it may have brought another
	 * contact, which this answer does not speak for. */
	d = sw_bind_by_id(cp->dp->bind, id);
	if (d == NULL || !sw_ip_eq(&d->src, &meta->src) || d->sport != meta->sport ||
	    (uint32_t)((uint32_t)d->registered_at - (uint32_t)sent) < UINT32_C(1) << 31)
		return;
	cp_count(cp, CP_C_PONGS_UNKNOWN_CONTACT, 1);
	/*
	 * The worker stored this answer's arrival as a proof of life before
	 * handing it up; take back that time and anything older, so that the
	 * workers see the device asleep from now on and the next call pushes.
	 * A datagram from the source after this answer (a keepalive, a request,
	 * another answer) makes it alive again: the workers cannot tell which
	 * app at an address sent a datagram, so any datagram counts, and the
	 * next ping, one interval later, asks again. Liveness is the source's:
	 * devices sharing its socket (two accounts in one app) turn asleep
	 * with this one, until a datagram from it, such as the 200 to their
	 * own next ping, brings them back.
	 */
	e = sw_src_lookup(cp->dp->src, &d->src, d->sport);
	if (e != NULL)
		sw_src_forget(e, meta->rx_tsc);
	/* Tokens never reach the log: the contact as pinged, pn-* out. */
	if (cp_uri_without_pn(d->contact, d->contact_len, contact, sizeof(contact)) < 0)
		contact[0] = '\0';
	CP_LOG(INFO,
	       "%s (device %" PRIu64 ") asleep: %s answered its ping %u, contact %s unknown "
	       "there",
	       d->aor, d->id, sw_ip_port_str(&d->src, d->sport, src, sizeof(src)), sm->status,
	       contact);
}
