/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's state (cp_call.c) and the messages it writes
 * (cp_call_msg.c). Internal to controlplane/.
 */
#ifndef CP_CALL_H
#define CP_CALL_H

#include "common/sw_hist.h"
#include "controlplane/cp_msg.h"

#define CALL_MAX_BRANCHES 8 /* devices one call reaches (an AOR's) */
#define CALL_BRANCH_KIND  'i'
#define CALL_TAG_ACK	  0xe /* branch index of a late 2xx's ACK */
#define CALL_TAG_BYE	  0xf /* ... and of its BYE */

/* One device of a call: a client transaction (§17.1.1) once it is sent. */
enum br_state {
	BR_IDLE = 0,
	BR_WAITING,    /* pushed; waiting for its REGISTER to be accepted */
	BR_CALLING,    /* INVITE sent, nothing heard (Timer A / B) */
	BR_PROCEEDING, /* a provisional answer came (Timer C) */
	BR_DONE,       /* final answer, given up, or push failed */
};

/* Why a late branch (woken after its call ended) gets INVITE then CANCEL. */
enum late_cause { LATE_NONE = 0, LATE_CANCELLED, LATE_ELSEWHERE };

struct call_branch {
	uint64_t device;
	uint8_t state;	    /* enum br_state */
	uint8_t late;	    /* enum late_cause: the call ended before it answered */
	bool pushed;	    /* a VoIP push went out for it */
	bool push_done;	    /* ... and its result came back */
	bool chained;	    /* in the by-device index (waiting for a REGISTER) */
	bool cancel_wanted; /* CANCEL as soon as a provisional answer comes */
	bool cancel_sent;
	bool heard;	    /* the device answered something on this branch */
	bool push_failed;   /* its push was refused, dead or timed out */
	uint8_t why;	    /* enum late_cause of a CANCEL it is owed */
	uint16_t status;    /* its final answer (or ours for it: 408, 480) */
	uint32_t dev_next;  /* by-device chain: call slot << 3 | branch; UINT32_MAX ends */
	uint64_t push_tsc;  /* push submitted */
	uint64_t timer_tsc; /* next retransmission (CALLING) */
	uint64_t interval;  /* Timer A's current interval */
	uint64_t deadline;  /* Timer B (CALLING) / Timer C (PROCEEDING) */
	struct sw_ip dst;   /* where its INVITE went */
	uint16_t dport;
	uint16_t inv_len;
	char *inv; /* the INVITE as sent: retransmissions, CANCEL, ACK */
};

enum call_outcome {
	OUT_NONE = 0,
	OUT_ANSWERED,
	OUT_TIMED_OUT,
	OUT_REJECTED,
	OUT_CANCELLED,
	OUT_FAILED,
	OUT_RING_FULL,
	OUT_SHUTDOWN,
};

/* One held INVITE: the server transaction toward the PBX (§17.2.1) and the
 * fork behind it (§16). */
struct call {
	uint64_t id;   /* 0: free; else generation << 24 | slot */
	uint32_t next; /* by-transaction chain (PBX source, branch) */
	uint32_t hash;
	uint64_t key; /* sw_callset_key() of the Call-ID */
	struct sw_ip pbx_ip;
	uint16_t pbx_port;
	uint8_t pbx_branch_len;
	uint8_t n_br;
	uint8_t outcome;	    /* enum call_outcome; set with the final answer */
	bool acked;		    /* the PBX's ACK for our non-2xx final came */
	uint16_t final;		    /* final status sent upstream; 0: none yet */
	uint16_t best;		    /* best final answer from a branch (§16.7 step 6) */
	uint32_t tag;		    /* our To-tag */
	uint64_t in_tsc;	    /* INVITE received */
	uint64_t wake_deadline;	    /* wake.timeout_s after it */
	uint64_t g_tsc, g_interval; /* Timer G: our non-2xx final again */
	uint64_t linger;	    /* after the final: absorb, then free (Timer H / J) */
	char pbx_branch[64];
	uint16_t inv_len, last_len, best_len;
	char *inv;  /* the PBX's INVITE */
	char *last; /* the last answer sent upstream (retransmissions absorbed with it) */
	char *best_resp;
	struct call_branch br[CALL_MAX_BRANCHES];
};

/* ---- cp_call_msg.c: the messages, built from scanned bytes ---- */

/** Our Via branch for @p call_id / @p br into @p out (NUL-terminated). */
void call_branch_id(char *out, size_t cap, uint64_t call_id, unsigned br);

/**
 * The INVITE for one branch (§16.6): Request-URI @p target, our Via with
 * @p branch on top, Record-Route naming device @p dev, Max-Forwards - 1, our
 * Route popped; everything else as the PBX sent it. @p our: our address
 * toward the device.
 */
int call_build_invite(const struct cp_ctx *cp, const uint8_t *inv, const struct dp_sip_msg *sm,
		      const char *target, const struct sw_ip *our, const char *branch, uint64_t dev,
		      struct cp_msg *o);

/** CANCEL of our INVITE @p inv (§9.1), with a Reason line (or NULL). */
int call_build_cancel(const uint8_t *inv, const struct dp_sip_msg *sm, const char *reason,
		      struct cp_msg *o);

/** ACK for a non-2xx final answer @p resp to our INVITE @p inv (§17.1.1.3). */
int call_build_ack(const uint8_t *inv, const struct dp_sip_msg *sm, const uint8_t *resp,
		   const struct dp_sip_msg *rsm, struct cp_msg *o);

/**
 * A request inside the dialog a 2xx @p resp to our INVITE @p inv made: ACK
 * (CSeq as the INVITE) or BYE (CSeq + 1), to the 2xx's Contact, with our Via
 * @p our / @p branch. A call that ended before the device answered is never
 * answered: sipwake acknowledges and hangs up itself.
 */
int call_build_in_dialog(const uint8_t *inv, const struct dp_sip_msg *sm, const uint8_t *resp,
			 const struct dp_sip_msg *rsm, bool bye, const struct sw_ip *our,
			 uint16_t port, const char *branch, struct cp_msg *o);

/** @p uri without its push parameters (RFC 8599 §4.1.2: never past the edge). */
int call_uri_without_pn(const char *uri, size_t len, char *out, size_t cap);

#endif /* CP_CALL_H */
