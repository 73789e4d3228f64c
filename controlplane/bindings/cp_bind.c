/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bindings on the control plane (docs/design.md §1 steps 1-2, 7, §7): the
 * tables change only here, and only when the PBX has answered 2xx (or a
 * push service said a token is dead); every change is queued to the store
 * and committed before the 2xx reaches the app.
 */
#include <strings.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_jhash.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/output/cp_msg.h"
#include "common/sw_pn.h"
#include "controlplane/bindings/cp_ping.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "controlplane/bindings/cp_refresh.h"
#include "controlplane/store/cp_store.h"
#include "pushd/pd.h"

#define BAN_SLOTS 4096 /* sources tracked for failed authentication */

struct ban_slot {
	struct sw_ip ip;
	uint32_t failures;
	int64_t window_start, banned_until;
};

static struct ban_slot bans[BAN_SLOTS];
static bool dirty;

static bool has_pnsreg(const uint8_t *msg, struct sip_slice v)
{
	static const char tag[] = "+sip.pnsreg";

	for (unsigned i = v.off; i + sizeof(tag) - 1 <= (unsigned)v.off + v.len; i++)
		if (strncasecmp((const char *)msg + i, tag, sizeof(tag) - 1) == 0)
			return true;
	return false;
}

/* Does the contact URI carry the "ob" parameter (RFC 5626 §5.4: the app
 * wants to keep its flow alive, and to hear how often: Flow-Timer)? */
static bool has_ob(const uint8_t *msg, struct sip_slice params)
{
	const char *p = (const char *)msg + params.off, *end = p + params.len;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t n = (size_t)((semi != NULL ? semi : end) - p);

		if (n == 2 && strncasecmp(p, "ob", 2) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

int cp_bind_req_from(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		     struct cp_bind_req *req)
{
	const struct sip_msg *sm = &meta->sip;
	const struct sip_uri *to = &sm->to.uri;
	char *at = req->s, *end = req->s + sizeof(req->s);
	char aor[SW_AOR_MAX];
	int n, rc;

	memset(&req->rec, 0, sizeof(req->rec));
	req->star = sm->contact_star;
	req->pnsreg = false;
	req->ob = false;
	req->has_contact = !sm->contact_star && sm->n_contacts > 0;
	req->asked_expires = -1;

	/* AOR: "user@host" of To (RFC 3261 §10.2), the same key the workers
	 * build from a Request-URI (sw_aor_canon()). */
	n = sw_aor_canon(aor, sizeof(aor), sip_ptr(msg, to->user), to->user.len,
			 sip_ptr(msg, to->host), to->host.len, to->host_is_ipv6);
	if (n < 0)
		return n;
	req->rec.aor = cp_keep(&at, end, aor, (size_t)n);
	req->rec.aor_len = (uint16_t)n;
	req->rec.src = meta->src;
	req->rec.sport = meta->sport;
	req->rec.iface = meta->iface;
	req->rec.tp = meta->tp;
	req->rec.conn = meta->conn;
	if (!req->has_contact)
		return 0;

	const struct sip_contact *c = &sm->contact;

	if (c->uri.whole.len >= SW_CONTACT_MAX || c->instance.len >= SW_INSTANCE_MAX)
		return -E2BIG;
	req->rec.contact = cp_keep(&at, end, sip_ptr(msg, c->uri.whole), c->uri.whole.len);
	req->rec.contact_len = c->uri.whole.len;
	req->contact = req->rec.contact;
	req->contact_len = req->rec.contact_len;
	req->rec.instance = cp_keep(&at, end, sip_ptr(msg, c->instance), c->instance.len);
	req->rec.instance_len = c->instance.len;
	req->asked_expires = c->expires >= 0 ? c->expires : sm->expires;
	req->pnsreg = has_pnsreg(msg, c->value);
	req->ob = has_ob(msg, c->uri.params);
	rc = cp_push_addr_read(msg, sm, &req->rec, &at, end, &req->pn_why);
	if (rc < 0)
		return rc;
	req->pn_unknown = rc == CP_PUSH_ADDR_UNKNOWN;
	req->pn_unusable = rc == CP_PUSH_ADDR_UNUSABLE;
	/* At the bound, a new device is refused before it reaches the PBX;
	 * devices already bound can always refresh (sw_bind.h). */
	if (req->asked_expires != 0 && sw_bind_count(cp->dp->bind) >= sw_bind_max(cp->dp->bind) &&
	    sw_bind_match(cp->dp->bind, &req->rec) == NULL)
		return -ENOSPC;
	return 0;
}

int cp_bind_commit(struct cp_ctx *cp, const struct cp_bind_req *req, int32_t expires, uint64_t *id)
{
	struct sw_bind_table *t = cp->dp->bind;
	const struct sw_device *d;
	struct sw_bind_rec rec = req->rec;
	int rc;

	*id = 0;
	if (req->star) {
		unsigned n = sw_bind_del_aor(t, rec.aor, rec.aor_len);

		cp_count(cp, CP_C_BINDINGS_REMOVED, n);
		if (cp->store != NULL)
			cp_store_del_aor(cp->store, rec.aor, rec.aor_len);
		dirty = true;
		return 0;
	}
	if (!req->has_contact)
		return 0;
	d = sw_bind_match(t, &rec);
	if (expires <= 0) {
		if (d != NULL) {
			sw_bind_del(t, d->id);
			cp_count(cp, CP_C_BINDINGS_REMOVED, 1);
		}
		if (cp->store != NULL)
			cp_store_del(cp->store, &rec);
		dirty = true;
		return 0;
	}
	rec.registered_at = sw_wall_s();
	rec.expires_at = rec.registered_at + expires;
	/* Its connection ended while the PBX answered: bound asleep. */
	if (rec.conn != 0 && !cp_flow_open(cp, rec.conn))
		rec.conn = 0;
	/* A refresh over the same connection keeps the time it was first
	 * bound over it: /sipwake/bindings shows the flow's age. */
	rec.conn_since = d != NULL && rec.conn != 0 && d->conn == rec.conn ? d->conn_since
									   : rec.registered_at;
	rc = sw_bind_put(t, &rec, rte_rdtsc(), id);
	if (rc != 0) {
		CP_LOG(WARNING, "binding %.*s not kept: %s", rec.aor_len, rec.aor, strerror(-rc));
		return rc;
	}
	cp_count(cp, d != NULL ? CP_C_BINDINGS_REFRESHED : CP_C_BINDINGS_CREATED, 1);
	if (cp->store != NULL && cp_store_put(cp->store, &rec) != 0)
		return -EIO;
	dirty = true;
	return 0;
}

bool cp_bind_dirty(const struct cp_ctx *cp)
{
	(void)cp;
	return dirty;
}

void cp_bind_touch(struct cp_ctx *cp)
{
	(void)cp;
	dirty = true;
}

int cp_bind_sync(struct cp_ctx *cp, uint64_t *ticket)
{
	int rc = 0;

	if (dirty && cp->store != NULL) {
		rc = cp_store_submit(cp->store, ticket);
		if (rc < 0)
			CP_LOG(ERR, "binding store commit failed: %s", cp_store_error(cp->store));
	}
	dirty = false;
	return rc;
}

static void expired_one(const struct sw_device *d, void *arg)
{
	struct cp_ctx *cp = arg;
	struct sw_bind_rec rec;

	sw_bind_rec_of(d, &rec);
	/* Redis expires what another edge wrote by itself (its TTL). */
	if (cp->store != NULL && d->peer == 0)
		cp_store_del(cp->store, &rec);
	dirty = true;
}

struct tick_arg {
	struct cp_ctx *cp;
	int64_t now;
	bool ping, refresh;
	bool refresh_stop;	 /* ring full, table full or budget spent: next second */
	unsigned refresh_budget; /* pushes this second */
};

/*
 * Pre-expiry refresh pushes (RFC 8599 §5.6.1.1; docs/design.md §7 "Push kinds").
 *
 * Who: every device with a push address. Those whose contact carried
 * +sip.pnsreg were promised one by our 2xx (Feature-Caps
 * +sip.pnsreg="<refresh_before_s>", cp_reg.c) and leave refreshing to us;
 * the others get one too (docs/design.md §1.3): an app the OS has
 * suspended would otherwise let its binding expire silently and miss every
 * call until it is opened again.
 * What: a background push (APNs push type background, priority 5, topic the
 * bundle without .voip; FCM data kind "background"), never a VoIP push: iOS
 * ends apps that get a VoIP push without reporting a call.
 * When: once per registration, wake.refresh_before_s before it expires but
 * not before half its granted lifetime. Without that floor a PBX granting
 * less than refresh_before_s (Asterisk's minexpiry is 60 s, our default
 * 120) would have each push answered by a REGISTER whose new binding is due
 * again at once: a push and a REGISTER per device every second.
 * Once: cp_refresh.h marks the registration (registered_at, expires_at)
 * pushed; a refresh or re-registration is a new registration and gets its
 * own push. After a restart, registrations loaded already inside their
 * window count as pushed (load_one()): the previous process sent those, and
 * sending them all again in the first second would be a push storm and a
 * REGISTER storm at the PBX. The price: a registration whose window opened
 * while sipwake was down gets no refresh push (its app's own timer, if it
 * keeps one, still runs).
 * Rate: at most a quarter of pushd's ring a second, so refreshes never
 * crowd out call pushes (a full ring is a 503 to a held call); a full ring
 * ends the round; whatever was not sent goes the next second.
 */
static bool refresh_due(const struct cp_ctx *cp, uint8_t pn_form, int64_t registered_at,
			int64_t expires_at, int64_t now)
{
	int64_t lead = RTE_MIN((int64_t)cp->cfg.refresh_before_s, (expires_at - registered_at) / 2);

	return pn_form != SW_PN_NONE && expires_at > now && expires_at - now <= lead;
}

static bool provider_configured(const struct cp_ctx *cp, enum pd_provider p)
{
	return p == PD_APNS  ? cp->cfg.push.n_apns > 0
	       : p == PD_FCM ? cp->cfg.push.n_fcm > 0
			     : cp->cfg.push.n_webpush > 0;
}

static void refresh_one(struct tick_arg *a, const struct sw_device *d)
{
	static int64_t full_logged;
	struct cp_ctx *cp = a->cp;
	const struct cp_refresh_entry *e;
	struct cp_refresh_entry mark = {d->id, d->registered_at, d->expires_at, a->now};
	struct pd_request rq;
	int rc;

	if (!refresh_due(cp, d->pn_form, d->registered_at, d->expires_at, a->now))
		return;
	e = cp_refresh_find(cp->refresh, d->id);
	if (e != NULL && e->registered_at == d->registered_at && e->expires_at == d->expires_at)
		return;
	/* The top bit of a push id says "refresh" (CP_PUSH_REFRESH): ids
	 * count registrations from 1 and never get there; never mistake one. */
	if (a->refresh_stop || (d->id & CP_PUSH_REFRESH) != 0)
		return;
	/* Marked before it is sent: a push that cannot be marked would go
	 * again every second. */
	rc = cp_refresh_note(cp->refresh, &mark, a->now);
	if (rc != 0) {
		if (a->now - full_logged >= 60) {
			CP_LOG(WARNING, "refresh pushes held back: %s", strerror(-rc));
			full_logged = a->now;
		}
		a->refresh_stop = true;
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rc = cp_push_request_of(d, PD_KIND_BACKGROUND, &rq, NULL);
	if (rc == -ENODEV)
		cp_count(cp, CP_C_REFRESH_NO_TOKEN,
			 1); /* a VoIP token alone: never a background push */
	if (rc == 0 && !provider_configured(cp, rq.provider))
		rc = -ENOTSUP;
	if (rc != 0) {
		/* Stays marked: asking again each second would not change it. */
		CP_LOG(DEBUG, "no refresh push for %s (device %" PRIu64 "): %s", d->aor, d->id,
		       strerror(-rc));
		return;
	}
	rq.id = CP_PUSH_REFRESH | d->id;
	if ((size_t)snprintf(rq.aor, sizeof(rq.aor), "sip:%s", d->aor) >= sizeof(rq.aor))
		snprintf(rq.aor, sizeof(rq.aor), "%s", d->aor); /* aor_len < SW_AOR_MAX fits */
	rq.deadline_ms = 0; /* pushd's own: now + push.wake_window_s */
	rc = pd_submit(cp->pd, &rq);
	if (rc != 0) {
		/* -ENOBUFS (ring full) or -ENOMEM: the next second tries again. */
		cp_refresh_forget(cp->refresh, d->id);
		a->refresh_stop = true;
		return;
	}
	cp_count(cp, CP_C_REFRESH_PUSHES, 1);
	if (--a->refresh_budget == 0)
		a->refresh_stop = true;
}

static int tick_one(const struct sw_device *d, void *arg)
{
	struct tick_arg *a = arg;

	if (a->ping)
		cp_ping_device(a->cp, d, a->now);
	if (a->refresh)
		refresh_one(a, d);
	return 0;
}

struct ban_sweep {
	uint64_t now;
	unsigned n;
	struct sw_ip ip[64];
};

static int ban_over(const struct sw_src *e, void *arg)
{
	struct ban_sweep *w = arg;

	if (sw_src_last_alive(e) <= w->now)
		w->ip[w->n++] = e->ip;
	return w->n == RTE_DIM(w->ip);
}

void cp_bind_tick(struct cp_ctx *cp, uint64_t now_tsc)
{
	int64_t now = sw_wall_s();
	unsigned n;
	struct ban_sweep w = {.now = now_tsc};
	struct tick_arg a = {.cp = cp, .now = now};

	/* Bans that ran out leave the filter (64 a second is plenty). */
	if (cp->dp->banned != NULL) {
		sw_src_foreach(cp->dp->banned, ban_over, &w);
		for (unsigned i = 0; i < w.n; i++)
			sw_src_unbind(cp->dp->banned, &w.ip[i], 0);
	}
	n = sw_bind_expire(cp->dp->bind, now, expired_one, cp);
	if (n > 0)
		cp_count(cp, CP_C_BINDINGS_EXPIRED, n);
	/* Pings: each device once per interval, spread over it by id. */
	a.ping = cp->cfg.ping_interval_s > 0;
	a.refresh = cp->refresh != NULL && cp->pd != NULL &&
		    cp->cfg.push.n_apns + cp->cfg.push.n_fcm + cp->cfg.push.n_webpush > 0;
	a.refresh_budget = RTE_MAX(cp->cfg.push.ring_size / 4, 1u);
	if (a.ping || a.refresh)
		sw_bind_foreach(cp->dp->bind, tick_one, &a);
}

int cp_bind_init(struct cp_ctx *cp)
{
	if (cp->cfg.refresh_before_s == 0)
		return 0;
	cp->refresh = cp_refresh_create(cp->cfg.max_devices);
	return cp->refresh != NULL ? 0 : -ENOMEM;
}

void cp_bind_fini(struct cp_ctx *cp)
{
	cp_flow_fini(cp);
	cp_refresh_free(cp->refresh);
	cp->refresh = NULL;
}

static int load_one(const struct sw_bind_rec *r, void *arg)
{
	struct cp_ctx *cp = arg;
	int64_t now = sw_wall_s();
	uint64_t id;
	int rc = sw_bind_put(cp->dp->bind, r, rte_rdtsc(), &id);

	if (rc != 0) {
		CP_LOG(WARNING, "stored binding %.*s not loaded: %s", r->aor_len, r->aor,
		       strerror(-rc));
		return 0;
	}
	cp_count(cp, CP_C_BINDINGS_LOADED, 1);
	/* Inside its refresh window already: pushed before the restart, not
	 * again (no storm; see refresh_due()). */
	if (cp->refresh != NULL &&
	    refresh_due(cp, r->pn_form, r->registered_at, r->expires_at, now))
		cp_refresh_note(
			cp->refresh,
			&(struct cp_refresh_entry){id, r->registered_at, r->expires_at, now}, now);
	return 0;
}

int cp_reg_load(struct cp_ctx *cp)
{
	if (cp->store == NULL)
		return 0;
	return cp_store_load(cp->store, sw_wall_s(), load_one, cp);
}

static struct ban_slot *ban_slot_of(const struct sw_ip *ip)
{
	return &bans[rte_jhash(ip->a, 16, 0xba7) % BAN_SLOTS];
}

bool cp_ban_check(struct cp_ctx *cp, const struct sw_ip *ip)
{
	const struct ban_slot *b = ban_slot_of(ip);

	(void)cp;
	return sw_ip_eq(&b->ip, ip) && b->banned_until > sw_wall_s();
}

void cp_ban_note_failure(struct cp_ctx *cp, const struct sw_ip *ip)
{
	struct ban_slot *b = ban_slot_of(ip);
	int64_t now = sw_wall_s();
	char s[INET6_ADDRSTRLEN];

	/* One slot per hash: a colliding source takes it over, so tracking is
	 * bounded; a guesser that keeps going fills it again at once. */
	if (!sw_ip_eq(&b->ip, ip) || now - b->window_start > (int64_t)cp->cfg.auth_ban_window_s) {
		if (!sw_ip_eq(&b->ip, ip))
			b->banned_until = 0;
		b->ip = *ip;
		b->failures = 0;
		b->window_start = now;
	}
	if (++b->failures < cp->cfg.auth_ban_failures)
		return;
	b->banned_until = now + cp->cfg.auth_ban_s;
	b->failures = 0;
	b->window_start = now;
	cp_count(cp, CP_C_AUTH_BANS, 1);
	/* In the filter: the workers drop the source before any scan. Full
	 * table: the control plane's own check still holds the ban. */
	if (cp->dp->banned != NULL)
		sw_src_bind(cp->dp->banned, ip, 0, 0,
			    rte_rdtsc() + rte_get_tsc_hz() * (uint64_t)cp->cfg.auth_ban_s);
	if (sw_ip_is_v4(ip))
		inet_ntop(AF_INET, &ip->a[12], s, sizeof(s));
	else
		inet_ntop(AF_INET6, ip->a, s, sizeof(s));
	CP_LOG(WARNING, "%s banned for %u s: %u failed authentications within %u s", s,
	       cp->cfg.auth_ban_s, cp->cfg.auth_ban_failures, cp->cfg.auth_ban_window_s);
}

/* The device's other tokens still live: mark @target dead, keep the rest
 * (same push address, same keys: one row rewritten). */
static int drop_one_token(struct cp_ctx *cp, const struct sw_device *d, unsigned target)
{
	struct sw_bind_rec rec;
	int rc;

	sw_bind_rec_of(d, &rec);
	rec.pn_dead |= (uint8_t)(1u << target);
	/* The edge that writes a binding is the one it is bound through
	 * (docs/cluster.md): another's pushes only when that one is down. */
	rec.peer = 0;
	rc = sw_bind_replace(cp->dp->bind, d->id, &rec, rte_rdtsc());
	if (rc != 0) {
		CP_LOG(WARNING, "token %u of %s (device %" PRIu64 ") is dead, not marked: %s",
		       target, rec.aor, d->id, strerror(-rc));
		return rc;
	}
	CP_LOG(NOTICE, "token %u of %s (device %" PRIu64 ") is dead: its other token stays", target,
	       rec.aor, d->id);
	cp_count(cp, CP_C_WAKE_DEAD_TOKENS, 1);
	if (cp->store != NULL && cp_store_put(cp->store, &rec) != 0)
		CP_LOG(ERR, "binding store: %s", cp_store_error(cp->store));
	dirty = true;
	return 0;
}

int cp_bind_drop_push(struct cp_ctx *cp, uint64_t id, int64_t dead_since_ms, unsigned target)
{
	struct sw_bind_table *t = cp->dp->bind;
	const struct sw_device *d = sw_bind_by_id(t, id);
	struct sw_bind_rec old, rec;
	struct sw_pn_addr a;
	const char *why;
	int rc;

	if (d == NULL || d->pn_form == SW_PN_NONE)
		return -ENOENT;
	/* RFC 8599 §1 / Apple's 410 timestamp: a registration after the token
	 * died re-validated it. registered_at has whole seconds: the second the
	 * token died counts as after (keeping a dead token costs a 480 at once;
	 * dropping a live one costs every call until the app registers again). */
	if (dead_since_ms > 0 && d->registered_at >= dead_since_ms / 1000)
		return -EALREADY;
	if (target < SW_PN_TARGETS_MAX &&
	    sw_pn_parse(d->pn_form, d->pn_provider, d->pn_prid, d->pn_prid_len, d->pn_param,
			d->pn_param_len, &a, &why) == 0 &&
	    a.n > 1 && (d->pn_dead | 1u << target) != (1u << a.n) - 1u)
		return drop_one_token(cp, d, target);
	/* Its last live token: the push address goes. @d stays readable until this thread's next quiescent state, so @old
	 * may borrow its strings across the replacement. */
	sw_bind_rec_of(d, &old);
	rec = old;
	rec.peer = 0; /* written here: bound through this edge from now on */
	rec.pn_form = SW_PN_NONE;
	rec.pn_provider = rec.pn_prid = rec.pn_param = "";
	rec.pn_provider_len = rec.pn_prid_len = rec.pn_param_len = 0;
	rc = sw_bind_replace(t, id, &rec, rte_rdtsc());
	if (rc == -EEXIST) {
		/* Without its token the device is another of the AOR (same
		 * contact, no instance, no push address): that one keeps the
		 * contact bound, this one goes. */
		sw_bind_del(t, id);
		CP_LOG(NOTICE,
		       "push token of %s (device %" PRIu64 ") is dead: device removed, its contact "
		       "stays bound by another device",
		       old.aor, id);
	} else if (rc != 0) {
		CP_LOG(WARNING, "push token of %s (device %" PRIu64 ") is dead, not removed: %s",
		       old.aor, id, strerror(-rc));
		return rc;
	} else {
		CP_LOG(NOTICE,
		       "push token of %s (device %" PRIu64 ") is dead: push address removed, "
		       "binding kept",
		       old.aor, id);
	}
	cp_count(cp, CP_C_WAKE_DEAD_TOKENS, 1);
	/* The device key may change with the push address gone (cp_store.h):
	 * the old row goes, the new one is written, in one batch. */
	if (cp->store != NULL &&
	    (cp_store_del(cp->store, &old) != 0 || (rc == 0 && cp_store_put(cp->store, &rec) != 0)))
		CP_LOG(ERR, "binding store: %s", cp_store_error(cp->store));
	dirty = true;
	return 0;
}

void cp_bind_push_result(struct cp_ctx *cp, const struct pd_result *r)
{
	uint64_t id = r->id & ~CP_PUSH_REFRESH;
	const struct cp_refresh_entry *e;
	int64_t since = r->provider_ts_ms;
	int rc;

	if (r->status == PD_DELIVERED)
		return;
	if (r->status != PD_DEAD_TOKEN) {
		/* The registration simply expires if the app does not come:
		 * nothing to undo, and no retry (pushd retried what it could). */
		CP_LOG(INFO, "refresh push to device %" PRIu64 ": %s (HTTP %d %s)", id,
		       pd_status_name(r->status), r->http_status, r->reason);
		return;
	}
	/* FCM says no time: the token was dead when the push went, so a
	 * registration after that (maybe with a new token) keeps its address. */
	e = cp->refresh != NULL ? cp_refresh_find(cp->refresh, id) : NULL;
	if (since == 0 && e != NULL && e->sent_at > 0)
		since = e->sent_at * 1000;
	rc = cp_bind_drop_push(cp, id, since, r->target);
	if (rc == -EALREADY)
		CP_LOG(INFO,
		       "refresh push to device %" PRIu64 ": token dead since %" PRId64
		       " ms, but the device registered after that: kept",
		       id, since);
}
