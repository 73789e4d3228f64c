/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP traffic of bench_wake: asleep devices that REGISTER (from a new
 * port for each generation), a PBX that calls them with an INVITE and
 * answers the relayed REGISTERs (bench_sip.c), and what the control plane
 * sent back.
 */
#include <stdio.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include <rte_ring.h>

#include "bench/bench_sip.h"
#include "bench/bench_wake_cp.h"
#include "bench/bench_wake_sip.h"
#include "controlplane/cp_internal.h"
#include "tests/pushd/ts_harness.h"

#define PN_PARAM TS_TEAM "." TS_BUNDLE ".voip"

int wake_invite_len, wake_trying_len;

void wake_dev_addr(unsigned i, unsigned gen, char *ip, size_t cap, uint16_t *port)
{
	snprintf(ip, cap, "198.18.0.%u", 10 + i / DEV_PER_IP);
	*port = (uint16_t)(1024 + (i % DEV_PER_IP) * GENS + gen % GENS);
}

void wake_send_register(unsigned i, unsigned gen)
{
	static unsigned seq;
	char text[2048], ip[24];
	uint16_t port;
	int len;

	wake_dev_addr(i, gen, ip, sizeof(ip), &port);
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
	bench_feed(&wake.h, ip, port, text, len);
}

/* A call from the PBX to device @i at its address of generation @gen (the
 * contact the PBX holds, RFC 8599), through our Path, with an SDP offer. */
void wake_send_invite(unsigned i, unsigned gen, unsigned call)
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

	wake_dev_addr(i, gen, ip, sizeof(ip), &port);
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
	wake_invite_len = len;
	bench_feed(&wake.h, DPH_PBX_IP4, 5060, text, len);
}

void wake_drain_down(struct wake_sent *s)
{
	static char ans[2048];
	struct rte_mbuf *m;

	memset(s, 0, sizeof(*s));
	while (rte_ring_sc_dequeue(wake.h.ctx->workers[0].down, (void **)&m) == 0) {
		uint16_t len, dport;
		const char *p = bench_payload_of(m, &len, &dport);

		if (len > 9 && memcmp(p, "REGISTER ", 9) == 0)
			bench_feed(&wake.h, DPH_PBX_IP4, 5060, ans,
				   bench_pbx_answer(p, len, ans, sizeof(ans)));
		else if (len > 11 && memcmp(p, "SIP/2.0 200", 11) == 0)
			s->ok++;
		else if (len > 11 && memcmp(p, "SIP/2.0 100", 11) == 0) {
			s->trying++;
			wake_trying_len = len;
		} else if (len > 7 && memcmp(p, "INVITE ", 7) == 0) {
			if (s->invites < MAX_BURST)
				s->inv_port[s->invites] = dport;
			s->invites++;
		} else
			s->other++;
		rte_pktmbuf_free(m);
	}
}

unsigned wake_up_all(void)
{
	struct rte_mbuf *up[BATCH * 2];
	unsigned n = bench_take_up(&wake.h, up, RTE_DIM(up));

	for (unsigned i = 0; i < n; i++)
		cp_sip_in(wake.cp, up[i]);
	return n;
}

unsigned wake_register_all(unsigned first, unsigned n, unsigned gen)
{
	unsigned ok = 0;
	struct wake_sent s;

	for (unsigned b = 0; b < n; b += BATCH) {
		for (unsigned i = b; i < n && i < b + BATCH; i++)
			wake_send_register(first + i, gen);
		wake_up_all();
		wake_drain_down(&s); /* the PBX answers */
		wake_up_all();
		cp_reg_flush(wake.cp);
		wake_drain_down(&s);
		ok += s.ok;
		urcu_qsbr_quiescent_state();
	}
	return ok;
}
