/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sw_flood's kinds of junk and how one frame of each is built
 * (tests/flood/sw_flood_kinds.c); the sender itself is sw_flood.c.
 */
#ifndef SW_FLOOD_H
#define SW_FLOOD_H

#include <stdint.h>

/*
 * Room for the largest frame of any kind: an RFC 4475 message, or a first
 * fragment (Ethernet, IPv4 and FRAG_DATA bytes of the datagram).
 */
#define FRAME_MAX 1100
#define SIP_PORT  5060

enum kind {
	K_SCANNER,
	K_JUNK,
	K_MALFORMED,
	K_INVITE,
	K_PING,
	K_RFC4475,
	K_FRAG,
	K_BADAUTH,
	K_SYN, /* TCP SYNs to the --syn-port ports (streams.ports) */
	/* Half-open TLS needs real connections, not frames: the stream flood
	 * test makes them itself (tests/integration/test_flood_streams.py). */
	N_KINDS
};

extern const char *const kind_names[N_KINDS];

struct frame {
	uint16_t len;
	uint8_t kind;
	uint8_t sub; /* K_RFC4475: which message (rfc4475_name()) */
	uint8_t b[FRAME_MAX];
};

/* Where the frames go and whom the badauth REGISTERs name. */
struct flood_target {
	uint8_t dmac[6], smac[6];
	uint32_t dst_be;
	const char *const *aors; /* user@domain, n_aors of them */
	unsigned n_aors;
	uint16_t syn_ports[4]; /* the syn kind's destination ports */
	unsigned n_syn_ports;
};

/* xorshift64*: fast, and the junk needs no better. */
uint64_t rnd(void);
void rnd_seed(uint64_t seed);

/* One spoofed source (host order), from sw_flood.c's --src nets. */
uint32_t source(void);

/* Build @p f, one frame of @p k from a fresh spoofed source to @p t. */
void build(struct frame *f, enum kind k, const struct flood_target *t);

/* How many RFC 4475 messages the rfc4475 kind sends, and the name of one. */
unsigned rfc4475_count(void);
const char *rfc4475_name(unsigned i);

#endif /* SW_FLOOD_H */
