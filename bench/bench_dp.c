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
#include <rte_mbuf.h>

#include "tests/dp/dp_harness.h"
#include "tests/dp/sip_msgs.h"

#define BURST	  32
#define MAX_TMPL  64
#define BOUND_DEV 1000
#define N_MIXES	  9
#define APP_IP	  "198.18.0.2" /* the app of the fwd mixes (MSG_INVITE's Request-URI) */

struct tmpl {
	uint8_t *bytes;
	uint16_t len;
};

struct mix {
	const char *name;
	const char *what;
	unsigned n;
	struct tmpl t[MAX_TMPL];
};

static struct dph h;
static struct sw_bind_table *fwd_bind; /* ctx->bind while the fwd mixes run */

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

/* One frame of @p p as a template (its bytes copied out of the mbuf). */
static void add(struct mix *mx, const struct dph_pkt *p, unsigned copies)
{
	for (unsigned c = 0; c < copies && mx->n < MAX_TMPL; c++) {
		struct rte_mbuf *m;

		if (dph_build(&h, p, &m, 1) != 1) {
			fprintf(stderr, "cannot build a frame for %s\n", mx->name);
			exit(1);
		}
		mx->t[mx->n].len = rte_pktmbuf_data_len(m);
		mx->t[mx->n].bytes = malloc(mx->t[mx->n].len);
		memcpy(mx->t[mx->n].bytes, rte_pktmbuf_mtod(m, void *), mx->t[mx->n].len);
		mx->n++;
		rte_pktmbuf_free(m);
	}
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

	while (done < packets) {
		uint64_t t0, t1;

		if (rte_pktmbuf_alloc_bulk(h.ctx->pool, b, BURST) != 0) {
			fprintf(stderr, "mbuf pool empty\n");
			exit(1);
		}
		for (unsigned i = 0; i < BURST; i++) {
			const struct tmpl *t = &mx->t[next++ % mx->n];

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
		mx[3].t[mx[3].n++] = mx[i].t[0];
}

/* Cycles per message for the scanner alone and for libosip2's parser. */
static void parse_costs(const char *name, const char *msg, unsigned iters, unsigned runs)
{
	size_t len = strlen(msg);
	uint8_t *buf = malloc(len);
	uint64_t scan[16], osip[16];
	struct dp_sip_msg *sm = malloc(sizeof(*sm));

	memcpy(buf, msg, len);
	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0 = rte_rdtsc_precise();

		for (unsigned i = 0; i < iters; i++)
			if (dp_sip_scan(buf, (uint32_t)len, sm) != DP_SIP_OK)
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
	double med_hw[N_MIXES] = {0};
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
		mx->t[mx->n++] = mixes[2].t[i];
	for (unsigned i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "198.18.0.%u", 160 + i);
		add(mx,
		    &(struct dph_pkt){.src = ip, .sport = 5078, .payload = "\r\n\r\n", .len = 4},
		    1);
	}
	for (unsigned i = 0; i < 2; i++)
		mx->t[mx->n++] = mixes[3].t[0];
	for (unsigned i = 0; i < 3; i++) {
		mx->t[mx->n++] = mixes[0].t[i];
		mx->t[mx->n++] = mixes[1].t[i];
	}

	fwd_mixes(&mixes[5]);

	printf("sipwake dataplane benchmark: TSC %.3f GHz, %u packets x %u runs per mix, "
	       "bursts of %d, one core\n",
	       (double)rte_get_tsc_hz() / 1e9, packets, runs, BURST);
	printf("  (software checksums: as on af_packet; hw-cksum: as a NIC with RX checksum "
	       "offload reports)\n");
	for (unsigned i = 0; i < N_MIXES; i++) {
		double sw[15], hw[15];
		uint64_t swc[15], hwc[15];

		if (!selected(only, mixes[i].name))
			continue;
		/* The older mixes run as they always have, without binding
		 * tables (their INVITE goes up); the fwd ones with. */
		h.ctx->bind = strncmp(mixes[i].name, "fwd-", 4) == 0 ? fwd_bind : NULL;
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
	}
	if (med_hw[3] > 0 && med_hw[5] > 0)
		/* Same frames, same scan: what differs is forwarding vs the hand-up. */
		printf("forward stage alone (fwd-invite - invite-sdp, hw-cksum): %.1f cycles/pkt "
		       "(lookup, rewrite, build, checksum, TX; scan and L2-L4 excluded)\n",
		       med_hw[5] - med_hw[3]);
	if (only == NULL) {
		printf("SIP parse cost, cycles/message (median of %u runs):\n", runs);
		parse_costs("scanner OPTIONS", MSG_SCANNER, packets / 8, runs);
		parse_costs("REGISTER", MSG_REGISTER, packets / 8, runs);
		parse_costs("INVITE with SDP", MSG_INVITE, packets / 8, runs);
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
	h.ctx->bind = fwd_bind; /* dph_fini() frees it */
	dph_fini(&h);
	return 0;
}
