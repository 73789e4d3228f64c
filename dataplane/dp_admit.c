/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admission of SIP from sources that are neither the PBX nor a bound device
 * (docs/admission.md): which budget each message is charged to, so that
 * nothing legitimate waits behind junk.
 *
 *   expected   a REGISTER naming a bound device by its push address or
 *              +sip.instance (a woken app on a new address): that device's
 *              own bucket, filter.expected_rate. A REGISTER for an AOR a held
 *              call waits on (the device may have a new token): that AOR's.
 *   newcomer   any other REGISTER: its source IP's bucket, then its /24
 *              (IPv4) or /48 (IPv6), then the box's (filter.unknown_*).
 *   SYNs       a TCP SYN to a stream port from a source that is not the
 *              PBX: its source IP's bucket, then the box's (streams.syn_*),
 *              in tables of their own, so a SYN flood spends no SIP budget.
 *              Past the box's budget, a source that has proven it is real
 *              (it answered a challenge: below) still gets in; any other
 *              is challenged, within streams.syn_challenge_rate.
 *   challenge  a SYN-ACK whose acknowledgment number is a cookie (a keyed
 *              SipHash of the source, the ports and a 64 s time slot): the
 *              client's stack refuses it with an RST carrying that number
 *              (RFC 9293 §3.10.7.3, SYN-SENT: an unacceptable ACK) and
 *              sends its SYN again after its RTO; a spoofed source never
 *              answers. The RST proves the source for DP_SYN_PROVEN_S.
 *   answers    what a worker sends to an unknown source (200 to OPTIONS,
 *              403 / 503, ICMP echo replies): one box-wide bucket,
 *              filter.answer_rate, so junk cannot drive the TX path or the
 *              neighbour resolver.
 * Junk that shows what it is (not SIP, malformed, a scanner, a response, a
 * method unknown sources may not send) is dropped before it reaches any of
 * these (dp_sip.c).
 *
 * Buckets are per worker and need no lock. Per-key buckets (source, prefix,
 * device) are exact for a source IP, which RSS keeps on one worker
 * (dp_port.c); a device or prefix reached from several workers gets one
 * bucket on each. Box-wide rates are split evenly over the workers.
 * Tables are 4-way set-associative with the least recently used way
 * replaced: a key that is forgotten comes back with a full bucket, so an
 * overflowing table is generous, never unfair.
 *
 * Measured (callgrind, bench_dp --mix expected-in-flood, 16k bound
 * devices): recognising a REGISTER as expected and charging its device is
 * ~1.9k instructions (the push key unescaped and hashed, one lookup, one
 * bucket) on top of its scan (~8.5k for a 780-byte REGISTER); the mix runs
 * at ~600 cycles a frame with NIC checksums, every such REGISTER admitted.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include <sodium.h>

#include "common/sw_hash.h"
#include "dataplane/dp_internal.h"

#define BK_WAYS 4

/* Key spaces of the per-key table of devices and AORs. */
#define KEY_DEVICE 1
#define KEY_AOR	   2

struct bk_entry {
	uint64_t k[2];
	uint64_t last_tsc; /* 0: free */
	uint64_t credit;   /* in TSC ticks: cost ticks buy one token */
};

struct bk_table {
	uint32_t set_mask;
	struct bk_entry e[];
};

/* One rate in TSC ticks: cost per token, depth. */
struct bk_rate {
	uint64_t cost, cap;
};

/* One bucket of its own (box-wide shares). */
struct bk_one {
	uint64_t credit, last;
};

struct dp_admit {
	uint64_t hz;
	unsigned n_workers;
	struct dp_rates seen; /* the policy's rates the costs below come from */
	struct bk_rate source, prefix, global, expected, answer, syn, syn_global;
	struct bk_one global_b, answer_b, syn_b;
	struct bk_table *sources; /* per source IP */
	struct bk_table *syns;	  /* SYNs per source IP */
	struct bk_table *prefixes;
	struct bk_table *keys; /* devices and AORs */
	/* The SYN challenge's, last: touched only past the box's SYN budget,
	 * they stay off the cache lines every SIP message reads. */
	struct bk_rate syn_challenge;
	struct bk_one challenge_b;
	struct bk_table *proven; /* sources that answered a challenge: last_tsc the proof */
	uint64_t slot_ticks;	 /* a cookie's time slot, DP_SYN_SLOT_S in TSC ticks */
	uint8_t cookie_key[crypto_shorthash_KEYBYTES];
};

static struct bk_table *table_new(uint32_t entries, int socket)
{
	uint32_t sets = rte_align32pow2(RTE_MAX(entries / BK_WAYS, 1u));
	struct bk_table *t;

	t = rte_zmalloc_socket("sw_admit", sizeof(*t) + (size_t)sets * BK_WAYS * sizeof(t->e[0]),
			       RTE_CACHE_LINE_SIZE, socket);
	if (t != NULL)
		t->set_mask = sets - 1;
	return t;
}

struct dp_admit *dp_admit_create(uint32_t source_entries, uint32_t key_entries, unsigned n_workers,
				 int socket)
{
	struct dp_admit *a =
		rte_zmalloc_socket("sw_admit", sizeof(*a), RTE_CACHE_LINE_SIZE, socket);

	if (a == NULL)
		return NULL;
	a->hz = rte_get_tsc_hz();
	a->n_workers = RTE_MAX(n_workers, 1u);
	a->sources = table_new(source_entries, socket);
	a->prefixes = table_new(key_entries, socket);
	a->keys = table_new(key_entries, socket);
	a->syns = table_new(source_entries, socket);
	a->proven = table_new(source_entries, socket);
	/* The cookie's key: random per worker (RSS keeps a source on one
	 * worker, its RST with it), from the kernel's CSPRNG. */
	if (a->sources == NULL || a->prefixes == NULL || a->keys == NULL || a->syns == NULL ||
	    a->proven == NULL || sodium_init() < 0) {
		dp_admit_free(a);
		return NULL;
	}
	randombytes_buf(a->cookie_key, sizeof(a->cookie_key));
	a->slot_ticks = a->hz * DP_SYN_SLOT_S;
	return a;
}

void dp_admit_free(struct dp_admit *a)
{
	if (a == NULL)
		return;
	rte_free(a->sources);
	rte_free(a->prefixes);
	rte_free(a->keys);
	rte_free(a->syns);
	rte_free(a->proven);
	rte_free(a);
}

static struct bk_rate rate_of(const struct dp_admit *a, struct dp_rate r, unsigned share)
{
	/* A zero rate or burst (a policy filled by hand) means one token. */
	uint32_t rate = RTE_MAX(r.rate / share, 1u), burst = RTE_MAX(r.burst / share, 1u);
	uint64_t cost = RTE_MAX(a->hz / rate, (uint64_t)1);

	return (struct bk_rate){.cost = cost, .cap = cost * burst};
}

/* A new policy (reload) recomputes the costs; buckets keep their credit. */
static void configure(struct dp_admit *a, const struct dp_rates *r)
{
	a->seen = *r;
	a->source = rate_of(a, r->source, 1);
	a->prefix = rate_of(a, r->prefix, 1);
	a->expected = rate_of(a, r->expected, 1);
	a->global = rate_of(a, r->global, a->n_workers);
	a->answer = rate_of(a, r->answer, a->n_workers);
	a->syn = rate_of(a, r->syn, 1);
	a->syn_global = rate_of(a, r->syn_global, a->n_workers);
	a->syn_challenge = rate_of(a, r->syn_challenge, a->n_workers);
	a->challenge_b.credit = RTE_MIN(a->challenge_b.credit, a->syn_challenge.cap);
	a->syn_b.credit = RTE_MIN(a->syn_b.credit, a->syn_global.cap);
	a->global_b.credit = RTE_MIN(a->global_b.credit, a->global.cap);
	a->answer_b.credit = RTE_MIN(a->answer_b.credit, a->answer.cap);
}

/* ~5 cycles: the policy pointer changes only on reload, its rates rarely. */
static inline struct dp_admit *admit_of(struct dp_wstate *s)
{
	struct dp_admit *a = s->w->admit;

	if (unlikely(memcmp(&a->seen, &s->pol->rates, sizeof(a->seen)) != 0))
		configure(a, &s->pol->rates);
	return a;
}

static inline bool bucket_take(uint64_t *credit, uint64_t *last, uint64_t now,
			       const struct bk_rate *r)
{
	uint64_t c = *credit + (now > *last ? now - *last : 0);

	*last = now;
	if (c > r->cap)
		c = r->cap;
	if (c < r->cost) {
		*credit = c;
		return false;
	}
	*credit = c - r->cost;
	return true;
}

/* The entry of @p k0/@p k1, made with a full bucket if the table had none. */
static struct bk_entry *entry_of(struct bk_table *t, uint64_t k0, uint64_t k1, uint64_t now,
				 const struct bk_rate *r)
{
	uint64_t h = sw_fmix64(k0 ^ (k1 * 0x9e3779b97f4a7c15ull));
	struct bk_entry *set = &t->e[((uint32_t)h & t->set_mask) * BK_WAYS], *victim = &set[0];

	for (unsigned i = 0; i < BK_WAYS; i++) {
		if (set[i].last_tsc != 0 && set[i].k[0] == k0 && set[i].k[1] == k1)
			return &set[i];
		/* Free ways have last_tsc 0, so they are the oldest of all. */
		if (set[i].last_tsc < victim->last_tsc)
			victim = &set[i];
	}
	*victim =
		(struct bk_entry){.k = {k0, k1}, .last_tsc = now != 0 ? now : 1, .credit = r->cap};
	return victim;
}

static inline void ip_words(const struct sw_ip *ip, uint64_t w[2])
{
	memcpy(w, ip->a, 16);
}

enum dp_drop dp_admit_source(struct dp_wstate *s, const struct sw_ip *ip, uint64_t now)
{
	struct dp_admit *a = admit_of(s);
	struct bk_entry *e;
	uint64_t w[2];

	ip_words(ip, w);
	e = entry_of(a->sources, w[0], w[1], now, &a->source);
	return bucket_take(&e->credit, &e->last_tsc, now, &a->source) ? DP_D_MAX
								      : DP_D_FILTER_RATE_SOURCE;
}

/* The entry of @p k0/@p k1, or NULL: a lookup that makes nothing. */
static struct bk_entry *entry_find(struct bk_table *t, uint64_t k0, uint64_t k1)
{
	uint64_t h = sw_fmix64(k0 ^ (k1 * 0x9e3779b97f4a7c15ull));
	struct bk_entry *set = &t->e[((uint32_t)h & t->set_mask) * BK_WAYS];

	for (unsigned i = 0; i < BK_WAYS; i++)
		if (set[i].last_tsc != 0 && set[i].k[0] == k0 && set[i].k[1] == k1)
			return &set[i];
	return NULL;
}

static bool proven(struct dp_admit *a, const uint64_t w[2], uint64_t now)
{
	const struct bk_entry *e = entry_find(a->proven, w[0], w[1]);

	return e != NULL && now - e->last_tsc < a->hz * DP_SYN_PROVEN_S;
}

enum dp_drop dp_admit_syn(struct dp_wstate *s, const struct sw_ip *ip, uint64_t now)
{
	struct dp_admit *a = admit_of(s);
	struct bk_entry *e;
	uint64_t w[2];

	ip_words(ip, w);
	e = entry_of(a->syns, w[0], w[1], now, &a->syn);
	if (!bucket_take(&e->credit, &e->last_tsc, now, &a->syn))
		return DP_D_TCP_SYN_RATE_SOURCE;
	if (bucket_take(&a->syn_b.credit, &a->syn_b.last, now, &a->syn_global))
		return DP_D_MAX;
	if (proven(a, w, now)) {
		dp_count(s->ctr, DP_C_TCP_SYN_PROVEN, 1);
		return DP_D_MAX;
	}
	e->credit += a->syn.cost; /* the source's bucket did not cause the drop */
	if (s->pol->rates.syn_challenge.rate != 0 &&
	    bucket_take(&a->challenge_b.credit, &a->challenge_b.last, now, &a->syn_challenge))
		return DP_D_TCP_SYN_CHALLENGED;
	return DP_D_TCP_SYN_RATE_GLOBAL;
}

/* SipHash-2-4 (libsodium) of the source, the ports and @p slot. */
static uint32_t cookie_at(const struct dp_admit *a, const struct sw_ip *src, uint16_t sport,
			  uint16_t dport, uint64_t slot)
{
	uint8_t in[16 + 2 + 2 + 8], out[crypto_shorthash_BYTES];
	uint32_t c;

	memcpy(in, src->a, 16);
	memcpy(in + 16, &sport, 2);
	memcpy(in + 18, &dport, 2);
	memcpy(in + 20, &slot, 8);
	crypto_shorthash(out, in, sizeof(in), a->cookie_key);
	memcpy(&c, out, sizeof(c));
	return c;
}

uint32_t dp_admit_cookie(struct dp_wstate *s, const struct sw_ip *src, uint16_t sport,
			 uint16_t dport, uint64_t now)
{
	const struct dp_admit *a = admit_of(s);

	return cookie_at(a, src, sport, dport, now / a->slot_ticks);
}

bool dp_admit_proof(struct dp_wstate *s, const struct sw_ip *src, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint64_t now)
{
	struct dp_admit *a = admit_of(s);
	uint64_t slot = now / a->slot_ticks, w[2];
	struct bk_entry *e;

	/* This slot's cookie, or the last one's: a proof is an RTT old. */
	if (seq != cookie_at(a, src, sport, dport, slot) &&
	    (slot == 0 || seq != cookie_at(a, src, sport, dport, slot - 1)))
		return false;
	ip_words(src, w);
	e = entry_of(a->proven, w[0], w[1], now, &a->syn);
	e->last_tsc = now != 0 ? now : 1;
	return true;
}

bool dp_admit_answer(struct dp_wstate *s, uint64_t now)
{
	struct dp_admit *a = admit_of(s);

	return bucket_take(&a->answer_b.credit, &a->answer_b.last, now, &a->answer);
}

/* The /24 of an IPv4 address (IPv4-mapped form), the /48 of an IPv6 one. */
static void prefix_words(const struct sw_ip *ip, uint64_t w[2])
{
	struct sw_ip p = *ip;

	if (sw_ip_is_v4(ip))
		p.a[15] = 0;
	else
		memset(&p.a[6], 0, 10);
	ip_words(&p, w);
}

/* A newcomer: its source's bucket, its prefix's, the box's. A bucket that
 * said yes is refunded when a later one says no: it did not cause the drop. */
static enum dp_drop newcomer(struct dp_admit *a, const struct sw_ip *ip, uint64_t now)
{
	struct bk_entry *src, *pfx;
	uint64_t w[2];

	ip_words(ip, w);
	src = entry_of(a->sources, w[0], w[1], now, &a->source);
	if (!bucket_take(&src->credit, &src->last_tsc, now, &a->source))
		return DP_D_FILTER_RATE_SOURCE;
	prefix_words(ip, w);
	pfx = entry_of(a->prefixes, w[0], w[1], now, &a->prefix);
	if (!bucket_take(&pfx->credit, &pfx->last_tsc, now, &a->prefix)) {
		src->credit += a->source.cost;
		return DP_D_FILTER_RATE_PREFIX;
	}
	if (!bucket_take(&a->global_b.credit, &a->global_b.last, now, &a->global)) {
		src->credit += a->source.cost;
		pfx->credit += a->prefix.cost;
		return DP_D_FILTER_RATE_GLOBAL;
	}
	return DP_D_MAX;
}

struct by_instance {
	const uint8_t *inst;
	uint16_t len;
	const struct sw_device *d;
};

static int instance_eq(const struct sw_device *d, void *arg)
{
	struct by_instance *b = arg;

	if (d->instance_len != b->len || memcmp(d->instance, b->inst, b->len) != 0)
		return 0;
	b->d = d;
	return 1;
}

/*
 * The bound device a REGISTER names (docs/design.md §7 "Device key", as the
 * registrar's sw_bind_match()): by its push address (Contact pn-* or
 * X-Push), else by +sip.instance among the devices of its AOR. Both are
 * secrets of the app (a token, a UUID), unlike the AOR. NULL when none.
 * @p aor gets the canonical AOR of To (length in *aor_len, <= 0 if none).
 */
static const struct sw_device *named_device(const struct sw_bind_table *t, const uint8_t *msg,
					    const struct sip_msg *sm, char *aor, int *aor_len)
{
	const struct sip_push *pn = NULL;
	const struct sip_uri *to = &sm->to.uri;
	char key[SW_PN_KEY_MAX];
	int kl;

	*aor_len = sw_aor_canon(aor, SW_AOR_MAX, sip_ptr(msg, to->user), to->user.len,
				sip_ptr(msg, to->host), to->host.len, to->host_is_ipv6);
	if (sm->n_contacts == 0 || sm->contact_star)
		return NULL;
	if (sm->contact.pn.form != SIP_PN_NONE)
		pn = &sm->contact.pn;
	else if (sm->xpush.form != SIP_PN_NONE)
		pn = &sm->xpush;
	if (pn != NULL) {
		kl = sw_pn_key_form(key, sizeof(key), pn->form, sip_ptr(msg, pn->provider),
				    pn->provider.len, sip_ptr(msg, pn->prid), pn->prid.len,
				    sip_ptr(msg, pn->param), pn->param.len);
		if (kl > 0) {
			const struct sw_device *d = sw_bind_by_pn(t, key, (size_t)kl);

			if (d != NULL)
				return d;
		}
	}
	/* A token may have changed (reinstall, APNs rotation): the instance stays. */
	if (sm->contact.instance.len != 0 && *aor_len > 0) {
		struct by_instance b = {.inst = msg + sm->contact.instance.off,
					.len = sm->contact.instance.len};

		sw_bind_foreach_aor(t, aor, (size_t)*aor_len, instance_eq, &b);
		return b.d;
	}
	return NULL;
}

enum dp_drop dp_admit_register(struct dp_wstate *s, const struct sw_ip *ip, const uint8_t *msg,
			       uint64_t now)
{
	const struct dp_ctx *ctx = s->ctx;
	const struct sip_msg *sm = s->sip;
	struct dp_admit *a = admit_of(s);
	const struct sw_device *d = NULL;
	char aor[SW_AOR_MAX];
	int aor_len = 0;
	struct bk_entry *e;
	enum dp_drop why;

	if (ctx->bind != NULL)
		d = named_device(ctx->bind, msg, sm, aor, &aor_len);
	if (d != NULL) {
		e = entry_of(a->keys, d->id, KEY_DEVICE, now, &a->expected);
		if (!bucket_take(&e->credit, &e->last_tsc, now, &a->expected))
			return DP_D_FILTER_RATE_EXPECTED;
		dp_count(s->ctr, DP_C_SIP_REG_EXPECTED, 1);
		if (ctx->waking != NULL && sw_callset_count(ctx->waking) != 0 &&
		    sw_callset_has(ctx->waking, sw_wake_key_device(d->id)))
			dp_count(s->ctr, DP_C_SIP_REG_WOKEN, 1);
		return DP_D_MAX;
	}
	if (aor_len > 0 && ctx->waking != NULL && sw_callset_count(ctx->waking) != 0) {
		uint64_t k = sw_wake_key_aor(aor, (size_t)aor_len);

		if (sw_callset_has(ctx->waking, k)) {
			e = entry_of(a->keys, k, KEY_AOR, now, &a->expected);
			if (!bucket_take(&e->credit, &e->last_tsc, now, &a->expected))
				return DP_D_FILTER_RATE_EXPECTED;
			dp_count(s->ctr, DP_C_SIP_REG_AOR_WAKING, 1);
			return DP_D_MAX;
		}
	}
	why = newcomer(a, ip, now);
	if (why == DP_D_MAX)
		dp_count(s->ctr, DP_C_SIP_REG_NEWCOMER, 1);
	return why;
}
