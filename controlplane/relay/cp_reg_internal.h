/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REGISTER relay's state, shared by its files (internal to relay/):
 * cp_reg_tx.c (the pending transactions, lowest), cp_reg.c (the app's
 * REGISTER relayed), cp_reg_answer.c (the PBX's answers and the 2xx held
 * for the store's commit), cp_reg_health.c (health checks and failover).
 */
#ifndef CP_REG_INTERNAL_H
#define CP_REG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sw_txidx.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/cp_internal.h"
#include "controlplane/output/cp_msg.h"

#define CP_REG_BRANCH_KIND 'r'
/* RFC 3261 §17.2.2 Timer J over UDP (64 * T1): how long an answered
 * REGISTER's final answer is kept, to answer its retransmissions again. */
#define CP_REG_TIMER_J_MS 32000

/* One relayed REGISTER waiting for the PBX's final answer, or (done)
 * answered, kept for Timer J. */
struct cp_reg_tx {
	uint64_t id;	     /* 0: free slot; else slot | generation << 32 */
	struct sw_txkey app; /* the app's address, port and Via branch */
	uint8_t tp;	     /* the app's transport (enum sw_tp) */
	uint64_t conn;	     /* ... and its connection, over a stream */
	uint64_t deadline_tsc;
	uint8_t server, tries;
	bool had_auth;
	bool unknown_src;	 /* from neither the PBX nor a bound device (DP_SRC_UNKNOWN) */
	uint64_t waited;	 /* device a held call waits for: its trace notes this REGISTER */
	struct cp_bind_req bind; /* the binding the REGISTER asks for (cp_bind.h) */
	uint16_t req_len;
	char *req; /* the relayed bytes, for retransmissions and failover */
	/* Completed (§17.2.2): its final answer went to the app (ready) or
	 * waits for the store (a 2xx: not ready, retransmissions absorbed);
	 * kept until deadline_tsc (Timer J), req freed. */
	bool done, ready;
	uint16_t resp_len;
	char *resp;
};

/* A 2xx waiting for the store's commit. */
struct cp_reg_out {
	struct cp_dest to;
	uint16_t len;
	char *b;
	uint64_t device; /* bound or refreshed by it (calls waiting for it go on) */
	uint64_t tx;	 /* its transaction, completed (cp_reg_tx_ready()) */
	uint64_t ticket; /* its batch (cp_store_submit()), or one of OUT_*: */
};
#define OUT_OPEN    0		     /* its batch not ended yet */
#define OUT_DURABLE UINT64_MAX	     /* durable: goes when every 2xx before it has */
#define OUT_LOST    (UINT64_MAX - 1) /* its batch was lost: the app hears 500 */

struct cp_reg {
	struct sw_txidx idx; /* pending transactions by the app's (address, port, branch) */
	struct cp_reg_tx *tx;
	/* The ids of completed transactions, oldest first: the first to give
	 * up their slot when a new REGISTER finds none free. */
	uint64_t *done_q;
	uint32_t done_head, done_n;
	uint32_t gen;
	uint32_t n_out, max_out;
	struct cp_reg_out *out;
	struct cp_msg scratch;
	struct sip_msg sm; /* scratch scan of a relayed request */
	uint64_t next_check_tsc;
	uint32_t check_seq;
	uint64_t check_sent_tsc;	  /* the last round of health checks; 0: judged */
	uint8_t answered[DP_MAX_SERVERS]; /* answered that round's check */
	char fcaps[224];		  /* "*;+sip.pns=\"apns\"" per the push services configured,
			  * ";+sip.vapid=\"<key>\"" with Web Push */
	uint64_t warn_s;		  /* the second of the last unbound 2xx's WARNING */
	uint32_t warn_n;		  /* WARNINGs in that second */
};

/* ---- cp_reg_tx.c ---- */
/** The pending REGISTER the app's (address, port, branch) names, or NULL. */
struct cp_reg_tx *cp_reg_tx_find(struct cp_reg *r, const struct sw_ip *ip, uint16_t port,
				 const char *branch, size_t len);
/** The pending REGISTER whose id our Via branch carries, or NULL. */
struct cp_reg_tx *cp_reg_tx_by_id(struct cp_reg *r, uint64_t id);
/** A new pending REGISTER, or NULL (bindings.max_pending reached, or a
 *  branch too long to keep). */
struct cp_reg_tx *cp_reg_tx_new(struct cp_reg *r, const struct sw_ip *ip, uint16_t port,
				const char *branch, size_t len);
void cp_reg_tx_free(struct cp_reg *r, struct cp_reg_tx *t);
/**
 * @p t has its final answer, @p b (@p len bytes; the app has it when
 * @p ready, else it waits for the store: cp_reg_tx_ready()). Over UDP the
 * transaction stays, completed, for Timer J: a retransmission of the
 * REGISTER gets @p b again and never reaches the PBX (RFC 3261 §17.2.2).
 * Over a stream (no retransmissions), or without memory for the copy, it
 * is freed.
 */
void cp_reg_tx_done(struct cp_ctx *cp, struct cp_reg_tx *t, const char *b, uint16_t len,
		    bool ready);
/** Free the completed transactions whose Timer J has run out by @p now. */
void cp_reg_tx_expire(struct cp_reg *r, uint64_t now);
/** The answer of completed @p id went to the app: its retransmissions get
 *  it from now on (@p sent), or it never will (its batch was lost: freed,
 *  a retransmission goes to the PBX anew). */
void cp_reg_tx_ready(struct cp_reg *r, uint64_t id, bool sent);
/** Send the relayed REGISTER to its server; starts its timer (Timer F,
 *  pbx.timeout_ms: the first send and each failover). */
int cp_reg_tx_send(struct cp_ctx *cp, struct cp_reg_tx *t);
/** Send it again (the app's retransmission) without touching its timer. */
int cp_reg_tx_resend(struct cp_ctx *cp, const struct cp_reg_tx *t);
/** Send it to the next server of pbx.servers, which takes later REGISTERs too. */
void cp_reg_tx_fail_over(struct cp_ctx *cp, struct cp_reg_tx *t);
/** Where the app of @p t hears its answers: its address, or its connection. */
static inline struct cp_dest cp_reg_tx_app(const struct cp_reg_tx *t)
{
	return (struct cp_dest){t->app.ip, t->app.port, t->tp, t->conn, false};
}

/** An answer of our own to the app (408, 500, 503), from the relayed request. */
void cp_reg_tx_answer(struct cp_ctx *cp, const struct cp_reg_tx *t, unsigned status);

/* ---- cp_reg_health.c ---- */
/** Server @p i answered (a health check or a REGISTER): up. */
void cp_reg_server_heard(struct cp_ctx *cp, unsigned i);

#endif /* CP_REG_INTERNAL_H */
