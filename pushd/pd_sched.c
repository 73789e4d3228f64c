/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A push job's run on the pushd thread: started with its deadline timer and
 * apns-id, dispatched to a free stream or queued on its credential, retried
 * with backoff (Retry-After honoured) while the deadline allows, finished
 * with its counters and its result on the result ring (docs/pushd.md, "How
 * it sends"). What an answer means is pd_answer.c's; the rings and the loop
 * are pd_core.c's.
 */
#include <errno.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <rte_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sw_log.h"
#include "common/sw_webpush.h"
#include "pushd/pd_internal.h"

/* Random bytes for apns-id come from OpenSSL's DRBG 4 KiB at a time:
 * RAND_bytes() per push showed up in profiles (fork checks, locking). */
static void uuid4(char out[40])
{
	static __thread unsigned char pool[4096];
	static __thread size_t left;
	static const char hex[] = "0123456789abcdef";
	unsigned char *b;
	char *o = out;

	if (left < 16) {
		if (RAND_bytes(pool, sizeof(pool)) != 1) {
			/* DRBG failure: unique, if predictable, ids (time + counter) */
			static __thread uint64_t ctr;

			for (size_t i = 0; i + 16 <= sizeof(pool); i += 16) {
				uint64_t t = sw_mono_us(), c = ++ctr;

				memcpy(pool + i, &t, 8);
				memcpy(pool + i + 8, &c, 8);
			}
		}
		left = sizeof(pool);
	}
	b = pool + sizeof(pool) - left;
	left -= 16;
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
}

/* Detach @j from wherever it is: a stream (reset) or a waiting queue. */
static void unlink_job(struct pd_job *j)
{
	if (j->conn)
		pd_conn_cancel(j);
	else if (j->on_list && j->op == PD_OP_PUSH) {
		TAILQ_REMOVE(&j->cred->waiting, j, link);
		j->on_list = false;
	}
}

void pd_job_finish(struct pd_job *j, enum pd_status st, const char *reason, int64_t ts_ms)
{
	struct pd *pd = j->pd;
	enum pd_provider p = j->req.provider;
	struct pd_result *r = calloc(1, sizeof(*r));
	uint64_t lat = sw_mono_us() - j->start_us;

	unlink_job(j);
	switch (st) {
	case PD_DELIVERED:
		PD_STAT_ADD(pd, p, delivered, 1);
		break;
	case PD_DEAD_TOKEN:
		PD_STAT_ADD(pd, p, dead_token, 1);
		break;
	case PD_REJECTED:
		PD_STAT_ADD(pd, p, rejected, 1);
		break;
	case PD_REFUSED:
		PD_STAT_ADD(pd, p, refused, 1);
		break;
	case PD_CONFIG_ERROR:
		PD_STAT_ADD(pd, p, config_error, 1);
		PD_LOG(ERR, "%s: configuration error: %s (HTTP %d)",
		       j->cred ? j->cred->name : "push", reason, j->status);
		pthread_mutex_lock(&pd->alarm_lock);
		snprintf(pd->st[p].alarm, sizeof(pd->st[p].alarm), "%s: %s (HTTP %d)",
			 j->cred ? j->cred->name : "push", reason ? reason : "", j->status);
		pd->st[p].alarm_ms = (int64_t)time(NULL) * 1000;
		pthread_mutex_unlock(&pd->alarm_lock);
		break;
	case PD_NO_CREDENTIAL:
		PD_STAT_ADD(pd, p, no_credential, 1);
		break;
	case PD_TIMED_OUT:
		PD_STAT_ADD(pd, p, timed_out, 1);
		break;
	default:
		break;
	}
	__atomic_fetch_sub(&pd->st[p].in_flight, 1, __ATOMIC_RELAXED);
	pd->n_jobs--;
	if (pd->paused && pd->n_jobs <= pd->cfg.max_pending / 2) {
		pd->paused = false;
		event_active(pd->req_ev, EV_READ, 0); /* drain the ring again */
	}
	sw_hist_add(&pd->st[p].lat, lat); /* the pushd thread is its one writer */
	if (r) {
		pd_result_fill(r, j, st, reason, ts_ms);
		r->latency_us = lat;
		/* A request written within pd_submit()'s microsecond still reads 1. */
		if (j->written_us != 0)
			r->written_us =
				j->written_us > j->start_us ? j->written_us - j->start_us : 1;
		if (rte_ring_sp_enqueue(pd->res_ring, r) != 0) {
			PD_STAT_ADD(pd, p, ring_full, 1);
			free(r);
		} else {
			event_active(pd->res_ev, EV_WRITE, 0);
		}
	}
	pd_job_free(j);
}

/* Sends @j now if a stream is free, else queues it (at the head when it
 * came from the queue, so order is kept). @queued: taken from c->waiting.
 * Returns true when sent. */
bool pd_job_dispatch(struct pd_job *j, bool queued)
{
	struct pd_cred *c = j->cred;
	struct pd_conn *cn;

	if (c->retired) {
		/* A reload replaced its credential while it waited or retried. */
		if (!pd_job_rehome(j))
			return false;
		c = j->cred;
	}
	if (c->provider == PD_WEBPUSH) {
		/* Per origin: a push waits only for its own push service. */
		if (!(cn = pd_origin_pick_conn(j)))
			goto wait;
	} else if ((c->provider == PD_FCM && !pd_cred_token_ok(c)) ||
		   (!queued && !TAILQ_EMPTY(&c->waiting)) || !(cn = pd_cred_pick_conn(c))) {
		goto wait;
	}
	j->attempts++;
	PD_STAT_ADD(j->pd, j->req.provider, sent, 1);
	if (pd_conn_submit(cn, j) == 0)
		return true;
	j->attempts--;
wait:
	if (queued)
		TAILQ_INSERT_HEAD(&c->waiting, j, link);
	else
		TAILQ_INSERT_TAIL(&c->waiting, j, link);
	j->on_list = true;
	if (c->provider == PD_FCM && !pd_cred_token_ok(c))
		pd_cred_fetch_token(c);
	return false;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pd_job_dispatch(arg, false);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_job *j = arg;

	(void)fd;
	(void)what;
	pd_job_finish(j, PD_TIMED_OUT, j->status ? "deadline after retries" : "deadline", 0);
}

/* Retry with backoff (honouring Retry-After) if the deadline leaves room. */
void pd_job_retry(struct pd_job *j, const char *reason, bool now)
{
	struct pd *pd = j->pd;
	uint64_t delay = 0;
	struct timeval tv;

	PD_STAT_ADD(pd, j->req.provider, retries, 1);
	if (!now) {
		unsigned shift = j->attempts > 1 ? j->attempts - 1 : 0;

		delay = j->retry_after_s
				? (uint64_t)j->retry_after_s * 1000
				: (uint64_t)pd->cfg.retry_base_ms << (shift > 16 ? 16 : shift);
		if (!j->retry_after_s && delay > pd->cfg.retry_max_ms)
			delay = pd->cfg.retry_max_ms;
	}
	if (sw_mono_ms() + delay >= j->deadline_ms) {
		pd_job_finish(j, PD_TIMED_OUT, reason, 0);
		return;
	}
	if (!delay) {
		pd_job_dispatch(j, false);
		return;
	}
	/* Made on first use: most pushes never retry. */
	if (!j->retry)
		j->retry = evtimer_new(pd->base, retry_cb, j);
	if (!j->retry) {
		pd_job_finish(j, PD_TIMED_OUT, "out of memory", 0);
		return;
	}
	pd_ms_to_tv(delay, &tv);
	evtimer_add(j->retry, &tv);
}

/* A subscription pushd cannot use is refused, never sent (the control
 * plane checks the same at REGISTER: common/sw_webpush.c). */
static bool webpush_ok(struct pd_job *j)
{
	uint8_t p256dh[SW_WP_P256DH_LEN], auth[SW_WP_AUTH_LEN];
	struct sw_wp_url u;
	const char *why = NULL;

	if (sw_wp_url_split(j->req.token, strlen(j->req.token), &u, &why) == 0 &&
	    sw_wp_keys(j->req.param, strlen(j->req.param), p256dh, auth, &why) == 0)
		return true;
	pd_job_finish(j, PD_REFUSED, why, 0);
	return false;
}

void pd_job_start(struct pd *pd, struct pd_job *j)
{
	struct timeval tv;
	uint64_t now = sw_mono_ms();
	int rc;

	j->pd = pd;
	j->deadline_ms = j->req.deadline_ms ? j->req.deadline_ms
					    : now + (uint64_t)pd->cfg.wake_window_s * 1000;
	uuid4(j->apns_id);
	pd_job_set_cred(j, pd_cred_pick(pd, &j->req));
	if (!j->cred) {
		pd_job_finish(j, PD_NO_CREDENTIAL, "no credential for this push address", 0);
		return;
	}
	/* Never sent: a token that is not one goes in :path; a VoIP token
	 * takes VoIP pushes only (APNs: DeviceTokenNotForTopic). */
	if (j->req.provider == PD_APNS && !pd_apns_token_ok(j->req.token)) {
		pd_job_finish(j, PD_REFUSED, "token not hex or longer than 200", 0);
		return;
	}
	if (j->req.provider == PD_WEBPUSH && !webpush_ok(j))
		return;
	if (j->req.token_kind == PD_TOKEN_VOIP && j->req.kind != PD_KIND_CALL) {
		pd_job_finish(j, PD_REFUSED, "a VoIP token takes only VoIP pushes", 0);
		return;
	}
	rc = pd_build_body(j);
	if (rc == -EIO) {
		/* A sealed push that could not be sealed: never sent in clear. */
		pd_job_finish(j, PD_REFUSED, "could not seal the payload", 0);
		return;
	}
	if (rc == -EINVAL && j->req.provider == PD_WEBPUSH) {
		pd_job_finish(j, PD_REFUSED, "Web Push p256dh not a point on P-256", 0);
		return;
	}
	if (rc) {
		pd_job_finish(j, PD_REJECTED, rc == -EMSGSIZE ? "PayloadTooLarge" : "bad payload",
			      0);
		return;
	}
	j->timer = evtimer_new(pd->base, deadline_cb, j);
	if (!j->timer) {
		pd_job_finish(j, PD_TIMED_OUT, "out of memory", 0);
		return;
	}
	if (j->deadline_ms <= now) {
		/* Waited in the ring past its deadline: not worth a request. */
		pd_job_finish(j, PD_TIMED_OUT, "deadline", 0);
		return;
	}
	pd_ms_to_tv(j->deadline_ms - now, &tv);
	evtimer_add(j->timer, &tv);
	pd_job_dispatch(j, false);
}
