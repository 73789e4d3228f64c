/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_wake's devices and PBX (bench_wake_sip.c): their messages handed
 * to the control plane through the worker pipeline, and what it sent back.
 */
#ifndef BENCH_WAKE_SIP_H
#define BENCH_WAKE_SIP_H

#include <stddef.h>
#include <stdint.h>

#define MAX_BURST  64 /* INVITEs or 200s handed up in one timed loop round */
#define DEV_PER_IP 4000
#define GENS	   16 /* addresses (ports) per device, one per generation */
#define BATCH	   32 /* REGISTERs / INVITEs per round when untimed */

extern int wake_invite_len, wake_trying_len; /* as last sent (for (c)'s figures) */

/* What the control plane sent, as wake_drain_down() counts it. */
struct wake_sent {
	unsigned ok, invites, trying, other;
	uint16_t inv_port[MAX_BURST];
};

/* Device @i's address of generation @gen. */
void wake_dev_addr(unsigned i, unsigned gen, char *ip, size_t cap, uint16_t *port);
/* Device @i's REGISTER from its address of generation @gen. */
void wake_send_register(unsigned i, unsigned gen);
/* A call from the PBX to device @i at its address of generation @gen. */
void wake_send_invite(unsigned i, unsigned gen, unsigned call);
/* What the control plane sent, into @s; relayed REGISTERs are answered 200
 * by the PBX (fed to the worker, not handed up yet). */
void wake_drain_down(struct wake_sent *s);
/* Everything handed up goes to the control plane. @return how many. */
unsigned wake_up_all(void);
/* Devices [first, first + n) register from generation @gen (untimed).
 * @return the 200s relayed to them. */
unsigned wake_register_all(unsigned first, unsigned n, unsigned gen);

#endif /* BENCH_WAKE_SIP_H */
