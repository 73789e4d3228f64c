/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Binding tables: AOR -> devices, with each device's contact, source and
 * push address (docs/design.md §1 step 1, §7 "Where state lives").
 *
 * One device is one registered instance of an app. It lives in one
 * allocation holding all its strings and is reached through four RCU hash
 * indexes (liburcu QSBR cds_lfht), all embedded in it:
 *   id       device id -> device (what the source table maps to)
 *   aor      AOR -> its devices (duplicate keys: one node per device)
 *   pn       canonical push address (sw_pn_key()) -> device
 *   contact  contact URI as registered -> device
 * and a fifth, source ip:port -> devices, that only the writer uses.
 * Devices are immutable once published: a refresh publishes a new copy and
 * replaces the old one in every index (readers see one or the other, never a
 * mix); the old copy is freed after a grace period. The control plane is the
 * only writer; workers and telemetry read without locks.
 *
 * The table also keeps the source table (common/sw_src.h) in step: a device
 * holds a reference on the ip:port it registers from, so a source is bound
 * exactly while some device uses it, and names one of those devices (when
 * the one it names goes, it is rebound to another still on it).
 *
 * Capacity (devices) is fixed at creation: at the bound sw_bind_put() refuses
 * new devices with -ENOSPC and keeps every existing one.
 */
#ifndef SW_BIND_H
#define SW_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sw_neigh.h" /* struct sw_ip */
#include "common/sw_src.h"
#include "common/sw_tp.h"

/** Longest strings a binding keeps; longer input is refused (-E2BIG). */
#define SW_AOR_MAX	256 /**< canonical AOR "user@host" */
#define SW_CONTACT_MAX	1024
#define SW_INSTANCE_MAX 128
/* Web Push endpoint URLs (pn-prid) run to 400-500 bytes (Firefox's
 * autopush, Edge's WNS): docs/push-addresses.md, "Web Push". */
#define SW_PN_KEY_MAX	1024 /**< sw_pn_key() output, NUL included */
#define SW_PN_FIELD_MAX 512  /**< one push address field, unescaped */
#define SW_PUSH_KEY_LEN 32   /**< a push key's bytes (docs/push-encryption.md) */

/** How a device gave its push address (same values as enum sip_pn_form). */
enum sw_pn_form {
	SW_PN_NONE = 0,
	SW_PN_RFC8599, /**< pn-provider / pn-prid / pn-param */
	SW_PN_LEGACY,  /**< pn-type / pn-tok / app-id */
	SW_PN_XPUSH,   /**< X-Push header */
};

/**
 * A binding as the writer describes it and as the store persists it. Every
 * string is borrowed (pointer + length, not NUL-terminated) and copied by
 * sw_bind_put(). pn_* are canonical (unescaped; provider lower case).
 */
struct sw_bind_rec {
	const char *aor;
	uint16_t aor_len;
	const char *contact; /**< the Contact URI as registered, without < > */
	uint16_t contact_len;
	const char *instance; /**< +sip.instance, quotes removed; may be empty */
	uint16_t instance_len;
	uint8_t pn_form; /**< enum sw_pn_form; SW_PN_NONE: no push address */
	uint8_t pn_dead; /**< bit i: token i of the push address (common/sw_pn.h) is dead */
	const char *pn_provider, *pn_prid, *pn_param;
	uint16_t pn_provider_len, pn_prid_len, pn_param_len;
	struct sw_ip src;   /**< source address the REGISTER came from */
	uint16_t sport;	    /**< source port, host byte order */
	uint8_t iface;	    /**< sipwake interface it arrived on */
	uint8_t tp;	    /**< enum sw_tp it registered over (common/sw_tp.h) */
	uint64_t conn;	    /**< streams: its connection (streams/st.h); 0: none open */
	int64_t conn_since; /**< wall clock: first bound over @conn (not stored) */
	uint8_t peer; /**< 0: bound through this edge; i: through cluster.peers.[i - 1] (not stored) */
	int64_t registered_at; /**< wall clock, seconds since the epoch */
	int64_t expires_at;    /**< wall clock: the expiry the PBX granted */
	/** The push key the app gave over TLS / WSS in this registration
	 *  (Sipwake-Push-Key, docs/push-encryption.md): copied, not borrowed.
	 *  Its pushes go sealed under it; push_key_set 0: in clear. */
	uint8_t push_key_set;
	uint8_t push_key[SW_PUSH_KEY_LEN];
};

/**
 * A device as readers see it. Immutable once published; the strings are
 * NUL-terminated and live in the same allocation.
 */
struct sw_device {
	uint64_t id;
	int64_t registered_at, expires_at; /**< wall clock, seconds */
	struct sw_ip src;
	uint16_t sport;
	uint8_t iface;
	uint8_t tp; /**< enum sw_tp it registered over */
	uint8_t pn_form;
	uint8_t pn_dead; /**< bit i: token i of the push address is dead (common/sw_pn.h) */
	/** Over a stream: the connection its calls go down (RFC 5626 flow); 0
	 *  when it closed, and the device is asleep until it registers again. */
	uint64_t conn;
	int64_t conn_since; /**< wall clock, seconds: first bound over @conn */
	/** 0: bound through this edge; i: through cluster.peers.[i - 1], which
	 *  reaches it (its NAT binding, its connection) and pings it. */
	uint8_t peer;
	uint16_t aor_len, contact_len, instance_len;
	uint16_t pn_provider_len, pn_prid_len, pn_param_len;
	const char *aor, *contact, *instance;
	const char *pn_provider, *pn_prid, *pn_param;
	uint8_t push_key_set; /**< 1: its pushes go sealed under push_key */
	uint8_t push_key[SW_PUSH_KEY_LEN];
	/** The Request-URI its calls carry: the contact with its push
	 *  parameters out (RFC 8599 §4.1.2, sip_uri_without_pn()), made once
	 *  when it binds so no worker parses the contact per call; ruri_len 0
	 *  when the contact does not split (the worker then edits what came). */
	const char *ruri;
	uint16_t ruri_len;
};

struct sw_bind_table;

/**
 * Create a table for at most @p max_devices devices.
 * @param src  the source table kept in step (borrowed; must outlive the table).
 * @return the table, or NULL (out of memory).
 */
struct sw_bind_table *sw_bind_create(unsigned max_devices, struct sw_src_table *src);

/** Free the table and every device (sources are unbound). No reader may run. NULL: no-op. */
void sw_bind_free(struct sw_bind_table *t);

/**
 * Canonical push-address key: "<provider>\x1f<prid>\x1f<param>", each part
 * %-unescaped (RFC 3261 §19.1.2) and the provider lower-cased, so that a
 * Request-URI re-escaped by the PBX still finds its device (RFC 8599 §5.3:
 * provider, prid and param all equal). Inputs are raw, borrowed bytes.
 * @return the key length (NUL written after it), or -E2BIG (does not fit
 *         @p cap) or -EINVAL (a bad %-escape, or a control byte).
 */
int sw_pn_key(char *out, size_t cap, const char *provider, size_t provider_len, const char *prid,
	      size_t prid_len, const char *param, size_t param_len);

/**
 * The provider name RFC 8599 uses for one an app gave in the legacy
 * (pn-type) or X-Push form: "apple" / "ios" -> "apns", "google" /
 * "firebase" / "android" -> "fcm" (any case). @p p is borrowed, @p len
 * bytes, already unescaped. @return a static string, or NULL when the name
 * is not an alias (use it as it is, lower-cased).
 */
const char *sw_pn_provider_alias(uint8_t form, const char *p, size_t len);

/**
 * sw_pn_key() of a push address as an app wrote it in form @p form (enum
 * sw_pn_form): the provider goes through sw_pn_provider_alias() first, so
 * "pn-type=ios" keys the same as the "apns" the registrar stored. What the
 * workers use to recognise a bound device in a REGISTER. Same returns.
 */
int sw_pn_key_form(char *out, size_t cap, uint8_t form, const char *provider, size_t provider_len,
		   const char *prid, size_t prid_len, const char *param, size_t param_len);

/**
 * Canonical AOR "user@host" of a SIP URI's user and host parts: the user
 * %-unescaped (RFC 3261 §19.1.4: escapes compare equal to what they stand
 * for; case kept), the host lower-cased, an IPv6 host in [ ]; no scheme,
 * port or parameters. The registrar keys bindings by it, the workers look
 * calls up by it. Inputs are raw, borrowed bytes.
 * @return the length (NUL written after it), -EINVAL (empty part, bad
 *         %-escape or control byte) or -E2BIG (does not fit @p cap).
 */
int sw_aor_canon(char *out, size_t cap, const char *user, size_t user_len, const char *host,
		 size_t host_len, bool host_v6);

/** %-unescape @p in into @p out (NUL-terminated). @return length, -E2BIG or -EINVAL. */
int sw_unescape(char *out, size_t cap, const char *in, size_t len);

/* ---- read side: the caller is an online QSBR thread; results are borrowed
 * and valid until its next quiescent state. ---- */

/** The device with id @p id, or NULL. */
const struct sw_device *sw_bind_by_id(const struct sw_bind_table *t, uint64_t id);

/** The device whose canonical push key (sw_pn_key()) is @p key, or NULL. */
const struct sw_device *sw_bind_by_pn(const struct sw_bind_table *t, const char *key, size_t len);

/**
 * Alive (docs/design.md §1 step 2): @p d's source was heard from within @p window
 * TSC cycles before @p now. A source touched after the caller read its clock
 * (another thread) counts as alive. Read side; @p last (may be NULL) gets the
 * last time heard, 0 when the source is not bound.
 */
static inline bool sw_device_alive(const struct sw_src_table *src, const struct sw_device *d,
				   uint64_t now, uint64_t window, uint64_t *last)
{
	const struct sw_src *e = sw_src_lookup(src, &d->src, d->sport);

	if (d->tp != SW_TP_UDP) {
		/* Over a stream, alive is its connection open (docs/streams.md,
		 * "Flows"): no datagram says more. */
		if (last != NULL)
			*last = e != NULL ? sw_src_last_alive(e) : 0;
		return d->conn != 0;
	}
	uint64_t t = e != NULL ? sw_src_last_alive(e) : 0;

	if (last != NULL)
		*last = t;
	return e != NULL && (t >= now || now - t <= window);
}

/** A device registered with exactly this contact URI, or NULL. */
const struct sw_device *sw_bind_by_contact(const struct sw_bind_table *t, const char *uri,
					   size_t len);

/**
 * The devices of @p aor: calls @p fn for each until it returns non-zero.
 * @return the number of devices visited.
 */
unsigned sw_bind_foreach_aor(const struct sw_bind_table *t, const char *aor, size_t len,
			     int (*fn)(const struct sw_device *d, void *arg), void *arg);

/** Every device, until @p fn returns non-zero. */
void sw_bind_foreach(const struct sw_bind_table *t, int (*fn)(const struct sw_device *d, void *arg),
		     void *arg);

/**
 * The device of rec->aor that @p rec identifies: same +sip.instance if
 * @p rec has one, else the same push address, else the same contact URI.
 * Read side (the writer uses it to decide). NULL when none.
 */
const struct sw_device *sw_bind_match(const struct sw_bind_table *t, const struct sw_bind_rec *rec);

/* ---- writer side: one thread only. ---- */

/**
 * Would sw_bind_put() take @p rec? The same checks, nothing else (the store
 * refuses exactly what the table refuses).
 * @return 0, -EINVAL or -E2BIG as sw_bind_put().
 */
int sw_bind_rec_check(const struct sw_bind_rec *rec);

/**
 * Create the device @p rec describes, or replace the one it identifies
 * (sw_bind_match()), keeping its id. The source table follows: the new
 * source is bound (alive at @p now_tsc), the old one released.
 * @param id  set to the device's id (may be NULL).
 * @return 0; -ENOSPC (table or source table full; nothing changed);
 *         -E2BIG (a string over its limit); -EINVAL (empty AOR or contact,
 *         a push address without provider or prid, or with a control byte);
 *         -ENOMEM.
 */
int sw_bind_put(struct sw_bind_table *t, const struct sw_bind_rec *rec, uint64_t now_tsc,
		uint64_t *id);

/**
 * Replace device @p id by the device @p rec describes, keeping the id, even
 * where sw_bind_match() would not identify them (e.g. @p rec drops the push
 * address of a device without +sip.instance). Unlike sw_bind_put() it is
 * not proof of life: the source's last-alive time stays unless the source
 * changes (then the new one is bound alive at @p now_tsc).
 * @return 0; -ENOENT (no device @p id); -EINVAL (@p rec is for another AOR,
 *         or invalid as for sw_bind_put()); -EEXIST (@p rec identifies
 *         another device of the AOR: nothing changed); -E2BIG, -ENOSPC
 *         (a new source, source table full) or -ENOMEM as sw_bind_put().
 */
int sw_bind_replace(struct sw_bind_table *t, uint64_t id, const struct sw_bind_rec *rec,
		    uint64_t now_tsc);

/** Remove device @p id (and release its source). @return 0 or -ENOENT. */
int sw_bind_del(struct sw_bind_table *t, uint64_t id);

/** Remove every device of @p aor ("Contact: *"). @return how many. */
unsigned sw_bind_del_aor(struct sw_bind_table *t, const char *aor, size_t len);

/**
 * Remove every device whose expires_at <= @p now_s, calling @p fn (may be
 * NULL) on each just before it goes. @return how many.
 */
unsigned sw_bind_expire(struct sw_bind_table *t, int64_t now_s,
			void (*fn)(const struct sw_device *d, void *arg), void *arg);

/**
 * The ids of up to @p max devices whose source is @p ip:@p port (the
 * writer's index: the writer's thread only). @return how many were written.
 */
unsigned sw_bind_ids_on_src(const struct sw_bind_table *t, const struct sw_ip *ip, uint16_t port,
			    uint64_t *ids, unsigned max);

/** Number of devices (writer's count). */
unsigned sw_bind_count(const struct sw_bind_table *t);

/** Capacity given at creation. */
unsigned sw_bind_max(const struct sw_bind_table *t);

/** Bytes allocated for devices now (strings and nodes included; telemetry, bench). */
size_t sw_bind_bytes(const struct sw_bind_table *t);

/** Fill @p rec with borrowed views of @p d (e.g. to persist it). */
void sw_bind_rec_of(const struct sw_device *d, struct sw_bind_rec *rec);

#endif /* SW_BIND_H */
