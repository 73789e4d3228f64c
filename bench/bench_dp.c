/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane benchmark: prebuilt frames through the worker's own pipeline
 * (dp_rx_one, the code a worker lcore runs per packet) on this thread, and
 * libosip2 parsing the same SIP messages in the same run.
 *
 * Per mix and run: bursts of 32 frames are copied from templates into fresh
 * mbufs outside the timed region; the timed region is the pipeline over the
 * burst (parse, scan, classify, filter, act, free / hand up / TX buffer) plus
 * the per-burst reassembly tick and TX flush. What the pipeline hands up is
 * taken off the ring untimed (that is the control plane's work).
 *
 * The fwd mixes are the worker's stateless forward path (dataplane/dp_fwd.c)
 * on one call to an alive app whose binding is in a real binding table: the
 * PBX's INVITE (lookup by push address + rewrite + TX), the app's 200 back to
 * the PBX (Via popped), the PBX's in-dialog BYE (Route popped), each alone and
 * the three together. "--mix fwd" runs those four. The other mixes run
 * without binding tables, as before there were any: their INVITE goes up.
 *
 * The admission mixes (scanner-spoofed, expected-in-flood) measure the
 * filter of unknown sources under a spoofed flood and the share of REGISTERs
 * from bound devices on new addresses it lets in (docs/admission.md).
 *
 * Usage: bench_dp [--smoke] [--packets N] [--runs R] [--mix NAME]
 * Prints cycles/packet (TSC), Mpps on one core, medians over the runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>
#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bench_targets.h"
#include "tests/dp/dp_harness.h"
#include "tests/dp/sip_msgs.h"

#define BURST	    32
#define BOUND_DEV   1000
#define N_MIXES	    11
#define N_SPOOFED   4096	 /* scanner sources of the spoofed mixes */
#define N_EXPECTED  16384	 /* bound devices registering from new addresses */
#define EXPECTED_IN 16		 /* one expected REGISTER in this many frames */
#define APP_IP	    "198.18.0.2" /* the app of the fwd mixes (MSG_INVITE's Request-URI) */

struct tmpl {
	uint8_t *bytes; /* may be shared with other templates */
	uint16_t len;
	bool expected; /* a REGISTER naming a bound device: counted when fed */
};

struct mix {
	const char *name;
	const char *what;
	unsigned n, cap;
	struct tmpl *t;
};

static struct dph h;
static struct sw_bind_table *fwd_bind; /* ctx->bind while the fwd mixes run */
static struct sw_bind_table *adm_bind; /* ... and while expected-in-flood runs */
static uint64_t fed_expected;	       /* expected REGISTERs fed to the pipeline */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Append @p t to the mix (its bytes are not copied). */
static void push(struct mix *mx, struct tmpl t)
{
	if (mx->n == mx->cap) {
		mx->cap = mx->cap != 0 ? mx->cap * 2 : 64;
		mx->t = realloc(mx->t, mx->cap * sizeof(*mx->t));
		if (mx->t == NULL) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	mx->t[mx->n++] = t;
}

/* One frame of @p p as a template (its bytes copied out of the mbuf). */
static struct tmpl frame_of(const struct dph_pkt *p)
{
	struct rte_mbuf *m;
	struct tmpl t;

	if (dph_build(&h, p, &m, 1) != 1) {
		fprintf(stderr, "cannot build a frame\n");
		exit(1);
	}
	t = (struct tmpl){.len = rte_pktmbuf_data_len(m)};
	t.bytes = malloc(t.len);
	memcpy(t.bytes, rte_pktmbuf_mtod(m, void *), t.len);
	rte_pktmbuf_free(m);
	return t;
}

static void add(struct mix *mx, const struct dph_pkt *p, unsigned copies)
{
	for (unsigned c = 0; c < copies; c++)
		push(mx, frame_of(p));
}

static void drain(void)
{
	struct rte_mbuf *m;

	while ((m = dph_up(&h)) != NULL)
		rte_pktmbuf_free(m);
	while ((m = dph_sent(&h)) != NULL)
		rte_pktmbuf_free(m);
	urcu_qsbr_quiescent_state(); /* the worker's, once per loop */
}

/* Cycles per packet of one run of @p packets over the mix's templates. */
static double run_mix(const struct mix *mx, unsigned packets, bool hw_cksum)
{
	struct rte_mbuf *b[BURST];
	uint64_t cycles = 0, done = 0;
	unsigned next = 0;

	/* hw-cksum: the port also computes what the worker sends
	 * (struct sw_iface.tx_offload), as a NIC that offers it is set up. */
	for (unsigned i = 0; i < h.ctx->p.ports.n_ifaces; i++)
		h.ctx->p.ports.ifaces[i].tx_offload =
			hw_cksum ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0;
	while (done < packets) {
		uint64_t t0, t1;

		if (rte_pktmbuf_alloc_bulk(h.ctx->pool, b, BURST) != 0) {
			fprintf(stderr, "mbuf pool empty\n");
			exit(1);
		}
		for (unsigned i = 0; i < BURST; i++) {
			const struct tmpl *t = &mx->t[next++ % mx->n];

			fed_expected += t->expected;
			memcpy(rte_pktmbuf_append(b[i], t->len), t->bytes, t->len);
			if (hw_cksum)
				/* What a NIC with RX checksum offload reports. */
				b[i]->ol_flags |=
					RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
			rte_prefetch0(rte_pktmbuf_mtod(b[i], void *));
		}
		t0 = rte_rdtsc_precise();
		dph_rx(&h, b, BURST, t0);
		t1 = rte_rdtsc_precise();
		cycles += t1 - t0;
		done += BURST;
		drain();
	}
	return (double)cycles / (double)done;
}

/* "--mix fwd" runs every fwd-* mix and invite-sdp (the same INVITE handed up,
 * what the forward stage replaces); any other name runs that mix alone. */
static bool selected(const char *only, const char *name)
{
	if (only == NULL || strcmp(only, name) == 0)
		return true;
	return strcmp(only, "fwd") == 0 &&
	       (strncmp(name, "fwd-", 4) == 0 || strcmp(name, "invite-sdp") == 0);
}

/* Drops of the forward path: none is expected in the fwd mixes. */
static uint64_t fwd_drops(void)
{
	static const enum dp_drop d[] = {
		DP_D_FWD_RESPONSE_NOT_OURS, DP_D_FWD_NO_DEVICE, DP_D_FWD_MAX_FORWARDS,
		DP_D_FWD_NOT_PBX_ROUTE,	    DP_D_FWD_NO_PBX,	DP_D_FWD_TOO_LARGE,
		DP_D_FWD_BAD_VIA,	    DP_D_NO_MBUF,	DP_D_NO_ROUTE,
	};
	uint64_t n = 0;

	for (unsigned i = 0; i < RTE_DIM(d); i++)
		n += dph_drop(&h, d[i]);
	return n;
}

/*
 * The app of the fwd mixes: bound (binding table and source table, as the
 * control plane leaves them after a 2xx to its REGISTER), alive, its MAC
 * resolved; the PBX is pbx.servers[0].
 */
static void fwd_mixes(struct mix *mx)
{
	static const char contact[] =
		"sip:alice@198.18.0.2:5078;transport=udp;pn-provider=apns;"
		"pn-prid=6b1f0a4e2d;pn-param=ABCDE12345.com.example.phone.voip";
	static const struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 0x07}};
	struct sw_ip app = dph_ip(APP_IP);
	struct sw_bind_rec r = {
		.aor = "alice@example.com",
		.aor_len = 17,
		.contact = contact,
		.contact_len = sizeof(contact) - 1,
		.pn_form = SW_PN_RFC8599,
		.pn_provider = "apns",
		.pn_provider_len = 4,
		.pn_prid = "6b1f0a4e2d",
		.pn_prid_len = 10,
		.pn_param = "ABCDE12345.com.example.phone.voip",
		.pn_param_len = 33,
		.src = app,
		.sport = 5078,
		.expires_at = INT64_MAX,
	};
	struct dp_ctx *ctx = h.ctx;

	ctx->p.alive_window_tsc = rte_get_tsc_hz() * 3600;
	ctx->p.n_servers = 1;
	ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(DPH_PBX_IP4), .port = 5060};
	dp_policy_servers_from(ctx->policy, &ctx->p);
	fwd_bind = sw_bind_create(1024, ctx->src);
	ctx->bind = fwd_bind; /* the templates are built with it (nothing reads it then) */
	if (fwd_bind == NULL || sw_bind_put(fwd_bind, &r, rte_rdtsc(), NULL) != 0 ||
	    sw_neigh_update(ctx->neigh, h.port, &app, &mac, rte_rdtsc()) != 0) {
		fprintf(stderr, "cannot bind the app of the fwd mixes\n");
		exit(1);
	}
	mx[0].name = "fwd-invite";
	mx[0].what = "INVITE with SDP from the PBX to an alive app: lookup, rewrite, TX";
	add(&mx[0],
	    &(struct dph_pkt){.src = DPH_PBX_IP4,
			      .sport = 5060,
			      .payload = MSG_INVITE,
			      .len = sizeof(MSG_INVITE) - 1},
	    1);
	mx[1].name = "fwd-200";
	mx[1].what = "the app's 200 with SDP back to the PBX: Via popped, TX";
	add(&mx[1],
	    &(struct dph_pkt){.src = APP_IP,
			      .sport = 5078,
			      .payload = MSG_200_SDP,
			      .len = sizeof(MSG_200_SDP) - 1},
	    1);
	mx[2].name = "fwd-bye";
	mx[2].what = "the PBX's in-dialog BYE to the app: Route popped, lookup, TX";
	add(&mx[2],
	    &(struct dph_pkt){.src = DPH_PBX_IP4,
			      .sport = 5060,
			      .payload = MSG_BYE_PBX,
			      .len = sizeof(MSG_BYE_PBX) - 1},
	    1);
	mx[3].name = "fwd-call";
	mx[3].what = "the three together, one after the other";
	for (unsigned i = 0; i < 3; i++)
		push(&mx[3], mx[i].t[0]);
}

/* A device's REGISTER from a new address (woken, or on another network):
 * its push address and instance name it (dataplane/dp_admit.c). */
static const char *woken_register(unsigned i, const char *src, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:40000;rport;branch=z9hG4bK-w%u\r\n"
		 "From: <sip:u%u@example.com>;tag=w%u\r\n"
		 "To: <sip:u%u@example.com>\r\n"
		 "Call-ID: woken-%u\r\nCSeq: 2 REGISTER\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:u%u@%s:40000;transport=udp;pn-provider=apns;"
		 "pn-prid=%064x;pn-param=ABCDE12345.com.example.phone.voip>"
		 ";+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-%012x>\";expires=3600\r\n"
		 "Expires: 3600\r\n"
		 "User-Agent: ExamplePhone/5.2.1 (iPhone15,2; iOS 17.4) belle-sip/5.2\r\n"
		 "Content-Length: 0\r\n\r\n",
		 src, i, i, i, i, i, i, src, i + 1, i + 1);
	return buf;
}

/*
 * The mixes of the admission classes: a scanner flood from N_SPOOFED
 * spoofed sources (no per-source bucket ever fills: the User-Agent check
 * alone drops it), and the same flood with one REGISTER in EXPECTED_IN
 * from N_EXPECTED bound devices, each from a new address. Every device
 * registers a few times over all runs, within filter.expected_burst: the
 * share admitted should be all of them.
 */
static void admission_mixes(struct mix *spoofed, struct mix *expected)
{
	char ip[64], msg[1024], prid[65], contact[160];
	struct tmpl *scan = calloc(N_SPOOFED, sizeof(*scan));

	adm_bind = sw_bind_create(N_EXPECTED * 2, h.ctx->src);
	if (scan == NULL || adm_bind == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	spoofed->name = "scanner-spoofed";
	spoofed->what = "sipvicious OPTIONS from 4096 spoofed sources (one frame each)";
	for (unsigned i = 0; i < N_SPOOFED; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", 1 + i / 65536, i / 256 % 256, i % 256 + 0);
		if (i % 256 == 0 || i % 256 == 255)
			snprintf(ip, sizeof(ip), "10.99.%u.7", i / 256);
		scan[i] = frame_of(&(struct dph_pkt){.src = ip,
						     .sport = 5060,
						     .payload = MSG_SCANNER,
						     .len = sizeof(MSG_SCANNER) - 1});
		push(spoofed, scan[i]);
	}
	expected->name = "expected-in-flood";
	expected->what = "1 REGISTER of a bound device from a new address in 16, in that flood";
	for (unsigned i = 0; i < N_EXPECTED; i++) {
		struct sw_ip old;
		struct tmpl t;

		/* Bound where it registered last: 172.16.x.y:5078. */
		snprintf(ip, sizeof(ip), "172.16.%u.%u", i / 250, i % 250 + 1);
		old = dph_ip(ip);
		snprintf(prid, sizeof(prid), "%064x", i + 1);
		snprintf(contact, sizeof(contact), "sip:u%u@%s:5078", i, ip);
		snprintf(msg, sizeof(msg), "u%u@example.com", i);
		struct sw_bind_rec r = {.aor = msg,
					.aor_len = (uint16_t)strlen(msg),
					.contact = contact,
					.contact_len = (uint16_t)strlen(contact),
					.pn_form = SW_PN_RFC8599,
					.pn_provider = "apns",
					.pn_provider_len = 4,
					.pn_prid = prid,
					.pn_prid_len = 64,
					.pn_param = "ABCDE12345.com.example.phone.voip",
					.pn_param_len = 33,
					.src = old,
					.sport = 5078,
					.expires_at = INT64_MAX};

		if (sw_bind_put(adm_bind, &r, rte_rdtsc(), NULL) != 0) {
			fprintf(stderr, "cannot bind device %u\n", i);
			exit(1);
		}
		/* It comes back from 100.64.x.y (carrier NAT, a new port). */
		snprintf(ip, sizeof(ip), "100.64.%u.%u", i / 250, i % 250 + 1);
		woken_register(i, ip, msg, sizeof(msg));
		t = frame_of(&(struct dph_pkt){
			.src = ip, .sport = 40000, .payload = msg, .len = (uint32_t)strlen(msg)});
		t.expected = true;
		push(expected, t);
		for (unsigned k = 1; k < EXPECTED_IN; k++)
			push(expected, scan[(i * (EXPECTED_IN - 1) + k) % N_SPOOFED]);
	}
	free(scan); /* the bytes stay: the templates share them */
}

/* Cycles per message for the scanner alone and for libosip2's parser; the
 * scanner's median and libosip2/scanner go to @p tab[0] and [1] (may be NULL). */
static void parse_costs(const char *name, const char *msg, unsigned iters, unsigned runs,
			double *tab)
{
	size_t len = strlen(msg);
	uint8_t *buf = malloc(len);
	uint64_t scan[16], osip[16];
	struct sip_msg *sm = malloc(sizeof(*sm));

	memcpy(buf, msg, len);
	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0 = rte_rdtsc_precise();

		for (unsigned i = 0; i < iters; i++)
			if (sip_scan(buf, (uint32_t)len, sm) != SIP_SCAN_OK)
				exit(2);
		scan[r] = (rte_rdtsc_precise() - t0) / iters;
		t0 = rte_rdtsc_precise();
		for (unsigned i = 0; i < iters; i++) {
			osip_message_t *om;

			osip_message_init(&om);
			if (osip_message_parse(om, msg, len) != 0)
				exit(3);
			osip_message_free(om);
		}
		osip[r] = (rte_rdtsc_precise() - t0) / iters;
	}
	uint64_t ms = median(scan, runs), mo = median(osip, runs);

	printf("  %-22s %5zu B   scanner %6lu   libosip2 %7lu   libosip2/scanner %5.1fx\n", name,
	       len, (unsigned long)ms, (unsigned long)mo, (double)mo / (double)ms);
	if (tab != NULL) {
		tab[0] = (double)ms;
		tab[1] = (double)mo / (double)ms;
	}
	free(buf);
	free(sm);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"smoke", no_argument, NULL, 's'},
					     {"packets", required_argument, NULL, 'n'},
					     {"runs", required_argument, NULL, 'r'},
					     {"mix", required_argument, NULL, 'm'},
					     {NULL, 0, NULL, 0}};
	unsigned packets = 320000, runs = 7;
	const char *only = NULL;
	static struct mix mixes[N_MIXES];
	double med_hw[N_MIXES] = {0}, tab[BT_N], inv[2];
	char prefix[64], ip[64], junk[22];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's') {
			packets = 3200;
			runs = 1;
		} else if (c == 'n') {
			packets = (unsigned)strtoul(optarg, NULL, 10);
		} else if (c == 'm') {
			only = optarg;
		} else if (c == 'r') {
			runs = (unsigned)strtoul(optarg, NULL, 10);
		} else {
			fprintf(stderr,
				"usage: %s [--smoke] [--packets N] [--runs R] [--mix NAME]\n",
				argv[0]);
			return 64;
		}
	}
	if (runs < 1 || runs > 15 || packets < BURST) {
		fprintf(stderr, "runs must be 1..15 and packets >= %d\n", BURST);
		return 64;
	}
	parser_init(); /* libosip2 header tables */
	snprintf(prefix, sizeof(prefix), "swbench%d", (int)getpid());
	if (dph_init(&h, prefix) != 0) {
		fprintf(stderr, "cannot start the dataplane harness\n");
		return 69;
	}
	/* A scanner wave does not get bigger buckets than the config default. */
	memset(junk, 'J', sizeof(junk));

	struct mix *mx = &mixes[0];
	mx->name = "junk-64B";
	mx->what = "64-byte frames of non-SIP UDP to 5060 from unknown sources";
	for (unsigned i = 0; i < 16; i++) {
		snprintf(ip, sizeof(ip), "198.18.0.%u", 100 + i);
		add(mx, &(struct dph_pkt){.src = ip, .sport = 40000, .payload = junk, .len = 22},
		    1);
	}
	mx = &mixes[1];
	mx->name = "scanner-flood";
	mx->what = "sipvicious OPTIONS from 16 unknown sources (per-source buckets)";
	for (unsigned i = 0; i < 16; i++) {
		snprintf(ip, sizeof(ip), "198.18.0.%u", 130 + i);
		add(mx,
		    &(struct dph_pkt){.src = ip,
				      .sport = 5060,
				      .payload = MSG_SCANNER,
				      .len = sizeof(MSG_SCANNER) - 1},
		    1);
	}
	mx = &mixes[2];
	mx->name = "register";
	mx->what = "REGISTER refreshes from 16 bound devices (scan+classify+lookup, up)";
	for (unsigned i = 0; i < 16; i++) {
		struct sw_ip a;

		snprintf(ip, sizeof(ip), "198.18.0.%u", 160 + i);
		a = dph_ip(ip);
		sw_src_bind(h.ctx->src, &a, 5078, BOUND_DEV + i, 1);
		add(mx,
		    &(struct dph_pkt){.src = ip,
				      .sport = 5078,
				      .payload = MSG_REGISTER,
				      .len = sizeof(MSG_REGISTER) - 1},
		    1);
	}
	mx = &mixes[3];
	mx->name = "invite-sdp";
	mx->what = "INVITE with SDP from the PBX (scan+classify, up)";
	add(mx,
	    &(struct dph_pkt){.src = DPH_PBX_IP4,
			      .sport = 5060,
			      .payload = MSG_INVITE,
			      .len = sizeof(MSG_INVITE) - 1},
	    1);
	mx = &mixes[4];
	mx->name = "realistic";
	mx->what = "40% REGISTER, 20% CRLF keepalive, 10% INVITE, 30% junk+scanner";
	for (unsigned i = 0; i < 8; i++)
		push(mx, mixes[2].t[i]);
	for (unsigned i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "198.18.0.%u", 160 + i);
		add(mx,
		    &(struct dph_pkt){.src = ip, .sport = 5078, .payload = "\r\n\r\n", .len = 4},
		    1);
	}
	for (unsigned i = 0; i < 2; i++)
		push(mx, mixes[3].t[0]);
	for (unsigned i = 0; i < 3; i++) {
		push(mx, mixes[0].t[i]);
		push(mx, mixes[1].t[i]);
	}

	fwd_mixes(&mixes[5]);
	admission_mixes(&mixes[9], &mixes[10]);

	bt_clear(tab);
	printf("sipwake dataplane benchmark: TSC %.3f GHz, %u packets x %u runs per mix, "
	       "bursts of %d, one core\n",
	       (double)rte_get_tsc_hz() / 1e9, packets, runs, BURST);
	printf("  (software checksums: as on af_packet; hw-cksum: as a NIC with RX and TX "
	       "checksum offload)\n");
	for (unsigned i = 0; i < N_MIXES; i++) {
		double sw[15], hw[15];
		uint64_t swc[15], hwc[15];

		if (!selected(only, mixes[i].name))
			continue;
		/* The older mixes run as they always have, without binding
		 * tables (their INVITE goes up); the fwd ones with. */
		h.ctx->bind = strncmp(mixes[i].name, "fwd-", 4) == 0 ? fwd_bind : NULL;
		if (i == 10)
			h.ctx->bind = adm_bind;
		uint64_t exp0 = dph_count(&h, DP_C_SIP_REG_EXPECTED), fed0 = fed_expected;

		for (unsigned r = 0; r < runs; r++) {
			sw[r] = run_mix(&mixes[i], packets, false);
			hw[r] = run_mix(&mixes[i], packets, true);
			swc[r] = (uint64_t)(sw[r] * 10);
			hwc[r] = (uint64_t)(hw[r] * 10);
		}
		double ms = (double)median(swc, runs) / 10, mh = (double)median(hwc, runs) / 10;

		printf("%-14s %7.1f cycles/pkt %6.2f Mpps | hw-cksum %7.1f cycles/pkt %6.2f Mpps  "
		       "(%s)\n",
		       mixes[i].name, ms, (double)rte_get_tsc_hz() / ms / 1e6, mh,
		       (double)rte_get_tsc_hz() / mh / 1e6, mixes[i].what);
		med_hw[i] = mh;
		if (fed_expected != fed0)
			printf("%-14s expected REGISTERs admitted: %lu of %lu (%.2f %%), the rest "
			       "filter_rate_expected\n",
			       "", (unsigned long)(dph_count(&h, DP_C_SIP_REG_EXPECTED) - exp0),
			       (unsigned long)(fed_expected - fed0),
			       100.0 * (double)(dph_count(&h, DP_C_SIP_REG_EXPECTED) - exp0) /
				       (double)(fed_expected - fed0));
	}
	if (med_hw[3] > 0 && med_hw[5] > 0)
		/* Same frames, same scan: what differs is forwarding vs the hand-up. */
		printf("forward stage alone (fwd-invite - invite-sdp, hw-cksum): %.1f cycles/pkt "
		       "(lookup, rewrite, build, checksum, TX; scan and L2-L4 excluded)\n",
		       med_hw[5] - med_hw[3]);
	if (only == NULL) {
		printf("SIP parse cost, cycles/message (median of %u runs):\n", runs);
		parse_costs("scanner OPTIONS", MSG_SCANNER, packets / 8, runs, NULL);
		parse_costs("REGISTER", MSG_REGISTER, packets / 8, runs, NULL);
		parse_costs("INVITE with SDP", MSG_INVITE, packets / 8, runs, inv);
		tab[BT_SCAN_INVITE] = inv[0];
		tab[BT_SCAN_INVITE_BYTE] = inv[0] / (double)(sizeof(MSG_INVITE) - 1);
		tab[BT_SCAN_VS_OSIP] = inv[1];
	}
	/* Drop counters prove the mixes did what they say. */
	printf("counters: filter_unknown_request %lu, filter_rate_source %lu, filter_scanner %lu, "
	       "sip_handed_up %lu, keepalive_crlf %lu\n",
	       (unsigned long)dph_drop(&h, DP_D_FILTER_UNKNOWN_REQUEST),
	       (unsigned long)dph_drop(&h, DP_D_FILTER_RATE_SOURCE),
	       (unsigned long)dph_drop(&h, DP_D_FILTER_SCANNER),
	       (unsigned long)dph_count(&h, DP_C_SIP_HANDED_UP),
	       (unsigned long)dph_count(&h, DP_C_KEEPALIVE_CRLF));
	printf("counters: fwd_requests_to_device %lu, fwd_responses %lu, tx_packets %lu, "
	       "fwd drops %lu\n",
	       (unsigned long)dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE),
	       (unsigned long)dph_count(&h, DP_C_FWD_RESPONSES),
	       (unsigned long)dph_count(&h, DP_C_TX_PACKETS), (unsigned long)fwd_drops());
	/* junk-64B, scanner-flood, register, invite-sdp and fwd-call: mixes 0-3, 8. */
	static const enum bt_fig of_mix[] = {BT_JUNK, BT_FLOOD, BT_REGISTER, BT_INVITE,	 BT_N,
					     BT_N,    BT_N,	BT_N,	     BT_FWD_CALL};
	for (unsigned i = 0; i < RTE_DIM(of_mix); i++)
		if (of_mix[i] != BT_N && med_hw[i] > 0)
			tab[of_mix[i]] = med_hw[i];
	bt_print(tab, runs);
	sw_bind_free(adm_bind);
	h.ctx->bind = fwd_bind; /* dph_fini() frees it */
	dph_fini(&h);
	return 0;
}
