/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bindings on the control plane: what a REGISTER asks for, committing it
 * when the PBX accepts (tables + store), expiry, loading at start, pings
 * (sent and answered in cp_ping.c), pre-expiry refresh pushes, dead push
 * tokens, and the authentication-failure ban. Internal to controlplane/.
 */
#ifndef CP_BIND_H
#define CP_BIND_H

#include "common/sw_clock.h"
#include "common/sw_bind.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"

/** The binding one REGISTER asks for, copied out of its mbuf. */
struct cp_bind_req {
	bool star;		/**< "Contact: *": remove every device of the AOR */
	bool pnsreg;		/**< the contact carried +sip.pnsreg (RFC 8599 §5.6.1.1) */
	bool ob;		/**< the contact URI carried ;ob (RFC 5626 §5.4) */
	bool has_contact;	/**< a contact to bind (not star, not a fetch) */
	bool pn_unknown;	/**< a push provider sipwake does not push to (kept, counted) */
	bool pn_unusable;	/**< a Web Push subscription it cannot use (kept, counted) */
	const char *pn_why;	/**< why the push address was refused or cannot be used */
	int32_t asked_expires;	/**< the app's expiry for it; -1 none given */
	struct sw_bind_rec rec; /**< strings point into @s */
	const char *contact;	/**< == rec.contact, to find it in the 2xx */
	uint16_t contact_len;
	/* The push fields, each NUL-terminated, fit SW_PN_KEY_MAX when the
	 * binding can be stored at all (sw_bind_put()). */
	char s[SW_AOR_MAX + SW_CONTACT_MAX + SW_INSTANCE_MAX + SW_PN_KEY_MAX];
};

/**
 * Fill @p req from a scanned REGISTER. @return 0; -EINVAL (no usable AOR,
 * contact or push address), -E2BIG (a string over its limit), -ENOSPC (a
 * new device while bindings.max_devices are bound).
 */
int cp_bind_req_from(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		     struct cp_bind_req *req);

/**
 * The PBX accepted @p req granting @p expires seconds (0: remove): update
 * the tables and queue the store write.
 * @param id  set to the device bound or refreshed, 0 when none was (removals).
 * @return 0 or -errno (not bound).
 */
int cp_bind_commit(struct cp_ctx *cp, const struct cp_bind_req *req, int32_t expires, uint64_t *id);

/** Store writes queued since the last cp_bind_sync()? */
bool cp_bind_dirty(const struct cp_ctx *cp);

/** Other store writes (the journal of held calls) joined the round's
 *  batch: cp_bind_sync() ends it even if no binding changed. */
void cp_bind_touch(struct cp_ctx *cp);

/** End the batch of queued store writes (cp_store_submit()).
 *  @return 0 (durable), 1 (a shared store's batch @p ticket: durable
 *  later) or -EIO. */
int cp_bind_sync(struct cp_ctx *cp, uint64_t *ticket);

/**
 * Another edge's change (a shared store's feed, controlplane/store/cp_store.h)
 * applied to the tables, newest first (bindings/cp_bind_remote.c); a
 * delete's r->registered_at is when it was made. @p peer: the edge it was
 * made through (sw_device.peer).
 * @param id  set to the device made or changed by a CP_STORE_PUT, else 0.
 * @return 0, -ENOSPC (bindings.max_devices) or sw_bind_put()'s error.
 */
int cp_bind_remote(struct cp_ctx *cp, enum cp_store_change kind, const struct sw_bind_rec *r,
		   uint8_t peer, uint64_t *id);

/* ---- cp_peer.c: the other edges (cluster.peers) ---- */
/** 0: @p edge is this edge; i: cluster.peers.[i - 1]; -1: not configured. */
int cp_peer_index(const struct cp_ctx *cp, const char *edge, size_t len);
/** Peer @p peer (1-based, as sw_device.peer) answers its health checks. */
bool cp_peer_up(const struct cp_ctx *cp, unsigned peer);
/** Where a message for @p d goes when it is bound through a peer that is
 *  up: that peer's SIP address (true); false: to the device itself. */
bool cp_peer_dest(const struct cp_ctx *cp, const struct sw_device *d, struct sw_ip *ip,
		  uint16_t *port);
/** Health checks of the peers (every few 100 ms); call every tick. */
void cp_peer_tick(struct cp_ctx *cp, uint64_t now);
/** An answer to a peer health check (a DP_BRANCH_CP 'e' branch). */
void cp_peer_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);

/** Make the state cp_bind_tick() keeps (refresh pushes sent). @return 0 or -ENOMEM. */
int cp_bind_init(struct cp_ctx *cp);

/** Free what cp_bind_init() made. */
void cp_bind_fini(struct cp_ctx *cp);

/**
 * Once a second: expire bindings, ping devices due, send the pre-expiry
 * refresh pushes due (wake.refresh_before_s).
 */
void cp_bind_tick(struct cp_ctx *cp, uint64_t now_tsc);

/**
 * Connection @p conn from @p peer:@p port ended: every device it was the
 * flow of is asleep at once (cp_flow.c). @return how many.
 */
unsigned cp_flow_closed(struct cp_ctx *cp, const struct sw_ip *peer, uint16_t port, uint64_t conn);
/**
 * The devices at @p peer:@p port whose flow is connection @p conn (at most
 * @p max ids into @p ids). @return how many.
 */
unsigned cp_flow_devices(const struct cp_ctx *cp, const struct sw_ip *peer, uint16_t port,
			 uint64_t conn, uint64_t *ids, unsigned max);
/** Connection @p conn has spoken: it is open until cp_flow_closed(). */
void cp_flow_seen(struct cp_ctx *cp, uint64_t conn);
/** Is @p conn open (seen, and not ended since)? */
bool cp_flow_open(const struct cp_ctx *cp, uint64_t conn);
/** Free the set of open connections. */
void cp_flow_fini(struct cp_ctx *cp);

/** Is @p ip banned for failing authentication? */
bool cp_ban_check(struct cp_ctx *cp, const struct sw_ip *ip);

/** One failed authentication from @p ip (403, or 401/407 to credentials). */
void cp_ban_note_failure(struct cp_ctx *cp, const struct sw_ip *ip);

#endif /* CP_BIND_H */
