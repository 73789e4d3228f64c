/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sw_flood: a junk sender for the flood tests (tests/integration/
 * test_flood.py). From a network namespace the test made, it writes
 * prebuilt Ethernet frames straight onto one interface (AF_PACKET,
 * sendmmsg, qdisc bypassed) as fast as it can, or at a given rate, with
 * spoofed source addresses, until a packet count or a time limit: every
 * run is bounded in both.
 *
 * Kinds of junk (each frame from its own spoofed source IP and port):
 *   scanner    OPTIONS and REGISTER with a scanner's User-Agent
 *              (sipvicious, friendly-scanner), as SIP scanners send them;
 *   junk       random UDP payloads to the SIP port (not SIP at all);
 *   malformed  REGISTERs cut short or missing Call-ID (malformed SIP);
 *   invite     INVITEs from unknown sources, a method they may not send
 *              (sipwake refuses them; answers them 403 when configured);
 *   ping       ICMP echo requests (sipwake answers within its budget);
 *   rfc4475    the RFC 4475 torture messages the SIP scanner refuses
 *              (tests/unit/rfc4475_invalid.h, byte for byte);
 *   frag       first fragments of SIP-sized IPv4 datagrams whose other
 *              fragments never come (trains that never complete);
 *   badauth    REGISTERs for real AORs (--aor, the test's apps) with an
 *              Authorization whose digest response is wrong;
 *   syn        TCP SYNs to the --syn-port ports (a SYN flood; none of these
 *              sources ever answers the SYN-ACK).
 * The frames are built by tests/flood/sw_flood_kinds.c.
 * Sources come from --src (a.b.c.d/len, several allowed), skipping
 * --exclude addresses, network and broadcast addresses.
 *
 * SIGINT or SIGTERM ends the run early, as the limits do. At the end it
 * prints one JSON object: frames sent per kind, seconds, frames per
 * second, and the rfc4475 frames per message. Exit 0, or 64 (usage) / 71
 * (socket) with a message.
 *
 * Usage: sw_flood --ifname IF --dst-mac MAC --dst-ip A.B.C.D --src NET/LEN
 *                 [--src ...] [--exclude A.B.C.D ...] [--mix kind=weight,...]
 *                 [--seconds S] [--max-packets N] [--rate PPS] [--frames N]
 *                 [--aor user@domain ...] [--syn-port P ...]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sw_flood.h"

#define MAX_NETS 8
#define MAX_EXCL 32
#define MAX_AORS 32
#define BATCH	 64

struct net {
	uint32_t base, size; /* host order */
};

static struct net nets[MAX_NETS];
static unsigned n_nets;
static uint32_t excl[MAX_EXCL];
static unsigned n_excl;
static volatile sig_atomic_t stop; /* SIGINT / SIGTERM: stop and report */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(const char *why)
{
	fprintf(stderr,
		"sw_flood: %s\n"
		"usage: sw_flood --ifname IF --dst-mac MAC --dst-ip A.B.C.D --src NET/LEN ...\n"
		"       [--exclude A.B.C.D ...] [--mix "
		"scanner=4,junk=3,malformed=2,invite=1,ping=0,rfc4475=0,frag=0,badauth=0,syn=0]\n"
		"       [--aor user@domain ... (badauth's targets)] [--syn-port P ... (syn's, at "
		"most 4)]\n"
		"       [--seconds S (default 10)] [--max-packets N (default 10000000)]\n"
		"       [--rate PPS (0: as fast as possible)] [--frames N (distinct, default "
		"16384)]\n",
		why);
	exit(64);
}

/* One spoofed source: a host address of one of the --src nets, not excluded. */
uint32_t source(void)
{
	for (;;) {
		const struct net *n = &nets[rnd() % n_nets];
		uint32_t host = n->size > 2 ? 1 + (uint32_t)(rnd() % (n->size - 2)) : 0;
		uint32_t a = n->base + host;
		bool skip = false;

		for (unsigned i = 0; i < n_excl; i++)
			skip |= excl[i] == a;
		if (!skip)
			return a;
	}
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"ifname", required_argument, NULL, 'i'},
					     {"dst-mac", required_argument, NULL, 'm'},
					     {"dst-ip", required_argument, NULL, 'd'},
					     {"src", required_argument, NULL, 's'},
					     {"exclude", required_argument, NULL, 'x'},
					     {"mix", required_argument, NULL, 'k'},
					     {"seconds", required_argument, NULL, 't'},
					     {"max-packets", required_argument, NULL, 'n'},
					     {"rate", required_argument, NULL, 'r'},
					     {"frames", required_argument, NULL, 'f'},
					     {"aor", required_argument, NULL, 'a'},
					     {"syn-port", required_argument, NULL, 'p'},
					     {NULL, 0, NULL, 0}};
	const char *ifname = NULL;
	static const char *aors[MAX_AORS];
	struct flood_target tg = {.smac = {0x02, 0x5f, 0x10, 0x0d, 0, 1}, .aors = aors};
	unsigned weight[N_KINDS] = {4, 3, 2, 1, 0}, total_w = 0, n_frames = 16384;
	double seconds = 10, rate = 0;
	uint64_t max_packets = 10000000, sent[N_KINDS] = {0}, total = 0;
	uint64_t sent_rfc4475[256] = {0};
	struct frame *frames;
	struct sockaddr_ll sll = {0};
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int c, fd, one = 1;
	bool have_dmac = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			have_dmac = parse_mac(optarg, tg.dmac);
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &tg.dst_be) != 1)
				usage("--dst-ip: not an IPv4 address");
			break;
		case 's': {
			char buf[64];
			char *slash;
			uint32_t a;
			unsigned len;

			snprintf(buf, sizeof(buf), "%s", optarg);
			slash = strchr(buf, '/');
			if (slash == NULL || n_nets == MAX_NETS)
				usage("--src: NET/LEN, at most 8");
			*slash = '\0';
			len = (unsigned)atoi(slash + 1);
			if (inet_pton(AF_INET, buf, &a) != 1 || len < 8 || len > 30)
				usage("--src: NET/LEN with LEN 8..30");
			nets[n_nets].size = 1u << (32 - len);
			nets[n_nets].base = ntohl(a) & ~(nets[n_nets].size - 1);
			n_nets++;
			break;
		}
		case 'x':
			if (n_excl == MAX_EXCL || inet_pton(AF_INET, optarg, &excl[n_excl]) != 1)
				usage("--exclude: an IPv4 address, at most 32");
			excl[n_excl] = ntohl(excl[n_excl]);
			n_excl++;
			break;
		case 'k': {
			char *save = NULL, *buf = strdup(optarg);

			memset(weight, 0, sizeof(weight));
			for (char *t = strtok_r(buf, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				char *eq = strchr(t, '=');
				int k = -1;

				if (eq == NULL)
					usage("--mix: kind=weight,...");
				*eq = '\0';
				for (int i = 0; i < N_KINDS; i++)
					if (strcmp(t, kind_names[i]) == 0)
						k = i;
				if (k < 0)
					usage("--mix: kinds are scanner, junk, malformed, invite, "
					      "ping, rfc4475, frag, badauth, syn");
				weight[k] = (unsigned)atoi(eq + 1);
			}
			free(buf);
			break;
		}
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			max_packets = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'f':
			n_frames = (unsigned)atoi(optarg);
			break;
		case 'p':
			if (tg.n_syn_ports == 4 || atoi(optarg) < 1 || atoi(optarg) > 65535)
				usage("--syn-port: 1..65535, at most 4");
			tg.syn_ports[tg.n_syn_ports++] = (uint16_t)atoi(optarg);
			break;
		case 'a':
			if (tg.n_aors == MAX_AORS || strchr(optarg, '@') == NULL ||
			    strlen(optarg) > 128)
				usage("--aor: user@domain, at most 32");
			aors[tg.n_aors++] = optarg;
			break;
		default:
			usage("unknown option");
		}
	}
	for (int i = 0; i < N_KINDS; i++)
		total_w += weight[i];
	if (ifname == NULL || !have_dmac || tg.dst_be == 0 || n_nets == 0 || total_w == 0)
		usage("--ifname, --dst-mac, --dst-ip, --src and a non-empty --mix are needed");
	if (seconds <= 0 || seconds > 600 || max_packets == 0 || n_frames < BATCH ||
	    n_frames > 1u << 20)
		usage("--seconds 0..600, --max-packets > 0, --frames 64..1048576");
	if (weight[K_BADAUTH] > 0 && tg.n_aors == 0)
		usage("badauth needs the AORs it names: --aor user@domain");
	if (weight[K_SYN] > 0 && tg.n_syn_ports == 0)
		usage("syn needs the ports it floods: --syn-port P");

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("sw_flood: socket(AF_PACKET)");
		return 71;
	}
	/* Straight to the driver: the flood must not queue behind anything. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0)
		perror("sw_flood: PACKET_QDISC_BYPASS (going on without)");
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, tg.dmac, 6);
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "sw_flood: cannot bind to %s: %s\n", ifname, strerror(errno));
		return 71;
	}
	rnd_seed((uint64_t)getpid() << 32 ^ (uint64_t)time(NULL));
	frames = calloc(n_frames, sizeof(*frames));
	if (frames == NULL) {
		fprintf(stderr, "sw_flood: out of memory\n");
		return 71;
	}
	for (unsigned i = 0; i < n_frames; i++) {
		unsigned w = (unsigned)(rnd() % total_w), k = 0;

		while (w >= weight[k]) {
			w -= weight[k];
			k++;
		}
		build(&frames[i], (enum kind)k, &tg);
	}

	double t0 = now_s(), end = t0 + seconds, t;
	unsigned next = 0;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (t = t0; t < end && total < max_packets && !stop; t = now_s()) {
		unsigned n = BATCH;
		int r;

		if (rate > 0) {
			/* Paced: no further ahead than the rate allows. */
			double due = (t - t0) * rate - (double)total;

			if (due < 1) {
				usleep(200);
				continue;
			}
			if (due < n)
				n = (unsigned)due;
		}
		if ((uint64_t)n > max_packets - total)
			n = (unsigned)(max_packets - total);
		for (unsigned i = 0; i < n; i++) {
			struct frame *f = &frames[(next + i) % n_frames];

			iov[i] = (struct iovec){.iov_base = f->b, .iov_len = f->len};
			msgs[i] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			perror("sw_flood: sendmmsg");
			return 71;
		}
		for (int i = 0; i < r; i++) {
			const struct frame *f = &frames[(next + (unsigned)i) % n_frames];

			sent[f->kind]++;
			if (f->kind == K_RFC4475)
				sent_rfc4475[f->sub]++;
		}
		next = (next + (unsigned)r) % n_frames;
		total += (uint64_t)r;
	}
	t = now_s() - t0;
	printf("{\"seconds\": %.3f, \"frames\": %llu, \"pps\": %.0f, \"sent\": {", t,
	       (unsigned long long)total, t > 0 ? (double)total / t : 0.0);
	for (int i = 0; i < N_KINDS; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", kind_names[i], (unsigned long long)sent[i]);
	printf("}, \"rfc4475\": {");
	for (unsigned i = 0; i < rfc4475_count(); i++)
		printf("%s\"%s\": %llu", i ? ", " : "", rfc4475_name(i),
		       (unsigned long long)sent_rfc4475[i]);
	printf("}}\n");
	free(frames);
	close(fd);
	return 0;
}
