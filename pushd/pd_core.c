/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pushd thread: rings in and out, one libevent loop, jobs with their
 * deadline and retry timers, and the answer table (docs/pushd.md, "How it sends").
 * Credentials (selection, tokens, reload) are in pd_cred.c.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <ctype.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <rte_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/sw_log.h"
#include "pushd/pd_internal.h"

#define BURST 32

static const char *const status_names[] = {
#define PD_S_NAME(n, d) #n,
	PD_FOREACH_STATUS(PD_S_NAME)
#undef PD_S_NAME
};

const char *pd_status_name(enum pd_status s)
{
	static char lower[PD_N_STATUS][24];

	if ((unsigned)s >= PD_N_STATUS)
		return "unknown";
	if (!lower[s][0]) {
		size_t i;

		for (i = 0; status_names[s][i] && i < sizeof(lower[s]) - 1; i++)
			lower[s][i] = (char)tolower((unsigned char)status_names[s][i]);
		lower[s][i] = '\0';
	}
	return lower[s];
}

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
	PD_STAT_ADD(pd, p, lat.b[sw_hist_bucket(lat)], 1);
	if (r) {
		r->id = j->req.id;
		memcpy(r->device_key, j->req.device_key, sizeof(r->device_key));
		r->status = st;
		r->provider_ts_ms = ts_ms;
		if (reason) {
			size_t rl = strnlen(reason, sizeof(r->reason) - 1);

			memcpy(r->reason, reason, rl);
			r->reason[rl] = '\0';
		}
		r->http_status = j->status;
		memcpy(r->apns_id, j->apns_id, sizeof(r->apns_id));
		if (j->resp_len) {
			size_t bl =
				j->resp_len < sizeof(r->body) ? j->resp_len : sizeof(r->body) - 1;

			memcpy(r->body, j->resp, bl);
			r->body[bl] = '\0';
		}
		memcpy(r->headers, j->hdrs, j->hdrs_len + 1);
		r->attempts = j->attempts;
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
	if ((c->provider == PD_FCM && !pd_cred_token_ok(c)) ||
	    (!queued && !TAILQ_EMPTY(&c->waiting)) || !(cn = pd_cred_pick_conn(c)))
		goto wait;
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
static void retry_later(struct pd_job *j, const char *reason, bool now)
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

static const char *fcm_error_code(json_t *root)
{
	json_t *err = json_object_get(root, "error"), *d;
	size_t i;

	json_array_foreach(json_object_get(err, "details"), i, d)
	{
		const char *c = json_string_value(json_object_get(d, "errorCode"));

		if (c)
			return c;
	}
	return json_string_value(json_object_get(err, "status"));
}

void pd_job_answered(struct pd_job *j)
{
	struct pd_cred *c = j->cred;
	bool apns = j->req.provider == PD_APNS;
	json_t *root;
	const char *reason = NULL;
	char rbuf[64];
	int s = j->status;

	if (j->op == PD_OP_FCM_TOKEN) {
		pd_token_done(j, true);
		return;
	}
	if (s == 200) {
		pd_job_finish(j, PD_DELIVERED, NULL, 0);
		return;
	}
	root = json_loads(j->resp, 0, NULL);
	reason = apns ? json_string_value(json_object_get(root, "reason")) : fcm_error_code(root);
	snprintf(rbuf, sizeof(rbuf), "%s", reason ? reason : "");
	if (!reason)
		snprintf(rbuf, sizeof(rbuf), "HTTP %d", s);
	if (apns && s == 410) {
		json_int_t ts = json_integer_value(json_object_get(root, "timestamp"));

		pd_job_finish(j, PD_DEAD_TOKEN, rbuf, ts ? ts : (int64_t)time(NULL) * 1000);
	} else if (!apns && (s == 404 || !strcmp(rbuf, "UNREGISTERED"))) {
		/* FCM gives no time: the moment of the answer stands in for it. */
		pd_job_finish(j, PD_DEAD_TOKEN, rbuf, (int64_t)time(NULL) * 1000);
	} else if (((apns && s == 403 && !strcmp(rbuf, "ExpiredProviderToken")) ||
		    (!apns && s == 401)) &&
		   !j->renewed) {
		j->renewed = true;
		/* Renewal still honours the 20-minute floor: a token younger than
		 * that is resent as is, and a second refusal is a config error
		 * (clock skew, revoked key) rather than a renewal storm. */
		if (apns)
			pd_apns_jwt(c, true);
		else if (j->token_gen == c->token_gen)
			c->access_refresh_ms = 0; /* pd_job_dispatch() fetches a new one */
		/* else: sent with an older token, already replaced */
		retry_later(j, rbuf, true);
	} else if (s == 429 || s == 500 || s == 503) {
		PD_STAT_ADD(j->pd, j->req.provider, retry_after_429, s == 429);
		PD_STAT_ADD(j->pd, j->req.provider, retry_after_5xx, s != 429);
		retry_later(j, rbuf, false);
	} else if (s == 403 || s == 401 || s == 404 || s == 405) {
		pd_job_finish(j, PD_CONFIG_ERROR, rbuf, 0);
	} else {
		pd_job_finish(j, PD_REJECTED, rbuf, 0);
	}
	json_decref(root);
}

void pd_job_failed(struct pd_job *j, const char *why, bool goaway)
{
	if (j->pd->stop) {
		if (j->op == PD_OP_FCM_TOKEN)
			j->cred->token_job = NULL;
		pd_job_free(j);
		return;
	}
	if (j->op == PD_OP_FCM_TOKEN) {
		pd_token_done(j, false);
		return;
	}
	PD_STAT_ADD(j->pd, j->req.provider, retry_after_goaway, goaway);
	PD_STAT_ADD(j->pd, j->req.provider, retry_after_reset, !goaway);
	j->status = 0;
	/* A stream the server never processed goes to the new connection at once. */
	retry_later(j, why, goaway);
}

static void start_job(struct pd *pd, struct pd_job *j)
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
	if (j->req.provider == PD_APNS && !pd_apns_token_ok(j->req.token)) {
		pd_job_finish(j, PD_REJECTED, "BadDeviceToken",
			      0); /* never sent: it goes in :path */
		return;
	}
	rc = pd_build_body(j);
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

/* One eventfd write per loop iteration however many results it produced:
 * the syscall, not the ring, is what costs. */
static void res_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd *pd = arg;
	uint64_t one = 1;

	(void)fd;
	(void)what;
	if (write(pd->res_fd, &one, sizeof(one)) < 0) {
		/* counter saturated: the reader is signalled already */
	}
}

static void req_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd *pd = arg;
	void *burst[BURST];
	uint64_t v;
	unsigned n;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a spurious wake-up */
	}
	if (pd->stop) {
		event_base_loopbreak(pd->base);
		return;
	}
	if (__atomic_load_n(&pd->reload_pending, __ATOMIC_ACQUIRE))
		pd_reload_apply(pd);
	/* Bounded memory: past max_pending the requests stay in the ring, the
	 * ring fills and pd_submit() refuses; pd_job_finish() resumes the draining. */
	while (pd->n_jobs < pd->cfg.max_pending) {
		unsigned room = pd->cfg.max_pending - pd->n_jobs;

		n = rte_ring_sc_dequeue_burst(pd->req_ring, burst, room < BURST ? room : BURST,
					      NULL);
		if (!n)
			return;
		pd->n_jobs += n;
		for (unsigned i = 0; i < n; i++)
			start_job(pd, burst[i]);
	}
	pd->paused = !rte_ring_empty(pd->req_ring);
}

int pd_submit(struct pd *pd, const struct pd_request *req)
{
	/* Taken first: latency_us and written_us count from the call. */
	uint64_t start_us = sw_mono_us();
	struct pd_job *j = malloc(sizeof(*j));
	uint64_t one = 1;

	if (!j)
		return -ENOMEM;
	memset(j, 0, offsetof(struct pd_job, hdrs));
	j->hdrs[0] = '\0';
	j->hdrs_len = 0;
	j->resp[0] = '\0';
	j->resp_len = 0;
	j->req = *req;
	/* The caller's strings may fill their arrays: terminate them here. */
	j->req.device_key[PD_KEY_LEN - 1] = '\0';
	j->req.token[PD_TOKEN_LEN - 1] = '\0';
	j->req.param[PD_PARAM_LEN - 1] = '\0';
	j->req.call_id[sizeof(j->req.call_id) - 1] = '\0';
	j->req.caller_number[sizeof(j->req.caller_number) - 1] = '\0';
	j->req.caller_name[sizeof(j->req.caller_name) - 1] = '\0';
	j->req.aor[sizeof(j->req.aor) - 1] = '\0';
	j->req.provider = req->provider == PD_FCM ? PD_FCM : PD_APNS;
	if ((unsigned)j->req.kind > PD_KIND_BACKGROUND)
		j->req.kind = PD_KIND_CALL;
	j->start_us = start_us;
	if (rte_ring_sp_enqueue(pd->req_ring, j) != 0) {
		PD_STAT_ADD(pd, j->req.provider, ring_full, 1);
		free(j);
		return -ENOBUFS;
	}
	PD_STAT_ADD(pd, j->req.provider, submitted, 1);
	PD_STAT_ADD(pd, j->req.provider, in_flight, 1);
	/* Wake the loop only when the ring was empty: it drains the ring until
	 * empty after each wake-up, so later requests are picked up anyway. */
	if (rte_ring_count(pd->req_ring) == 1 && write(pd->req_fd, &one, sizeof(one)) < 0) {
		/* counter saturated: the loop is awake anyway */
	}
	return 0;
}

unsigned pd_poll_results(struct pd *pd, struct pd_result **out, unsigned n)
{
	return rte_ring_sc_dequeue_burst(pd->res_ring, (void **)out, n, NULL);
}

int pd_result_fd(const struct pd *pd)
{
	return pd->res_fd;
}

static void retire_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pd_retired_sweep(arg);
}

static void *loop(void *arg)
{
	struct pd *pd = arg;
	struct pd_cred *c;
	sigset_t block;

	/* OpenSSL writes to sockets with write(): a peer that closed first would
	 * raise SIGPIPE and kill the whole process. Blocked in this thread only,
	 * the write fails with EPIPE instead and the connection is dropped. */
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	for (unsigned i = 0; i < pd->n_creds; i++)
		pd_cred_open(pd->creds[i]);
	event_base_dispatch(pd->base);
	/* Shutdown: drop everything without results. */
	for (unsigned i = 0; i < pd->n_creds; i++)
		pd_cred_close(pd->creds[i]);
	LIST_FOREACH(c, &pd->retired, retired_link)
	pd_cred_close(c);
	while ((c = LIST_FIRST(&pd->retired)) != NULL) {
		LIST_REMOVE(c, retired_link);
		pd_cred_release(c);
	}
	/* bufferevent_free() finalizes deferred bufferevents in the loop: let
	 * that run, or their SSL objects leak. */
	event_base_loop(pd->base, EVLOOP_NONBLOCK);
	return NULL;
}

static struct rte_ring *ring_new(unsigned size, const char *name, void **mem)
{
	ssize_t sz = rte_ring_get_memsize(size);
	struct rte_ring *r;

	if (sz < 0)
		return NULL;
	/* rte_ring_init() on plain memory: no EAL or hugepages needed. */
	*mem = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)sz, RTE_CACHE_LINE_SIZE));
	if (!*mem)
		return NULL;
	r = *mem;
	if (rte_ring_init(r, name, size, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(*mem);
		*mem = NULL;
		return NULL;
	}
	return r;
}

struct pd *pd_new(const struct pd_config *cfg, char *err, size_t errlen)
{
	struct pd *pd = calloc(1, sizeof(*pd));
	char dummy[8];

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!pd) {
		snprintf(err, errlen, "pushd: out of memory");
		return NULL;
	}
	pd->cfg = *cfg;
	/* The layers below call back up through these, never by name. */
	pd->up = (struct pd_up){.dispatch = pd_job_dispatch,
				.finish = pd_job_finish,
				.answered = pd_job_answered,
				.failed = pd_job_failed,
				.kick = pd_cred_kick};
	pd->req_fd = pd->res_fd = -1;
	pthread_mutex_init(&pd->alarm_lock, NULL);
	pthread_mutex_init(&pd->cred_lock, NULL);
	LIST_INIT(&pd->retired);
	pd->creds = pd_creds_load(pd, cfg, &pd->n_creds, err, errlen);
	if (!pd->creds)
		goto fail;
	for (unsigned i = 0; i < pd->n_creds; i++)
		pd->st[pd->creds[i]->provider].connections_cfg++;
	pd->req_ring = ring_new(cfg->ring_size, "pd_req", &pd->req_mem);
	pd->res_ring = ring_new(cfg->ring_size, "pd_res", &pd->res_mem);
	pd->req_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pd->res_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!pd->req_ring || !pd->res_ring || pd->req_fd < 0 || pd->res_fd < 0)
		goto fail_oom;
	pd->base = event_base_new();
	if (!pd->base)
		goto fail_oom;
	/* evdns: non-blocking resolution from resolv.conf and /etc/hosts; with no
	 * usable resolv.conf, literal addresses still work. */
	pd->dns = evdns_base_new(pd->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!pd->dns)
		pd->dns = evdns_base_new(pd->base, 0);
	pd->req_ev = event_new(pd->base, pd->req_fd, EV_READ | EV_PERSIST, req_cb, pd);
	pd->res_ev = event_new(pd->base, -1, 0, res_signal_cb, pd);
	pd->retire_ev = event_new(pd->base, -1, 0, retire_cb, pd);
	if (!pd->dns || !pd->req_ev || !pd->res_ev || !pd->retire_ev ||
	    event_add(pd->req_ev, NULL) != 0)
		goto fail_oom;
	return pd;
fail_oom:
	snprintf(err, errlen, "pushd: out of memory");
fail:
	pd_free(pd);
	return NULL;
}

int pd_start(struct pd *pd)
{
	int rc;

	if (pd->started)
		return -EALREADY;
	rc = pthread_create(&pd->thread, NULL, loop, pd);
	if (rc)
		return -rc;
	pthread_setname_np(pd->thread, "pushd");
	pd->started = true;
	return 0;
}

void pd_free(struct pd *pd)
{
	uint64_t one = 1;
	struct pd_result *r;

	if (!pd)
		return;
	pd_telemetry_forget(pd);
	if (pd->started) {
		pd->stop = true;
		if (write(pd->req_fd, &one, sizeof(one)) < 0) {
			/* the loop wakes on the saturated counter anyway */
		}
		pthread_join(pd->thread, NULL);
	}
	if (pd->req_ring) {
		void *j;

		while (rte_ring_sc_dequeue(pd->req_ring, &j) == 0)
			free(j);
	}
	if (pd->res_ring)
		while (rte_ring_sc_dequeue(pd->res_ring, (void **)&r) == 0)
			free(r);
	pd_creds_release(pd->creds, pd->n_creds);
	pd_creds_release(pd->pending, pd->n_pending);
	if (pd->req_ev)
		event_free(pd->req_ev);
	if (pd->res_ev)
		event_free(pd->res_ev);
	if (pd->retire_ev)
		event_free(pd->retire_ev);
	if (pd->dns)
		evdns_base_free(pd->dns, 0);
	if (pd->base)
		event_base_free(pd->base);
	if (pd->req_fd >= 0)
		close(pd->req_fd);
	if (pd->res_fd >= 0)
		close(pd->res_fd);
	free(pd->req_mem);
	free(pd->res_mem);
	pthread_mutex_destroy(&pd->cred_lock);
	pthread_mutex_destroy(&pd->alarm_lock);
	free(pd);
}
