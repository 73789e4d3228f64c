/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's state (cp_call.c), a call's end (cp_call_late.c), held
 * MESSAGEs (cp_msg_held.c) and the messages it writes (cp_call_msg.c).
 * Internal to controlplane/.
 */
#ifndef CP_CALL_H
#define CP_CALL_H

#include <stdlib.h>
#include <string.h>

#include "common/sw_hist.h"
#include "common/sw_txidx.h"
#include "controlplane/output/cp_msg.h"
#include "controlplane/calls/cp_call_journal.h"
#include "controlplane/calls/cp_trace.h"

#define CP_CALL_MAX_BRANCHES CP_CALL_MAX_DEVICES /* devices one call reaches (an AOR's) */
#define CP_CALL_BRANCH_KIND  'i'
#define CP_CALL_TAG_ACK	     0xe /* branch index of a late 2xx's ACK */
#define CP_CALL_TAG_BYE	     0xf /* ... and of its BYE */

/* One device of a call: a client transaction (§17.1.1) once it is sent. */
enum cp_br_state {
	CP_BR_IDLE = 0,
	CP_BR_WAITING,	  /* pushed; waiting for its REGISTER to be accepted */
	CP_BR_CALLING,	  /* INVITE sent, nothing heard (Timer A / B) */
	CP_BR_PROCEEDING, /* a provisional answer came (Timer C) */
	CP_BR_DONE,	  /* final answer, given up, or push failed */
};

/* Why a late branch (woken after its call ended) gets INVITE then CANCEL. */
enum cp_late_cause { CP_LATE_NONE = 0, CP_LATE_CANCELLED, CP_LATE_ELSEWHERE, CP_LATE_TIMED_OUT };

struct cp_call_branch {
	uint64_t device;
	uint8_t state;	    /* enum cp_br_state */
	uint8_t late;	    /* enum cp_late_cause: the call ended before it answered */
	bool pushed;	    /* a VoIP push went out for it */
	bool push_done;	    /* ... and its result came back */
	bool chained;	    /* in the by-device index (waiting for a REGISTER) */
	bool waking;	    /* ... and its device key in dp_link.waking (aor_key too, if not 0) */
	bool cancel_wanted; /* CANCEL as soon as a provisional answer comes */
	bool cancel_sent;
	bool heard;		/* the device answered something on this branch */
	bool src_ref;		/* holds a reference on dst:dport in the source table */
	bool push_failed;	/* its push was refused, dead or timed out */
	uint8_t why;		/* enum cp_late_cause of a CANCEL it is owed */
	uint16_t status;	/* its final answer (or ours for it: 408, 480) */
	uint32_t dev_next;	/* by-device chain: call slot << 3 | branch; UINT32_MAX ends */
	uint64_t aor_key;	/* sw_wake_key_aor() of its AOR in dp_link.waking; 0: none */
	uint64_t push_tsc;	/* push submitted */
	uint64_t timer_tsc;	/* next retransmission (CALLING) */
	uint64_t interval;	/* Timer A's current interval */
	uint64_t deadline;	/* Timer B (CALLING) / Timer C (PROCEEDING) */
	uint64_t wake_deadline; /* the device's own pn-timeout after the INVITE; 0: the call's */
	uint64_t late_until;	/* late: waited for until then (wake.late_window_s) */
	struct sw_ip dst;	/* where its INVITE went */
	uint16_t dport;
	uint8_t tp;    /* enum sw_tp of the device's flow */
	uint64_t conn; /* over a stream: the connection its INVITE went down */
	uint16_t inv_len;
	char *inv; /* the INVITE as sent: retransmissions, CANCEL, ACK */
};

enum cp_call_outcome {
	CP_OUT_NONE = 0,
	CP_OUT_ANSWERED,
	CP_OUT_TIMED_OUT,
	CP_OUT_REJECTED,
	CP_OUT_CANCELLED,
	CP_OUT_FAILED,
	CP_OUT_RING_FULL,
	CP_OUT_SHUTDOWN,
	CP_OUT_NO_DEVICE,
	CP_OUT_INTERRUPTED, /* held before a crash, answered from the journal */
};

/* One held INVITE: the server transaction toward the PBX (§17.2.1) and the
 * fork behind it (§16). */
struct cp_held_call {
	uint64_t id;	     /* 0: free; else generation << 24 | slot */
	struct sw_txkey pbx; /* the PBX's address, port and Via branch */
	uint64_t key;	     /* sw_callset_key() of the Call-ID */
	uint8_t n_br;
	uint8_t outcome;	    /* enum cp_call_outcome; set with the final answer */
	bool is_msg;		    /* a held MESSAGE (cp_msg_held.c), not an INVITE */
	bool acked;		    /* the PBX's ACK for our non-2xx final came */
	bool from_peer;		    /* relayed by another edge: never sent back to one */
	uint16_t final;		    /* final status sent upstream; 0: none yet */
	uint16_t best;		    /* best final answer from a branch (§16.7 step 6) */
	uint32_t tag;		    /* our To-tag */
	uint64_t in_tsc;	    /* INVITE received */
	uint64_t wake_deadline;	    /* wake.timeout_s after it */
	uint64_t g_tsc, g_interval; /* Timer G: our non-2xx final again */
	uint64_t linger;	    /* after the final: absorb, then free (Timer H / J) */
	uint16_t inv_len, last_len, best_len, jkey_len;
	char *jkey; /* its key in the journal of held calls; NULL: not journaled */
	char *inv;  /* the PBX's INVITE */
	char *last; /* the last answer sent upstream (retransmissions absorbed with it) */
	char *best_resp;
	struct cp_call_branch br[CP_CALL_MAX_BRANCHES];
};

/* The wake path's tables (cp_call.c); one per control plane. */
struct cp_call {
	uint32_t max;	     /* slots: calls held plus calls ended and lingering */
	uint32_t max_held;   /* wake.max_held: calls without a final answer at once */
	uint32_t n_open;     /* calls without a final answer now (exact) */
	uint32_t max_msgs;   /* wake.max_messages: MESSAGEs without a final answer at once */
	uint32_t n_msgs;     /* MESSAGEs without a final answer now (exact) */
	struct sw_txidx idx; /* calls by the PBX's transaction (slots: c[]) */
	uint32_t dev_mask;
	uint32_t *dev_buckets; /* waiting branches by device id */
	/* The workers' view of the waiting branches (dp_link.waking, may be
	 * NULL): their REGISTERs from new addresses are expected. */
	struct sw_callset *waking;
	const struct sw_bind_table *bind;
	struct cp_held_call *c;
	uint32_t gen;
	uint64_t oldest_tsc; /* INVITE time of the oldest held call (telemetry) */
	uint32_t n_held;     /* calls without a final answer yet (telemetry) */
	struct cp_msg scratch;
	struct sip_msg sm, sm2; /* scans of stored bytes */
	struct sw_hist push_to_reg, invite_to_branch;
};

#define CP_CALL_NO_SLOT		 UINT32_MAX
#define CP_CALL_SLOT_BITS	 24
#define CP_CALL_T1_MS		 500	/* §17.1.1.1 */
#define CP_CALL_T2_MS		 4000	/* §17.1.2.2 */
#define CP_CALL_TIMER_B_MS	 32000	/* 64 * T1: an INVITE nobody answers */
#define CP_CALL_TIMER_F_MS	 32000	/* 64 * T1: a non-INVITE nobody answers (§17.1.2.2) */
#define CP_CALL_TIMER_C_MS	 180000 /* §16.6 step 11: a branch that rings forever */
#define CP_CALL_LINGER_MS	 32000	/* Timer H / J: absorb ACKs and retransmissions */
#define CP_CALL_T4_MS		 5000	/* Timer I: ACK retransmissions after the first */
#define CP_CALL_REASON_CANCEL	 "SIP;cause=487;text=\"Call cancelled before the app woke\""
#define CP_CALL_REASON_ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""
#define CP_CALL_REASON_TIMED_OUT "SIP;cause=480;text=\"Call not answered before the app woke\""

/* ---- cp_call.c: tables, sending, the end of a call, timers ---- */
uint64_t cp_call_ms_tsc(const struct cp_ctx *cp, uint64_t ms);
uint64_t cp_call_tsc_us(const struct cp_ctx *cp, uint64_t tsc);
/** The call whose PBX transaction is (@p ip, @p port, @p branch), or NULL. */
struct cp_held_call *cp_call_by_tx(struct cp_call *k, const struct sw_ip *ip, uint16_t port,
				   const char *branch, size_t len);
/** The call with id @p id (our branches and push ids carry it), or NULL. */
struct cp_held_call *cp_call_by_id(struct cp_call *k, uint64_t id);
/** Head of the by-device chain of waiting branches @p dev hashes to. */
uint32_t *cp_call_dev_head(struct cp_call *k, uint64_t dev);
void cp_call_chain(struct cp_call *k, struct cp_held_call *c, unsigned b);
void cp_call_unchain(struct cp_call *k, struct cp_held_call *c, unsigned b);
/** A new call for the handed-up INVITE (its bytes copied, its Call-ID held),
 *  or NULL (wake.max_held reached). */
struct cp_held_call *cp_call_new(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
void cp_call_release(struct cp_ctx *cp, struct cp_held_call *c);
/** Copy @p n bytes into *@p dst (replacing it); out of memory: left as it was. */
static inline void cp_call_keep(char **dst, uint16_t *len, const void *src, uint16_t n)
{
	char *b = malloc(n);

	if (b == NULL)
		return; /* the answer went out; only a retransmission is lost */
	memcpy(b, src, n);
	free(*dst);
	*dst = b;
	*len = n;
}
/** Scan the call's INVITE into k->sm. @return 0 or -EINVAL. */
int cp_call_scan_inv(struct cp_call *k, const struct cp_held_call *c);
/** An answer upstream: sent and kept; a final one starts Timer G / the linger. */
void cp_call_upstream(struct cp_ctx *cp, struct cp_held_call *c, const char *b, uint16_t len,
		      unsigned status, uint64_t now);
/** An answer of our own (100, 180, 480, 487, 503) to the held INVITE. */
void cp_call_answer(struct cp_ctx *cp, struct cp_held_call *c, unsigned status, uint64_t now);
/** Record (and count) how the call ended; the first one sticks. */
void cp_call_set_outcome(struct cp_ctx *cp, struct cp_held_call *c, enum cp_call_outcome o);
int cp_call_send(struct cp_ctx *cp, struct cp_call_branch *br, const struct cp_msg *o);
/** CANCEL a branch (§9.1: once it answered provisionally; until then owed). */
void cp_call_cancel_branch(struct cp_ctx *cp, struct cp_call_branch *br, const char *reason);
/** The INVITE to branch @p b's device at its current contact; @p woken: it
 *  has just registered again (cp_call_registered()). @return 0 or -errno. */
int cp_call_send_branch(struct cp_ctx *cp, struct cp_held_call *c, unsigned b, bool woken,
			uint64_t now);
/** Still to be waited for (not late, not done)? */
bool cp_call_branch_open(const struct cp_call_branch *br);
/** §16.7 step 6: lower is better. */
int cp_call_rank(unsigned status);
/** Keep the device's non-2xx @p msg (scanned: @p sm) as @p c's best answer
 *  if it ranks better (§16.7 step 6; a 503 kept as 500), our Via gone. */
void cp_call_keep_best(struct cp_call *k, struct cp_held_call *c, const uint8_t *msg,
		       const struct sip_msg *sm);
/** The trace line of a request from the PBX taken on the wake path:
 *  "<method> from <ip:port> for <user@host>: <n> device(s), <then>". */
void cp_call_trace_in(struct cp_ctx *cp, const struct cp_held_call *c, const struct dp_meta *meta,
		      const uint8_t *msg, unsigned n, const char *then);
/** No branch left to wait for: the best answer, or ours, goes up. */
void cp_call_maybe_complete(struct cp_ctx *cp, struct cp_held_call *c, uint64_t now);
/** The Reason line (RFC 3326) of the CANCEL a late branch gets for @p why. */
const char *cp_call_late_reason(unsigned why);
/** Branch @p b of @p c is no longer waited for, because of @p why: with
 *  wake.late_window_s, it stays chained as a late branch (INVITE, then
 *  CANCEL, if the device registers within the window); else it is done. */
void cp_call_make_late(struct cp_ctx *cp, struct cp_held_call *c, unsigned b,
		       enum cp_late_cause why, uint64_t now);
/** The call ended upstream: the other branches stop (CANCEL / late). */
void cp_call_end_branches(struct cp_ctx *cp, struct cp_held_call *c, int keep_b,
			  enum cp_late_cause why);

/* ---- cp_call_msg.c: the messages, built from scanned bytes ---- */

/** Our Via branch for @p call_id / @p br into @p out (NUL-terminated). */
void cp_call_branch_id(char *out, size_t cap, uint64_t call_id, unsigned br);

/**
 * The INVITE for one branch (§16.6): Request-URI @p target, our Via with
 * @p branch on top of the PBX's, Record-Route naming device @p dev (none when
 * @p dev is 0: sent through another edge, which Record-Routes) after
 * the run of Vias (sip_via_run()), Max-Forwards - 1, our Route popped;
 * everything else as the PBX sent it. @p our: our address toward the device;
 * @p back: ours toward the PBX (NULL: the same); @p tp: the device's
 * transport (our Via's). Two Record-Routes (RFC 5658 §3.1) on a stream, or
 * when @p back is of the other family than @p our.
 */
int cp_call_build_invite(const struct cp_ctx *cp, const uint8_t *inv, const struct sip_msg *sm,
			 const char *target, const struct sw_ip *our, const struct sw_ip *back,
			 const char *branch, uint64_t dev, uint8_t tp, struct cp_msg *o);

/* ---- cp_msg_held.c: MESSAGE (RFC 3428) for asleep devices ---- */

struct pd_request;
/** The sender (From's user part and display name) and Call-ID of @p msg
 *  into @p rq, for the push (cp_call_msg.c). */
void cp_call_caller_of(const uint8_t *msg, const struct sip_msg *sm, struct pd_request *rq);

/** A MESSAGE from the PBX for asleep devices (or a fork): held, pushed,
 *  relayed as each device wakes; or answered at once (caps, no device). */
void cp_msg_held_in(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** A device's answer on branch @p b of held MESSAGE @p c. */
void cp_msg_held_response(struct cp_ctx *cp, struct cp_held_call *c, unsigned b,
			  const struct dp_meta *meta, const uint8_t *msg);
/** No branch left to wait for: the first 2xx went up already, else the
 *  best error, else 480. */
void cp_msg_held_complete(struct cp_ctx *cp, struct cp_held_call *c, uint64_t now);
/** The alert push for device @p dev failed: the MESSAGEs that waited for
 *  the same wake (no push of their own) are given up too. */
void cp_msg_held_push_failed(struct cp_ctx *cp, uint64_t dev);
/** Held call or MESSAGE: cp_msg_held_complete() or cp_call_maybe_complete(). */
void cp_held_complete(struct cp_ctx *cp, struct cp_held_call *c, uint64_t now);
/** Branch @p b's timers: the message window, Timer E, Timer F. */
void cp_msg_held_timers(struct cp_ctx *cp, struct cp_held_call *c, unsigned b, uint64_t now);

/** CANCEL of our INVITE @p inv (§9.1), with a Reason line (or NULL). */
int cp_call_build_cancel(const uint8_t *inv, const struct sip_msg *sm, const char *reason,
			 struct cp_msg *o);

/** ACK for a non-2xx final answer @p resp to our INVITE @p inv (§17.1.1.3). */
int cp_call_build_ack(const uint8_t *inv, const struct sip_msg *sm, const uint8_t *resp,
		      const struct sip_msg *rsm, struct cp_msg *o);

/**
 * A request inside the dialog a 2xx @p resp to our INVITE @p inv made: ACK
 * (CSeq as the INVITE) or BYE (CSeq + 1), to the 2xx's Contact, with our Via
 * @p our / @p branch. A call that ended before the device answered is never
 * answered: sipwake acknowledges and hangs up itself.
 */
int cp_call_build_in_dialog(const uint8_t *inv, const struct sip_msg *sm, const uint8_t *resp,
			    const struct sip_msg *rsm, bool bye, const struct sw_ip *our,
			    uint16_t port, uint8_t tp, const char *branch, struct cp_msg *o);

#endif /* CP_CALL_H */
