/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pushd thread: the request and result rings with their eventfds, one
 * libevent loop, start and stop (docs/pushd.md, "Interface"). It takes
 * requests off the ring and hands each to pd_sched.c as a job; it sets
 * pd->up, through which the layers below hand jobs and connections back.
 * Below it: pd_answer.c (what an answer means), pd_sched.c (a job's
 * deadline, dispatch and retries), pd_cred.c (credentials, reload),
 * pd_conn.c and pd_h2.c (connections, HTTP/2).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <rte_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/sw_ring.h"
#include "pushd/pd_internal.h"

#define BURST 32

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
			pd_job_start(pd, burst[i]);
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
	if ((unsigned)j->req.provider >= PD_N_PROVIDERS)
		j->req.provider = PD_APNS;
	if ((unsigned)j->req.kind > PD_KIND_MESSAGE)
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
				.kick = pd_cred_kick,
				.drain = pd_conn_drain};
	pd->req_fd = pd->res_fd = -1;
	pthread_mutex_init(&pd->alarm_lock, NULL);
	pthread_mutex_init(&pd->cred_lock, NULL);
	LIST_INIT(&pd->retired);
	pd->creds = pd_creds_load(pd, cfg, &pd->n_creds, err, errlen);
	if (!pd->creds)
		goto fail;
	for (unsigned i = 0; i < pd->n_creds; i++)
		pd->st[pd->creds[i]->provider].connections_cfg++;
	pd->req_ring = sw_ring_plain(cfg->ring_size, "pd_req", &pd->req_mem);
	pd->res_ring = sw_ring_plain(cfg->ring_size, "pd_res", &pd->res_mem);
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
