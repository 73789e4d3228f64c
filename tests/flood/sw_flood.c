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
 *   ping       ICMP echo requests (sipwake answers within its budget).
 * Sources come from --src (a.b.c.d/len, several allowed), skipping
 * --exclude addresses, network and broadcast addresses.
 *
 * SIGINT or SIGTERM ends the run early, as the limits do. At the end it
 * prints one JSON object: frames sent per kind, seconds,
 * frames per second. Exit 0, or 64 (usage) / 71 (socket) with a message.
 *
 * Usage: sw_flood --ifname IF --dst-mac MAC --dst-ip A.B.C.D --src NET/LEN
 *                 [--src ...] [--exclude A.B.C.D ...] [--mix kind=weight,...]
 *                 [--seconds S] [--max-packets N] [--rate PPS] [--frames N]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NETS  8
#define MAX_EXCL  32
#define BATCH	  64
#define FRAME_MAX 640 /* every kind here fits */
#define SIP_PORT  5060
#define N_KINDS	  5

enum kind { K_SCANNER, K_JUNK, K_MALFORMED, K_INVITE, K_PING };
static const char *const kind_names[N_KINDS] = {"scanner", "junk", "malformed", "invite", "ping"};

struct frame {
	uint16_t len;
	uint8_t kind;
	uint8_t b[FRAME_MAX];
};

struct net {
	uint32_t base, size; /* host order */
};

static struct net nets[MAX_NETS];
static unsigned n_nets;
static uint32_t excl[MAX_EXCL];
static unsigned n_excl;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static volatile sig_atomic_t stop; /* SIGINT / SIGTERM: stop and report */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rnd(void)
{
	/* xorshift64*: fast, and the junk needs no better. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void usage(const char *why)
{
	fprintf(stderr,
		"sw_flood: %s\n"
		"usage: sw_flood --ifname IF --dst-mac MAC --dst-ip A.B.C.D --src NET/LEN ...\n"
		"       [--exclude A.B.C.D ...] [--mix "
		"scanner=4,junk=3,malformed=2,invite=1,ping=0]\n"
		"       [--seconds S (default 10)] [--max-packets N (default 10000000)]\n"
		"       [--rate PPS (0: as fast as possible)] [--frames N (distinct, default "
		"16384)]\n",
		why);
	exit(64);
}

/* One spoofed source: a host address of one of the --src nets, not excluded. */
static uint32_t source(void)
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

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

/* The SIP payload of one frame of @p k from @p src:@p sport. */
static size_t payload(enum kind k, char *out, size_t cap, const char *src, unsigned sport,
		      const char *dst)
{
	unsigned id = (unsigned)rnd();

	switch (k) {
	case K_SCANNER:
		if (id & 1)
			return (size_t)snprintf(
				out, cap,
				"OPTIONS sip:100@%s SIP/2.0\r\n"
				"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%08x;rport\r\n"
				"Max-Forwards: 70\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
				"From: \"sipvicious\"<sip:100@1.1.1.1>;tag=%08x\r\n"
				"User-Agent: friendly-scanner\r\nCall-ID: %u\r\nContact: "
				"<sip:100@%s:%u>\r\n"
				"CSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: "
				"0\r\n\r\n",
				dst, src, sport, id, id, id, src, sport);
		return (size_t)snprintf(
			out, cap,
			"REGISTER sip:%s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%08x;rport\r\n"
			"Max-Forwards: 70\r\nFrom: <sip:%u@%s>;tag=%08x\r\n"
			"To: <sip:%u@%s>\r\nCall-ID: %08x@%s\r\nCSeq: 1 REGISTER\r\n"
			"Contact: <sip:%u@%s:%u>\r\nUser-Agent: sipvicious\r\n"
			"Expires: 3600\r\nContent-Length: 0\r\n\r\n",
			dst, src, sport, id, id % 9000 + 1000, dst, id, id % 9000 + 1000, dst, id,
			src, id % 9000 + 1000, src, sport);
	case K_MALFORMED:
		if (id & 1)
			/* Cut before the empty line that ends the headers. */
			return (size_t)snprintf(out, cap,
						"REGISTER sip:%s SIP/2.0\r\n"
						"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-m%08x\r\n"
						"From: <sip:%u@%s>;tag=1\r\nTo: <sip:%u@%s>\r\n"
						"Call-ID: m%08x\r\nCSeq: 1 REGIS",
						dst, src, sport, id, id % 9000, dst, id % 9000, dst,
						id);
		return (size_t)snprintf(out, cap,
					"REGISTER sip:%s SIP/2.0\r\n"
					"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-m%08x\r\n"
					"From: <sip:%u@%s>;tag=1\r\nTo: <sip:%u@%s>\r\n"
					"CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
					dst, src, sport, id, id % 9000, dst, id % 9000, dst);
	case K_INVITE:
		return (size_t)snprintf(
			out, cap,
			"INVITE sip:%u@%s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-i%08x;rport\r\n"
			"Max-Forwards: 70\r\nFrom: <sip:attacker@%s>;tag=%08x\r\n"
			"To: <sip:%u@%s>\r\nCall-ID: i%08x@%s\r\nCSeq: 1 INVITE\r\n"
			"Contact: <sip:attacker@%s:%u>\r\nContent-Length: 0\r\n\r\n",
			id % 9000 + 1000, dst, src, sport, id, src, id, id % 9000 + 1000, dst, id,
			src, src, sport);
	default: {
		/* Not SIP: the first byte is no token character. */
		size_t n = 32 + rnd() % 200;

		for (size_t i = 0; i < n && i < cap; i++)
			out[i] = (char)rnd();
		out[0] = (char)(0x80 | (rnd() & 0x7f));
		return n < cap ? n : cap;
	}
	}
}

static void build(struct frame *f, enum kind k, const uint8_t dmac[6], const uint8_t smac[6],
		  uint32_t dst_be)
{
	struct ether_header *eth = (struct ether_header *)f->b;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	uint32_t src = source(), src_be = htonl(src);
	unsigned sport = 1024 + (unsigned)(rnd() % 60000);
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	size_t l4;

	inet_ntop(AF_INET, &src_be, s, sizeof(s));
	inet_ntop(AF_INET, &dst_be, d, sizeof(d));
	memcpy(eth->ether_dhost, dmac, 6);
	memcpy(eth->ether_shost, smac, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->id = (uint16_t)rnd();
	ip->saddr = src_be;
	ip->daddr = dst_be;
	if (k == K_PING) {
		struct icmphdr *ic = (struct icmphdr *)(ip + 1);

		l4 = sizeof(*ic) + 32;
		memset(ic, 0, l4);
		ic->type = ICMP_ECHO;
		ic->un.echo.id = (uint16_t)rnd();
		ic->checksum = htons(csum_fold(csum_add(0, ic, l4)));
		ip->protocol = IPPROTO_ICMP;
	} else {
		struct udphdr *udp = (struct udphdr *)(ip + 1);
		char *p = (char *)(udp + 1);
		size_t cap = FRAME_MAX - sizeof(*eth) - sizeof(*ip) - sizeof(*udp);
		size_t n = payload(k, p, cap, s, sport, d);
		uint32_t sum = 0;

		if (n > cap)
			n = cap;
		l4 = sizeof(*udp) + n;
		udp->source = htons((uint16_t)sport);
		udp->dest = htons(SIP_PORT);
		udp->len = htons((uint16_t)l4);
		udp->check = 0;
		/* RFC 768: pseudo-header, header, data. */
		sum = csum_add(sum, &ip->saddr, 4);
		sum = csum_add(sum, &ip->daddr, 4);
		sum += IPPROTO_UDP + (uint32_t)l4;
		sum = csum_add(sum, udp, l4);
		udp->check = htons(csum_fold(sum));
		if (udp->check == 0)
			udp->check = 0xffff;
		ip->protocol = IPPROTO_UDP;
	}
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4));
	ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));
	f->len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + l4);
	f->kind = (uint8_t)k;
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
					     {NULL, 0, NULL, 0}};
	const char *ifname = NULL;
	uint8_t dmac[6] = {0}, smac[6] = {0x02, 0x5f, 0x10, 0x0d, 0, 1};
	uint32_t dst_be = 0;
	unsigned weight[N_KINDS] = {4, 3, 2, 1, 0}, total_w = 0, n_frames = 16384;
	double seconds = 10, rate = 0;
	uint64_t max_packets = 10000000, sent[N_KINDS] = {0}, total = 0;
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
			have_dmac = parse_mac(optarg, dmac);
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst_be) != 1)
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
					      "ping");
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
		default:
			usage("unknown option");
		}
	}
	for (int i = 0; i < N_KINDS; i++)
		total_w += weight[i];
	if (ifname == NULL || !have_dmac || dst_be == 0 || n_nets == 0 || total_w == 0)
		usage("--ifname, --dst-mac, --dst-ip, --src and a non-empty --mix are needed");
	if (seconds <= 0 || seconds > 600 || max_packets == 0 || n_frames < BATCH ||
	    n_frames > 1u << 20)
		usage("--seconds 0..600, --max-packets > 0, --frames 64..1048576");

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
	memcpy(sll.sll_addr, dmac, 6);
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "sw_flood: cannot bind to %s: %s\n", ifname, strerror(errno));
		return 71;
	}
	rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
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
		build(&frames[i], (enum kind)k, dmac, smac, dst_be);
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
		for (int i = 0; i < r; i++)
			sent[frames[(next + (unsigned)i) % n_frames].kind]++;
		next = (next + (unsigned)r) % n_frames;
		total += (uint64_t)r;
	}
	t = now_s() - t0;
	printf("{\"seconds\": %.3f, \"frames\": %llu, \"pps\": %.0f, \"sent\": {", t,
	       (unsigned long long)total, t > 0 ? (double)total / t : 0.0);
	for (int i = 0; i < N_KINDS; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", kind_names[i], (unsigned long long)sent[i]);
	printf("}}\n");
	free(frames);
	close(fd);
	return 0;
}
