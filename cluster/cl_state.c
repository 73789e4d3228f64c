/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the link shows (cl.h): its state, derived from the two connections
 * and announced on every change; the counters, read on any thread with
 * relaxed loads; the master in use and the last error, two strings copied
 * under a mutex (telemetry reads them rarely, the link writes them on a
 * connection's events only, never per change).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cl_internal.h"

_Static_assert(sizeof(struct cl_stats) % sizeof(uint64_t) == 0,
	       "cl_stats is read as an array of uint64_t");

const char *cl_state_name(enum cl_state s)
{
	switch (s) {
	case CL_DOWN:
		return "down";
	case CL_RESYNCING:
		return "resyncing";
	case CL_UP:
		return "up";
	}
	return "?";
}

enum cl_state cl_state(const struct cl *cl)
{
	return cl->state;
}

/* Writes need the writer alone; UP needs the reader's feed as well. */
void cl_state_update(struct cl *cl)
{
	enum cl_state s = !cl->w.ready ? CL_DOWN : cl->r.tailing ? CL_UP : CL_RESYNCING;

	if (s == cl->state)
		return;
	cl->state = s;
	CL_SET(cl, state, s);
	if (cl->ops.state) {
		cl->ncb++;
		cl->ops.state(cl->ops.arg, s);
	}
}

void cl_get_stats(const struct cl *cl, struct cl_stats *out)
{
	const uint64_t *src = (const uint64_t *)&cl->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* The mutex is the one thing a reader writes: cast away the const. */
static void copy_locked(const struct cl *cl, const char *s, char *buf, size_t len)
{
	pthread_mutex_t *mu = (pthread_mutex_t *)&cl->mu;

	if (!len)
		return;
	pthread_mutex_lock(mu);
	snprintf(buf, len, "%s", s);
	pthread_mutex_unlock(mu);
}

void cl_master(const struct cl *cl, char *buf, size_t len)
{
	copy_locked(cl, cl->master_str, buf, len);
}

void cl_last_error(const struct cl *cl, char *buf, size_t len)
{
	copy_locked(cl, cl->error, buf, len);
}

void cl_set_master(struct cl *cl, const char *s)
{
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->master_str, sizeof(cl->master_str), "%s", s);
	pthread_mutex_unlock(&cl->mu);
}

void cl_set_error(struct cl *cl, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&cl->mu);
	va_start(ap, fmt);
	vsnprintf(cl->error, sizeof(cl->error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&cl->mu);
}
