/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's overhead inside sipwake (docs/performance.md, "bench_wake"): the control
 * plane on this thread with the worker pipeline harness (tests/dp), the
 * SQLite store, a PBX simulated here, and pushd on its thread sending to
 * pd_testsrv, which answers at once (no injected delay). As in sipwake, the
 * push thread shares the main lcore's CPU with the control plane.
 *
 * (a) INVITE in -> push request written. From the control plane taking the
 *     handed-up INVITE (cp_sip_in() called) until pushd has handed the last
 *     frame (END_STREAM) of that push's HTTP/2 request to TLS. Two parts,
 *     summed per INVITE: the control plane's, until it calls pd_submit()
 *     (timed through the link seam below: lookups, 100 Trying, the INVITE
 *     copied, the push request filled); pushd's, pd_result.written_us (from
 *     pd_submit() to the request written: the ring, waking the push thread,
 *     JSON body, HPACK, nghttp2). Not in it: the worker and the up ring
 *     before (bench_dp), and TLS encrypting and write(2)ing the frames,
 *     which libevent does on the push loop's next pass.
 * (b) accepted REGISTER -> INVITE out. From the control plane taking the
 *     PBX's 200 to the device's REGISTER (from a new port) until the INVITE
 *     for the held call is on the worker's down ring, to the new port: the
 *     200 matched and bound, one loop round's store commit (cp_reg_flush():
 *     durable before relayed), the 200 relayed to the app, the INVITE built.
 *     Printed apart: the 200 taken (cp_sip_in(): matched, bound, written to
 *     the store's open transaction) and the commit.
 * (c) memory per held INVITE: --held calls held at once (one device each,
 *     each pushed to pd_testsrv, at most 256 pushes in flight so pushd's
 *     transient jobs stay small): RSS growth / calls, malloc'ed bytes growth
 *     / calls, and what the control plane reserves per wake.max_held slot.
 *
 * A run: --count devices each get a call (a), one at a time (the push's
 * answer is awaited: latency, not throughput), then each re-REGISTERs from a
 * new port and its INVITE goes out (b), one per loop round. --burst B hands
 * B INVITEs / B 200s up per loop round instead, each timed from the round's
 * start. Prints each run, the median over --runs of each percentile, and the
 * targets (docs/performance.md, "Targets"). (c) runs once, first, with a clean heap (--held 0: not at
 * all).
 *
 *   bench_wake --server build/tests/pushd/pd_testsrv [--smoke] [--count N]
 *              [--runs R] [--held N] [--burst B] [--no-store]
 *
 * --no-store runs without the SQLite store, to show its share (sipwake
 * always has one).
 *
 * Link seams (bench/meson.build, -Wl,--wrap): pd_submit, cp_udp_send and
 * cp_bind_sync are timed where the control plane calls them; they run as is.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "bench/bench_sip.h"
#include "common/sw_callset.h"
#include "controlplane/calls/cp_call.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"
#include "pushd/pd_internal.h"
#include "tests/dp/dp_harness.h"
#include "tests/pushd/ts_harness.h"

#define MAX_RUNS   15 /* a device's port per run: GENS apart */
#define MAX_BURST  64
#define DEV_PER_IP 4000
#define GENS	   16
#define WINDOW	   256 /* (c): pushes in flight at most */
#define BATCH	   32  /* REGISTERs / INVITEs per round when untimed */
#define PN_PARAM   TS_TEAM "." TS_BUNDLE ".voip"

static struct dph h;
static struct cp_ctx *cp;
static struct pd *pd;
static char db_dir[] = "/var/tmp/bench_wake.XXXXXX";
static unsigned n_inst;
static bool no_store;		   /* --no-store: (b) without SQLite, for comparison only */
static int invite_len, trying_len; /* as last sent (for (c)'s figures) */

/* ---- link seams --------------------------------------------------------- */

int __real_pd_submit(struct pd *p, const struct pd_request *req);
int __wrap_pd_submit(struct pd *p, const struct pd_request *req);
int __real_cp_udp_send(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
		       const void *payload, uint16_t len);
int __wrap_cp_udp_send(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
		       const void *payload, uint16_t len);
int __real_cp_bind_sync(struct cp_ctx *c);
int __wrap_cp_bind_sync(struct cp_ctx *c);

static struct {
	uint64_t id, tsc;
} subs[MAX_BURST * 2];
static unsigned n_subs;	     /* submits recorded since the last reset */
static uint64_t n_submitted; /* all pushes handed to pushd */
static uint64_t inv_tsc[MAX_BURST * 2];
static unsigned n_inv;	     /* INVITEs to devices since the last reset */
static uint64_t sync_cycles; /* in cp_bind_sync() since the last reset */

/* The moment the control plane hands a push over (pd_submit() reads its
 * clock first thing). */
int __wrap_pd_submit(struct pd *p, const struct pd_request *req)
{
	if (n_subs < RTE_DIM(subs))
		subs[n_subs++] = (typeof(subs[0])){.id = req->id, .tsc = rte_rdtsc()};
	n_submitted++;
	return __real_pd_submit(p, req);
}

/* An INVITE to a device is on the down ring when this returns. */
int __wrap_cp_udp_send(struct cp_ctx *c, const struct sw_ip *dst, uint16_t dport,
		       const void *payload, uint16_t len)
{
	int rc = __real_cp_udp_send(c, dst, dport, payload, len);

	if (len > 7 && memcmp(payload, "INVITE ", 7) == 0 && n_inv < RTE_DIM(inv_tsc))
		inv_tsc[n_inv++] = rte_rdtsc();
	return rc;
}

int __wrap_cp_bind_sync(struct cp_ctx *c)
{
	uint64_t t = rte_rdtsc();
	int rc = __real_cp_bind_sync(c);

	sync_cycles += rte_rdtsc() - t;
	return rc;
}

/* ---- SIP traffic ------------------------------------------------------------ */

static void dev_addr(unsigned i, unsigned gen, char *ip, size_t cap, uint16_t *port)
{
	snprintf(ip, cap, "198.18.0.%u", 10 + i / DEV_PER_IP);
	*port = (uint16_t)(1024 + (i % DEV_PER_IP) * GENS + gen % GENS);
}

static void feed(const char *src, uint16_t sport, const char *text, int len)
{
	struct rte_mbuf *m[4];
	struct dph_pkt pk = {.src = src, .sport = sport, .payload = text, .len = (uint32_t)len};
	int n = dph_build(&h, &pk, m, 4);

	if (n > 0)
		dph_rx(&h, m, (unsigned)n, rte_rdtsc());
}

/* Device @i's REGISTER from its address of generation @gen. */
static void send_register(unsigned i, unsigned gen)
{
	static unsigned seq;
	char text[2048], ip[24];
	uint16_t port;
	int len;

	dev_addr(i, gen, ip, sizeof(ip), &port);
	len = snprintf(text, sizeof(text),
		       "REGISTER sip:example.com SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-w%u;rport\r\n"
		       "Max-Forwards: 70\r\nFrom: <sip:u%u@example.com>;tag=f%u\r\n"
		       "To: <sip:u%u@example.com>\r\nCall-ID: reg-%u@bench\r\nCSeq: %u REGISTER\r\n"
		       "Contact: <sip:u%u@%s:%u;pn-provider=apns;pn-prid=%064x;pn-param=" PN_PARAM
		       ">;+sip.instance=\"<urn:uuid:%08x-0000-1000-8000-000000000001>\";"
		       "expires=600\r\n"
		       "User-Agent: bench\r\nContent-Length: 0\r\n\r\n",
		       ip, port, ++seq, i, i, i, i, gen + 1, i, ip, port, i, i);
	feed(ip, port, text, len);
}

/* A call from the PBX to device @i at its address of generation @gen (the
 * contact the PBX holds, RFC 8599), through our Path, with an SDP offer. */
static void send_invite(unsigned i, unsigned gen, unsigned call)
{
	static const char sdp[] = "v=0\r\n"
				  "o=- 1234567890 1234567890 IN IP4 198.18.0.5\r\n"
				  "s=Asterisk\r\n"
				  "c=IN IP4 198.18.0.5\r\n"
				  "t=0 0\r\n"
				  "m=audio 16384 RTP/AVP 9 0 8 111 101\r\n"
				  "a=rtpmap:9 G722/8000\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:111 opus/48000/2\r\n"
				  "a=fmtp:111 useinbandfec=1\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-16\r\n"
				  "a=ptime:20\r\n"
				  "a=sendrecv\r\n";
	char text[2048], ip[24];
	uint16_t port;
	int len;

	dev_addr(i, gen, ip, sizeof(ip), &port);
	len = snprintf(text, sizeof(text),
		       "INVITE sip:u%u@%s:%u;pn-provider=apns;pn-prid=%064x;pn-param=" PN_PARAM
		       " SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP " DPH_PBX_IP4 ":5060;rport;branch=z9hG4bKPj-%u-%u\r\n"
		       "Route: <sip:" DPH_SW_IP4 ":5060;lr>\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob Smith\" <sip:1002@pbx.example.com>;tag=t%u-%u\r\n"
		       "To: <sip:u%u@example.com>\r\n"
		       "Contact: <sip:pbx@" DPH_PBX_IP4 ":5060>\r\n"
		       "Call-ID: c%u-%u@pbx.example.com\r\n"
		       "CSeq: 31415 INVITE\r\n"
		       "Allow: OPTIONS, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, REFER\r\n"
		       "Supported: 100rel, timer, replaces, norefersub\r\n"
		       "Session-Expires: 1800\r\nMin-SE: 90\r\n"
		       "User-Agent: Asterisk PBX 20.5.0\r\n"
		       "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		       i, ip, port, i, i, call, i, call, i, i, call, sizeof(sdp) - 1, sdp);
	invite_len = len;
	feed(DPH_PBX_IP4, 5060, text, len);
}

static unsigned take_up(struct rte_mbuf **out, unsigned max)
{
	unsigned n = 0;
	struct rte_mbuf *m;

	while (n < max && (m = dph_up(&h)) != NULL)
		out[n++] = m;
	return n;
}

/* What the control plane sent; relayed REGISTERs are answered 200 by the
 * PBX (fed to the worker, not handed up yet). */
struct sent {
	unsigned ok, invites, trying, other;
	uint16_t inv_port[MAX_BURST];
};

static void drain_down(struct sent *s)
{
	static char ans[2048];
	struct rte_mbuf *m;

	memset(s, 0, sizeof(*s));
	while (rte_ring_sc_dequeue(h.ctx->workers[0].down, (void **)&m) == 0) {
		uint16_t len, dport;
		const char *p = bench_payload_of(m, &len, &dport);

		if (len > 9 && memcmp(p, "REGISTER ", 9) == 0)
			feed(DPH_PBX_IP4, 5060, ans, bench_pbx_answer(p, len, ans, sizeof(ans)));
		else if (len > 11 && memcmp(p, "SIP/2.0 200", 11) == 0)
			s->ok++;
		else if (len > 11 && memcmp(p, "SIP/2.0 100", 11) == 0) {
			s->trying++;
			trying_len = len;
		} else if (len > 7 && memcmp(p, "INVITE ", 7) == 0) {
			if (s->invites < MAX_BURST)
				s->inv_port[s->invites] = dport;
			s->invites++;
		} else
			s->other++;
		rte_pktmbuf_free(m);
	}
}

static unsigned up_all(void)
{
	struct rte_mbuf *up[BATCH * 2];
	unsigned n = take_up(up, RTE_DIM(up));

	for (unsigned i = 0; i < n; i++)
		cp_sip_in(cp, up[i]);
	return n;
}

/* Devices [first, first + n) register from generation @gen (untimed).
 * @return the 200s relayed to them. */
static unsigned register_all(unsigned first, unsigned n, unsigned gen)
{
	unsigned ok = 0;
	struct sent s;

	for (unsigned b = 0; b < n; b += BATCH) {
		for (unsigned i = b; i < n && i < b + BATCH; i++)
			send_register(first + i, gen);
		up_all();
		drain_down(&s); /* the PBX answers */
		up_all();
		cp_reg_flush(cp);
		drain_down(&s);
		ok += s.ok;
		urcu_qsbr_quiescent_state();
	}
	return ok;
}

/* ---- push results ----------------------------------------------------------- */

/* Up to @max results (each freed), waiting at most @ms for the first:
 * their written_us and ids into @written / @ids (if not NULL). Read here
 * instead of by cp_call_poll_push(), which does nothing with a delivered
 * call push.
 * @return how many (0: none within @ms), -EIO on a push not delivered. */
static int results(uint64_t *written, uint64_t *ids, unsigned max, int ms)
{
	struct pd_result *r[64];
	uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * (uint64_t)ms;
	unsigned n;
	int bad = 0;

	while ((n = pd_poll_results(pd, r, RTE_MIN(max, RTE_DIM(r)))) == 0 &&
	       rte_rdtsc() < deadline) {
		struct pollfd p = {.fd = pd_result_fd(pd), .events = POLLIN};
		uint64_t v;

		if (poll(&p, 1, 10) > 0 && read(p.fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: taken by an earlier read */
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (r[i]->status != PD_DELIVERED) {
			fprintf(stderr, "bench_wake: push %" PRIx64 ": %s %s\n", r[i]->id,
				pd_status_name(r[i]->status), r[i]->reason);
			bad = 1;
		}
		if (written != NULL)
			written[i] = r[i]->written_us;
		if (ids != NULL)
			ids[i] = r[i]->id;
		free(r[i]);
	}
	return bad ? -EIO : (int)n;
}

/* What went wrong, from the counters. */
static void dump_counters(void)
{
	for (unsigned i = 0; i < CP_C_MAX; i++)
		if (cp_counter(cp, i))
			fprintf(stderr, "  %s %" PRIu64 "\n", cp_counter_names[i],
				cp_counter(cp, i));
	for (unsigned i = 0; i < CP_D_MAX; i++)
		if (cp_drop_count(cp, i))
			fprintf(stderr, "  drop_%s %" PRIu64 "\n", cp_drop_names[i],
				cp_drop_count(cp, i));
	for (unsigned i = 0; i < DP_D_MAX; i++)
		if (dph_drop(&h, i))
			fprintf(stderr, "  dp drop_%s %" PRIu64 "\n", dp_drop_name(i),
				dph_drop(&h, i));
}

/* ---- the control plane ------------------------------------------------------- */

static void inst_free(void)
{
	cp_free(cp); /* closes its store */
	cp = NULL;
	sw_bind_free(h.ctx->bind);
	h.ctx->bind = NULL;
	sw_callset_free(h.ctx->held);
	h.ctx->held = NULL;
}

/* A control plane with binding tables for @devices and @held calls, a fresh
 * store (synchronous=NORMAL, as sipwake's default) and pushd. */
static int inst_new(unsigned devices, unsigned held)
{
	char db[96], err[256];
	struct cp_config cfg;
	struct cp_store *st;

	cp_config_defaults(&cfg);
	cfg.max_devices = devices + 16;
	cfg.max_held = held + 16;
	cfg.max_pending = 4096;
	cfg.ping_interval_s = 0;
	cfg.wake_timeout_s = 3600; /* no timer runs here anyway */
	/* The control plane's copy of the PBX the harness's policy has. */
	cfg.n_pbx_servers = h.ctx->p.n_servers;
	for (unsigned i = 0; i < h.ctx->p.n_servers; i++) {
		memcpy(cfg.pbx_servers[i].addr, h.ctx->p.servers[i].ip.a, 16);
		cfg.pbx_servers[i].port = h.ctx->p.servers[i].port;
	}
	/* The source table sized as sipwake sizes it for so many devices. */
	sw_src_free(h.ctx->src);
	/* A woken device's old socket stays bound while its branch is open
	 * (cp_call.c): room for one per call (no branch ends here). */
	h.ctx->src = sw_src_create(devices + held + 1024);
	h.ctx->bind = h.ctx->src ? sw_bind_create(cfg.max_devices, h.ctx->src) : NULL;
	sw_callset_free(h.ctx->held); /* the harness's, sized for tests */
	h.ctx->held = sw_callset_create(cfg.max_held);
	if (h.ctx->bind == NULL || h.ctx->held == NULL)
		return -ENOMEM;
	cp = cp_create(dph_link(&h), &cfg);
	snprintf(db, sizeof(db), "%s/bindings%u.db", db_dir, n_inst++);
	st = cp_store_open(db, false, err, sizeof(err));
	if (cp == NULL || st == NULL) {
		fprintf(stderr, "bench_wake: set-up failed: %s\n", st ? "" : err);
		cp_store_close(st);
		return -EIO;
	}
	if (no_store)
		cp_store_close(st);
	else
		cp_set_store(cp, st);
	cp_set_pushd(cp, pd);
	return 0;
}

/* ---- (c) memory ------------------------------------------------------------- */

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static int memory(unsigned n)
{
	uint64_t got = 0, sub0;
	long rss0, rss1;
	size_t heap0, heap1;
	struct cp_call_held hd;
	struct sent s;
	unsigned ok;
	int rc;

	if (inst_new(n, n) != 0)
		return 1;
	ok = register_all(0, n, 0);
	if (ok != n) {
		fprintf(stderr, "bench_wake: %u of %u devices registered\n", ok, n);
		return 1;
	}
	malloc_trim(0);
	rss0 = rss_bytes();
	heap0 = mallinfo2().uordblks;
	sub0 = n_submitted;
	for (unsigned b = 0; b < n; b += BATCH) {
		for (unsigned i = b; i < n && i < b + BATCH; i++)
			send_invite(i, 0, 0);
		up_all();
		drain_down(&s);
		while (n_submitted - sub0 - got > WINDOW) {
			if ((rc = results(NULL, NULL, 64, 5000)) <= 0)
				goto timeout;
			got += (uint64_t)rc;
		}
	}
	while (got < n_submitted - sub0) {
		if ((rc = results(NULL, NULL, 64, 5000)) <= 0)
			goto timeout;
		got += (uint64_t)rc;
	}
	rss1 = rss_bytes();
	heap1 = mallinfo2().uordblks;
	cp_call_tick(cp, rte_rdtsc()); /* the held-call telemetry (no timer is due) */
	cp_call_held(cp, &hd);
	printf("(c) held %u calls (pushes delivered %" PRIu64 ", wake.max_held %u)\n", hd.held, got,
	       hd.max);
	printf("(c) memory_per_held_rss  %.0f B/call (RSS growth / calls)\n",
	       (double)(rss1 - rss0) / n);
	printf("(c) memory_per_held_heap %.0f B/call (malloc'ed: the INVITE copy, %d B here, and "
	       "the 100 Trying kept for retransmissions, %d B)\n",
	       ((double)heap1 - (double)heap0) / n, invite_len, trying_len);
	printf("(c) reserved per wake.max_held slot: about %zu B (struct cp_held_call %zu B, two "
	       "index "
	       "buckets, a free-list entry), touched when used\n",
	       sizeof(struct cp_held_call) + 4 * sizeof(uint32_t) + sizeof(uint32_t),
	       sizeof(struct cp_held_call));
	printf("(c) pushd while a push is in flight: %zu B (struct pd_job) + its JSON body\n",
	       sizeof(struct pd_job));
	fflush(stdout);
	inst_free();
	return hd.held == n ? 0 : 1;

timeout:
	fprintf(stderr,
		"bench_wake: (c) push results missing or failed (%" PRIu64 " of %" PRIu64 ")\n",
		got, n_submitted - sub0);
	dump_counters();
	return 1;
}

/* ---- (a) and (b) --------------------------------------------------------------- */

struct run {
	double *a, *a_cp, *a_pd, *b, *b_in, *b_commit;
	unsigned na, nb;
};

static double us(uint64_t cycles)
{
	return (double)cycles * 1e6 / (double)rte_get_tsc_hz();
}

/* Calls to devices [i, i + n) (held, one push each): (a). */
static int calls(struct run *r, unsigned i, unsigned n, unsigned call)
{
	struct rte_mbuf *up[MAX_BURST];
	uint64_t t0, written[MAX_BURST], ids[MAX_BURST];
	unsigned got = 0, k;
	struct sent s;
	int rc;

	for (k = 0; k < n; k++)
		send_invite(i + k, call, call);
	if (take_up(up, n) != n)
		return -EINVAL;
	n_subs = 0;
	t0 = rte_rdtsc();
	for (k = 0; k < n; k++)
		cp_sip_in(cp, up[k]);
	drain_down(&s);
	if (n_subs != n || s.trying != n)
		return -EINVAL;
	while (got < n) {
		if ((rc = results(written + got, ids + got, n - got, 5000)) <= 0)
			return -ETIMEDOUT;
		got += (unsigned)rc;
	}
	for (k = 0; k < n; k++)
		for (unsigned j = 0; j < n_subs; j++)
			if (subs[j].id == ids[k]) {
				double c = us(subs[j].tsc - t0), p = (double)written[k];

				r->a_cp[r->na] = c;
				r->a_pd[r->na] = p;
				r->a[r->na++] = c + p;
			}
	return 0;
}

/* Devices [i, i + n) re-REGISTER from generation @gen; the PBX's 200s are
 * handed up in one loop round: (b). */
static int wakes(struct run *r, unsigned i, unsigned n, unsigned gen)
{
	struct rte_mbuf *up[MAX_BURST];
	uint64_t t0, t1;
	unsigned k;
	struct sent s;

	for (k = 0; k < n; k++)
		send_register(i + k, gen);
	up_all();
	drain_down(&s); /* relayed; the PBX's 200s go through the worker */
	if (take_up(up, n) != n)
		return -EINVAL;
	n_inv = 0;
	sync_cycles = 0;
	t0 = rte_rdtsc();
	for (k = 0; k < n; k++)
		cp_sip_in(cp, up[k]);
	t1 = rte_rdtsc();
	cp_reg_flush(cp); /* as cp_run() ends its round */
	if (n_inv != n)
		return -EINVAL;
	for (k = 0; k < n; k++) {
		r->b_in[r->nb] = us(t1 - t0);
		r->b[r->nb] = us(inv_tsc[k] - t0);
		r->b_commit[r->nb++] = us(sync_cycles);
	}
	drain_down(&s);
	for (k = 0; k < n; k++) {
		char ip[24];
		uint16_t port;

		dev_addr(i + k, gen, ip, sizeof(ip), &port);
		if (s.inv_port[k] != port)
			return -EINVAL;
	}
	urcu_qsbr_quiescent_state();
	return s.ok == n && s.invites == n ? 0 : -EINVAL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, unsigned n, double p)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n ? v[(size_t)((double)(n - 1) * p + 0.5)] : 0;
}

static double median(double *v, unsigned n)
{
	return pct(v, n, 0.5);
}

/* The printed figures of one run, in microseconds. */
enum { A50, A99, ACP50, ACP99, APD50, APD99, B50, B99, BI50, BI99, BC50, BC99, N_FIGS };

static void figures(struct run *r, double *f)
{
	double *v[] = {r->a, r->a_cp, r->a_pd, r->b, r->b_in, r->b_commit};

	for (unsigned k = 0; k < RTE_DIM(v); k++) {
		unsigned n = k < 3 ? r->na : r->nb;

		f[2 * k] = pct(v[k], n, .5);
		f[2 * k + 1] = pct(v[k], n, .99);
	}
}

static void print_figs(const char *who, const double *f)
{
	printf("%-6s (a) invite_to_push_written     p50 %7.1f us  p99 %7.1f us  (control plane "
	       "p50 %.1f / p99 %.1f, pushd p50 %.0f / p99 %.0f)\n",
	       who, f[A50], f[A99], f[ACP50], f[ACP99], f[APD50], f[APD99]);
	printf("%-6s (b) register_200_to_invite_out p50 %7.1f us  p99 %7.1f us  (200 taken "
	       "p50 %.1f / p99 %.1f, store commit p50 %.1f / p99 %.1f)\n",
	       who, f[B50], f[B99], f[BI50], f[BI99], f[BC50], f[BC99]);
}

static int timed(unsigned count, unsigned runs, unsigned burst)
{
	double f[MAX_RUNS][N_FIGS], m[N_FIGS], *mem = calloc(6 * (size_t)count, sizeof(double));
	struct run r = {mem,
			mem + count,
			mem + 2 * count,
			mem + 3 * count,
			mem + 4 * count,
			mem + 5 * count,
			0,
			0};
	char who[16];
	int rc = 0;

	if (mem == NULL || inst_new(count, count * runs) != 0 ||
	    register_all(0, count, 0) != count) {
		free(mem);
		return 1;
	}
	for (unsigned k = 0; k < runs && rc == 0; k++) {
		r.na = r.nb = 0;
		for (unsigned i = 0; i < count && rc == 0; i += burst) {
			unsigned n = RTE_MIN(burst, count - i);

			/* Each call from the device's current address (gen k), the
			 * wake from the next one. */
			if ((rc = calls(&r, i, n, k)) != 0)
				fprintf(stderr, "bench_wake: (a) calls %u..: %s\n", i,
					strerror(-rc));
			else if ((rc = wakes(&r, i, n, k + 1)) != 0)
				fprintf(stderr, "bench_wake: (b) wakes %u..: %s\n", i,
					strerror(-rc));
		}
		if (rc != 0)
			break;
		figures(&r, f[k]);
		snprintf(who, sizeof(who), "run %u", k);
		print_figs(who, f[k]);
		fflush(stdout);
	}
	if (rc == 0) {
		for (unsigned j = 0; j < N_FIGS; j++) {
			double v[MAX_RUNS];

			for (unsigned k = 0; k < runs; k++)
				v[k] = f[k][j];
			m[j] = median(v, runs);
		}
		print_figs("MEDIAN", m);
		printf("TARGET (a) p99 <= 1000 us: %s\n", m[A99] <= 1000 ? "met" : "NOT met");
		printf("TARGET (b) p99 <= 100 us: %s\n", m[B99] <= 100 ? "met" : "NOT met");
	}
	free(mem);
	inst_free();
	return rc != 0;
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"server", 1, NULL, 'S'},   {"smoke", 0, NULL, 's'},
					   {"count", 1, NULL, 'c'},    {"runs", 1, NULL, 'r'},
					   {"held", 1, NULL, 'H'},     {"burst", 1, NULL, 'b'},
					   {"no-store", 0, NULL, 'n'}, {NULL, 0, NULL, 0}};
	unsigned count = 5000, runs = 3, held = 100000, burst = 1;
	const char *server = NULL;
	struct pd_config pcfg;
	struct ts_keys keys;
	struct ts_srv srv;
	char err[256], db[96];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'S':
			server = optarg;
			break;
		case 's':
			count = 200;
			runs = 1;
			held = 2000;
			break;
		case 'c':
			count = (unsigned)atoi(optarg);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'H':
			held = (unsigned)atoi(optarg);
			break;
		case 'b':
			burst = (unsigned)atoi(optarg);
			break;
		case 'n':
			no_store = true;
			break;
		default:
			return 2;
		}
	}
	if (server == NULL || count < 1 || runs < 1 || runs > MAX_RUNS || burst < 1 ||
	    burst > MAX_BURST || count > 200 * DEV_PER_IP || held > 200 * DEV_PER_IP) {
		fprintf(stderr,
			"usage: bench_wake --server PD_TESTSRV [--smoke] [--count N] "
			"[--runs R<=%u] [--held N] [--burst B<=%u]\n",
			MAX_RUNS, MAX_BURST);
		return 2;
	}
	if (ts_keys_make(&keys) != 0) {
		fprintf(stderr, "bench_wake: cannot make test keys\n");
		return 1;
	}
	if (ts_srv_start(&srv, server, &keys, 0, NULL) != 0 || ts_srv_cmd(&srv, "events off")) {
		fprintf(stderr, "bench_wake: cannot start %s\n", server);
		goto fail_keys;
	}
	if (dph_init(&h, "bench_wake") != 0 || mkdtemp(db_dir) == NULL)
		goto fail_eal;
	/* After EAL, as sipwake starts it (app/main.c): the push thread inherits
	 * the main lcore's affinity and shares its core with the control plane. */
	ts_pd_config(&pcfg, &keys, srv.port);
	pcfg.n_apns = 1; /* one token credential, one connection */
	pcfg.n_fcm = 0;
	pcfg.max_connections = 1;
	pcfg.ring_size = 4096;
	pd = pd_new(&pcfg, err, sizeof(err));
	if (pd == NULL || pd_start(pd) != 0) {
		fprintf(stderr, "bench_wake: pushd: %s\n", pd ? "cannot start" : err);
		goto fail_pd;
	}
	h.ctx->p.n_servers = 1;
	h.ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(DPH_PBX_IP4), .port = 5060};
	dp_policy_servers_from(h.ctx->policy, &h.ctx->p);
	/* Every app is new (unknown source): no metering in this benchmark. */
	h.ctx->policy->rates.source = h.ctx->policy->rates.global = h.ctx->policy->rates.prefix =
		h.ctx->policy->rates.expected = (struct dp_rate){1000000000, 1000000000};
	/* alive_window 0: a device is asleep as soon as its REGISTER is past. */
	h.ctx->p.alive_window_tsc = 0;
	{
		/* Building a frame from the PBX teaches the neighbour table its MAC. */
		struct rte_mbuf *m[2];
		struct dph_pkt pk = {.src = DPH_PBX_IP4, .sport = 5060, .payload = "x", .len = 1};
		int n = dph_build(&h, &pk, m, 2);

		for (int i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
	}
	printf("bench_wake: pd_testsrv answering at once, one HTTP/2 connection; (c) %u held; "
	       "(a)/(b) %u calls per run, %u run(s), %u per loop round; store %s\n",
	       held, count, runs, burst, no_store ? "none" : "SQLite, synchronous=NORMAL");
	fflush(stdout);
	rc = (held > 0 && memory(held)) || timed(count, runs, burst);

	for (unsigned i = 0; i < n_inst; i++) {
		static const char *const sfx[] = {"", "-wal", "-shm"};

		for (unsigned k = 0; k < RTE_DIM(sfx); k++) {
			snprintf(db, sizeof(db), "%s/bindings%u.db%s", db_dir, i, sfx[k]);
			unlink(db);
		}
	}
fail_pd:
	pd_free(pd);
	rmdir(db_dir);
fail_eal:
	dph_fini(&h);
	if (ts_srv_stop(&srv) != 0)
		rc = 1;
fail_keys:
	ts_keys_remove(&keys);
	return rc;
}
