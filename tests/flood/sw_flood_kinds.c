/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The frames of each kind of junk sw_flood sends (tests/flood/sw_flood.h):
 * Ethernet, IPv4, then UDP to the SIP port or ICMP, each from its own
 * spoofed source.
 */
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sw_flood.h"
/* The RFC 4475 torture texts of the scanner's unit test, not a copy. */
#include "rfc4475_invalid.h"

const char *const kind_names[N_KINDS] = {"scanner", "junk", "malformed", "invite", "ping",
					 "rfc4475", "frag", "badauth",	 "syn"};

/*
 * The first fragment's share of a SIP-sized datagram (a multiple of 8, RFC
 * 791 §3.1): the rest of the datagram is never sent.
 */
#define FRAG_DATA 1024
#define FRAG_SIP  1400 /* the whole datagram's SIP message, in bytes */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

void rnd_seed(uint64_t seed)
{
	rng ^= seed;
}

/*
 * The messages of RFC 4475 that the scanner refuses (tests/unit/
 * test_sip_torture.c): the ones sipwake must drop. The others in the
 * header are accepted by the scanner on purpose (valid syntax, refused at a
 * layer above) and are not junk to it; they are listed, not sent.
 */
static const struct torture {
	const char *name, *text;
	unsigned len;
	bool send;
} torture[] = {
#define T(n, s)                                 \
	{                                       \
#n, m_##n, sizeof(m_##n) - 1, s \
	}
	T(badinv01, true),   T(clerr, true),	  T(ncl, true),	      T(scalar02, true),
	T(scalarlg, true),   T(quotbal, true),	  T(ltgtruri, true),  T(lwsruri, true),
	T(lwsstart, true),   T(trws, true),	  T(escruri, true),   T(baddate, false),
	T(regbadct, true),   T(badaspec, true),	  T(baddn, true),     T(badvers, true),
	T(mismatch01, true), T(mismatch02, true), T(bigcode, true),   T(badbranch, false),
	T(insuf, true),	     T(unkscm, false),	  T(novelsc, false),  T(unksm2, false),
	T(bext01, false),    T(invut, false),	  T(regaut01, false), T(multi01, true),
	T(mcl01, true),	     T(bcast, false),	  T(zeromf, false),   T(cparam01, false),
	T(cparam02, false),  T(regescrt, false),  T(sdp01, false),    T(inv2543, false),
#undef T
};
#define N_TORTURE (sizeof(torture) / sizeof(torture[0]))

static unsigned sent_idx[N_TORTURE], n_sent_idx;

static void torture_init(void)
{
	if (n_sent_idx == 0)
		for (unsigned i = 0; i < N_TORTURE; i++)
			if (torture[i].send)
				sent_idx[n_sent_idx++] = i;
}

unsigned rfc4475_count(void)
{
	torture_init();
	return n_sent_idx;
}

const char *rfc4475_name(unsigned i)
{
	torture_init();
	return i < n_sent_idx ? torture[sent_idx[i]].name : "?";
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

static size_t clamp(int n, size_t cap)
{
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap;
}

static size_t scanner(char *out, size_t cap, const char *src, unsigned sport, const char *dst,
		      unsigned id)
{
	if (id & 1)
		return clamp(
			snprintf(out, cap,
				 "OPTIONS sip:100@%s SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%08x;rport\r\n"
				 "Max-Forwards: 70\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
				 "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=%08x\r\n"
				 "User-Agent: friendly-scanner\r\nCall-ID: %u\r\nContact: "
				 "<sip:100@%s:%u>\r\n"
				 "CSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: "
				 "0\r\n\r\n",
				 dst, src, sport, id, id, id, src, sport),
			cap);
	return clamp(snprintf(out, cap,
			      "REGISTER sip:%s SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%08x;rport\r\n"
			      "Max-Forwards: 70\r\nFrom: <sip:%u@%s>;tag=%08x\r\n"
			      "To: <sip:%u@%s>\r\nCall-ID: %08x@%s\r\nCSeq: 1 REGISTER\r\n"
			      "Contact: <sip:%u@%s:%u>\r\nUser-Agent: sipvicious\r\n"
			      "Expires: 3600\r\nContent-Length: 0\r\n\r\n",
			      dst, src, sport, id, id % 9000 + 1000, dst, id, id % 9000 + 1000, dst,
			      id, src, id % 9000 + 1000, src, sport),
		     cap);
}

static size_t malformed(char *out, size_t cap, const char *src, unsigned sport, const char *dst,
			unsigned id)
{
	if (id & 1)
		/* Cut before the empty line that ends the headers. */
		return clamp(snprintf(out, cap,
				      "REGISTER sip:%s SIP/2.0\r\n"
				      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-m%08x\r\n"
				      "From: <sip:%u@%s>;tag=1\r\nTo: <sip:%u@%s>\r\n"
				      "Call-ID: m%08x\r\nCSeq: 1 REGIS",
				      dst, src, sport, id, id % 9000, dst, id % 9000, dst, id),
			     cap);
	return clamp(snprintf(out, cap,
			      "REGISTER sip:%s SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-m%08x\r\n"
			      "From: <sip:%u@%s>;tag=1\r\nTo: <sip:%u@%s>\r\n"
			      "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
			      dst, src, sport, id, id % 9000, dst, id % 9000, dst),
		     cap);
}

static size_t invite(char *out, size_t cap, const char *src, unsigned sport, const char *dst,
		     unsigned id)
{
	return clamp(snprintf(out, cap,
			      "INVITE sip:%u@%s SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-i%08x;rport\r\n"
			      "Max-Forwards: 70\r\nFrom: <sip:attacker@%s>;tag=%08x\r\n"
			      "To: <sip:%u@%s>\r\nCall-ID: i%08x@%s\r\nCSeq: 1 INVITE\r\n"
			      "Contact: <sip:attacker@%s:%u>\r\nContent-Length: 0\r\n\r\n",
			      id % 9000 + 1000, dst, src, sport, id, src, id, id % 9000 + 1000, dst,
			      id, src, src, sport),
		     cap);
}

/*
 * A REGISTER for a real AOR whose Authorization carries a digest response
 * that cannot be right (random hex): a password guesser. No push address,
 * no +sip.instance (those are the app's secrets), no scanner User-Agent.
 */
static size_t badauth(char *out, size_t cap, const char *src, unsigned sport, const char *aor,
		      unsigned id)
{
	const char *at = strchr(aor, '@');
	int ulen = at ? (int)(at - aor) : (int)strlen(aor);
	const char *domain = at ? at + 1 : "example.com";
	unsigned r[4];

	for (int i = 0; i < 4; i++)
		r[i] = (unsigned)rnd();
	return clamp(snprintf(out, cap,
			      "REGISTER sip:%s SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-a%08x;rport\r\n"
			      "Max-Forwards: 70\r\nFrom: <sip:%s>;tag=a%08x\r\n"
			      "To: <sip:%s>\r\nCall-ID: a%08x@%s\r\nCSeq: 2 REGISTER\r\n"
			      "Contact: <sip:%.*s@%s:%u>;expires=3600\r\n"
			      "Authorization: Digest username=\"%.*s\", realm=\"%s\", "
			      "nonce=\"n%08x\", uri=\"sip:%s\", response=\"%08x%08x%08x%08x\", "
			      "algorithm=MD5\r\n"
			      "User-Agent: Softphone/1.0\r\nContent-Length: 0\r\n\r\n",
			      domain, src, sport, id, aor, id, aor, id, src, ulen, aor, src, sport,
			      ulen, aor, domain, id, domain, r[0], r[1], r[2], r[3]),
		     cap);
}

/*
 * An INVITE of FRAG_SIP bytes (its SDP padded), of which only the first
 * FRAG_DATA go out. Content-Length has a fixed width, so the headers are as
 * long on the second pass, which writes the body's length.
 */
static size_t frag_sip(char *out, size_t cap, const char *src, unsigned sport, const char *dst,
		       unsigned id)
{
	unsigned body = 0;
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		n = clamp(snprintf(out, cap,
				   "INVITE sip:%u@%s SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-f%08x;rport\r\n"
				   "Max-Forwards: 70\r\nFrom: <sip:%u@%s>;tag=f%08x\r\n"
				   "To: <sip:%u@%s>\r\nCall-ID: f%08x@%s\r\nCSeq: 1 INVITE\r\n"
				   "Contact: <sip:%u@%s:%u>\r\nContent-Type: application/sdp\r\n"
				   "Content-Length: %4u\r\n\r\n",
				   id % 9000 + 1000, dst, src, sport, id, id % 9000 + 2000, src, id,
				   id % 9000 + 1000, dst, id, src, id % 9000 + 2000, src, sport,
				   body),
			  cap);
		body = n < FRAG_SIP ? (unsigned)(FRAG_SIP - n) : 0;
	}
	for (; n + 1 < cap && n < FRAG_SIP; n++)
		out[n] = n % 64 == 63 ? '\n' : 'a';
	return n;
}

/* The SIP (or not SIP) payload of one frame of @p k from @p src:@p sport. */
static size_t payload(struct frame *f, enum kind k, char *out, size_t cap, const char *src,
		      unsigned sport, const char *dst, const struct flood_target *t)
{
	unsigned id = (unsigned)rnd();

	switch (k) {
	case K_SCANNER:
		return scanner(out, cap, src, sport, dst, id);
	case K_MALFORMED:
		return malformed(out, cap, src, sport, dst, id);
	case K_INVITE:
		return invite(out, cap, src, sport, dst, id);
	case K_BADAUTH:
		return badauth(out, cap, src, sport, t->aors[id % t->n_aors], id);
	case K_RFC4475: {
		const struct torture *m;

		torture_init();
		f->sub = (uint8_t)(id % n_sent_idx);
		m = &torture[sent_idx[f->sub]];
		memcpy(out, m->text, m->len < cap ? m->len : cap);
		return m->len < cap ? m->len : cap;
	}
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

/* UDP header and checksum (RFC 768) over @p l4 bytes at @p udp. */
static void udp_seal(struct iphdr *ip, struct udphdr *udp, unsigned sport, size_t l4)
{
	uint32_t sum = 0;

	udp->source = htons((uint16_t)sport);
	udp->dest = htons(SIP_PORT);
	udp->len = htons((uint16_t)l4);
	udp->check = 0;
	sum = csum_add(sum, &ip->saddr, 4);
	sum = csum_add(sum, &ip->daddr, 4);
	sum += IPPROTO_UDP + (uint32_t)l4;
	sum = csum_add(sum, udp, l4);
	udp->check = htons(csum_fold(sum));
	if (udp->check == 0)
		udp->check = 0xffff;
}

void build(struct frame *f, enum kind k, const struct flood_target *t)
{
	struct ether_header *eth = (struct ether_header *)f->b;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	uint32_t src = source(), src_be = htonl(src);
	unsigned sport = 1024 + (unsigned)(rnd() % 60000);
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	size_t l4;

	inet_ntop(AF_INET, &src_be, s, sizeof(s));
	inet_ntop(AF_INET, &t->dst_be, d, sizeof(d));
	memcpy(eth->ether_dhost, t->dmac, 6);
	memcpy(eth->ether_shost, t->smac, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->id = (uint16_t)rnd();
	ip->saddr = src_be;
	ip->daddr = t->dst_be;
	f->sub = 0;
	if (k == K_PING) {
		struct icmphdr *ic = (struct icmphdr *)(ip + 1);

		l4 = sizeof(*ic) + 32;
		memset(ic, 0, l4);
		ic->type = ICMP_ECHO;
		ic->un.echo.id = (uint16_t)rnd();
		ic->checksum = htons(csum_fold(csum_add(0, ic, l4)));
		ip->protocol = IPPROTO_ICMP;
	} else if (k == K_SYN) {
		/* A connection attempt as a client's stack makes it: SYN, a
		 * random ISN, the MSS option; checksum over the pseudo-header. */
		struct tcphdr *tcp = (struct tcphdr *)(ip + 1);
		uint8_t *opt = (uint8_t *)(tcp + 1);
		uint32_t sum = 0;

		l4 = sizeof(*tcp) + 4;
		memset(tcp, 0, l4);
		tcp->source = htons((uint16_t)sport);
		tcp->dest = htons(t->syn_ports[rnd() % t->n_syn_ports]);
		tcp->seq = htonl((uint32_t)rnd());
		tcp->doff = (uint16_t)(l4 / 4);
		tcp->syn = 1;
		tcp->window = htons(64240);
		opt[0] = 2; /* MSS 1460 */
		opt[1] = 4;
		opt[2] = 1460 >> 8;
		opt[3] = 1460 & 0xff;
		sum = csum_add(sum, &ip->saddr, 4);
		sum = csum_add(sum, &ip->daddr, 4);
		sum += IPPROTO_TCP + (uint32_t)l4;
		sum = csum_add(sum, tcp, l4);
		tcp->check = htons(csum_fold(sum));
		ip->protocol = IPPROTO_TCP;
	} else if (k == K_FRAG) {
		/*
		 * The whole datagram is built (its UDP checksum covers all of
		 * it), then only its first FRAG_DATA bytes go out, with More
		 * Fragments set: a train that never completes.
		 */
		static uint8_t dgram[sizeof(struct udphdr) + FRAG_SIP + 64];
		struct udphdr *udp = (struct udphdr *)dgram;
		size_t n = frag_sip((char *)(udp + 1), sizeof(dgram) - sizeof(*udp), s, sport, d,
				    (unsigned)rnd());

		l4 = sizeof(*udp) + n;
		udp_seal(ip, udp, sport, l4);
		memcpy(ip + 1, dgram, FRAG_DATA);
		l4 = FRAG_DATA;
		ip->frag_off = htons(IP_MF);
		ip->protocol = IPPROTO_UDP;
	} else {
		struct udphdr *udp = (struct udphdr *)(ip + 1);
		char *p = (char *)(udp + 1);
		size_t cap = FRAME_MAX - sizeof(*eth) - sizeof(*ip) - sizeof(*udp);
		size_t n = payload(f, k, p, cap, s, sport, d, t);

		l4 = sizeof(*udp) + n;
		udp_seal(ip, udp, sport, l4);
		ip->protocol = IPPROTO_UDP;
	}
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4));
	ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));
	f->len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + l4);
	f->kind = (uint8_t)k;
}
