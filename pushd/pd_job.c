/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A push job's memory and its reference on a credential: the lowest step of
 * pushd, which the files above it all use (pd_internal.h lists them), and
 * which calls none of them.
 */
#include <stdlib.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "pushd/pd_internal.h"

void pd_ms_to_tv(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

/* Jobs hold their credential: a retired one is freed after its last job. */
void pd_job_set_cred(struct pd_job *j, struct pd_cred *c)
{
	struct pd_cred *old = j->cred;

	/* An origin is its credential's: a job moved to another lets it go. */
	if (j->origin)
		j->origin->refs--;
	j->origin = NULL;
	if (old && --old->refs == 0 && old->retired)
		event_active(old->pd->retire_ev, EV_TIMEOUT, 0); /* not from inside its conn */
	j->cred = c;
	if (c)
		c->refs++;
}

void pd_job_free(struct pd_job *j)
{
	pd_job_set_cred(j, NULL);
	if (j->timer)
		event_free(j->timer);
	if (j->retry)
		event_free(j->retry);
	free(j->body);
	/* A device's push key lives no longer than its push. */
	OPENSSL_cleanse(j->req.seal_key, sizeof(j->req.seal_key));
	free(j);
}
