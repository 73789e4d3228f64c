/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What fuzz_cp_register.c (the steps of an input) and
 * fuzz_cp_register_env.c (the control plane on the worker harness: set
 * up, feed, what it sent, the checks, the reset) share.
 */
#ifndef FUZZ_CP_REGISTER_H
#define FUZZ_CP_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "controlplane/cp_internal.h"
#include "tests/dp/dp_harness.h"

#define N_APPS	    4
#define MAX_STEPS   16
#define MAX_REC	    1200 /* bytes of one record */
#define MAX_DEVICES 4	 /* bindings.max_devices: small, so that it fills */
#define MAX_PENDING 4	 /* bindings.max_pending */
#define MAX_RELAYS  (2 * MAX_STEPS)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_cp_register: invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct app {
	char ip[16];
	struct sw_ip sip;
	uint16_t port;
};

/* A datagram fed to the worker (an app's REGISTER, mostly; but whatever
 * is a REGISTER is relayed, whoever sent it). */
struct reg_sent {
	const uint8_t *p; /* a copy, valid for the input */
	size_t n;
	struct sw_ip src;
	uint16_t port;
	bool accepted; /* the PBX answered its relayed request 2xx */
};

/* A REGISTER the control plane relayed to the PBX. */
struct reg_relay {
	char *p;
	size_t n;
	int reg;       /* the app's REGISTER it relays (F.regs), -1 unknown */
	bool answered; /* a final answer was fed for it */
	char via[256]; /* its top Via line: the same one again is a retransmission */
};

/* The bindings as one step left them. */
struct snap {
	unsigned n;
	uint64_t id[MAX_DEVICES + 1];
	uint64_t sum[MAX_DEVICES + 1]; /* a hash over what the device holds */
};

struct reg_fuzz {
	struct dph h;
	struct cp_ctx *cp;
	struct app apps[N_APPS];
	struct reg_sent regs[MAX_STEPS];
	unsigned n_regs;
	size_t arena_used; /* rf_feed()'s copies */
	int cur_reg;	   /* the datagram the step fed, -1 none */
	int last_app;	   /* the last datagram an app sent (kind 3 sends it again), -1 none */
	struct reg_relay relays[MAX_RELAYS];
	unsigned n_relays;
	unsigned pbx_2xx, app_2xx; /* 2xx the PBX gave, 2xx the apps got */
	uint64_t repeated0;	   /* reg_answer_repeated when the input began */
	bool stepped_2xx;	   /* this step gave the PBX's 2xx */
	struct snap before;
	/* Over all inputs, printed at exit: the checks were not vacuous. */
	uint64_t inputs, relayed, bound, app_2xx_all;
};

extern struct reg_fuzz F;

void rf_setup(void);
/* A datagram from @p ip:@p port through the worker, then to the control
 * plane; kept in F.regs (the relays it causes point to it). */
void rf_feed(const char *ip, uint16_t port, const uint8_t *p, size_t n);
/* A datagram from the PBX as it is (counts a 2xx it may carry). */
void rf_pbx_raw(const uint8_t *p, size_t n);
/* The PBX's answer to @p rl built around the record (fuzz_cp_register.c);
 * @return its status as the scanner reads it, 0 if it does not scan. */
int rf_pbx_answer(const struct reg_relay *rl, int with_tag, const uint8_t *p, size_t n);
/* The loop's round: flush, then read what was sent. */
void rf_round(void);
void rf_snapshot(struct snap *s);
void rf_check(void);
void rf_reset(void);

#endif /* FUZZ_CP_REGISTER_H */
