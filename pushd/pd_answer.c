/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Acting on an answer to a push: finished (delivered, dead token, rejected,
 * configuration error), a new provider token and one more try, or retry
 * later, as pd_verdict.c's answer table says (docs/pushd.md, "How it
 * sends", "Answers"); and what a stream that ended without one means.
 * Also the statuses' names.
 * pd_core.c hands these to the connections as pd->up.answered and
 * pd->up.failed; the scheduling they lead to is pd_sched.c's.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pushd/pd_internal.h"

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

/* A provider token refused once: a new one for the retry. Renewal still
 * honours APNs' 20-minute floor: a token younger than that is resent as
 * is, and a second refusal is a config error (clock skew, revoked key)
 * rather than a renewal storm. */
static void renew(struct pd_job *j)
{
	struct pd_cred *c = j->cred;

	j->renewed = true;
	if (j->req.provider == PD_WEBPUSH)
		j->origin->jwt_iat = 0; /* pd_vapid_auth() signs a new one */
	else if (j->req.provider == PD_APNS)
		pd_apns_jwt(c, true);
	else if (j->token_gen == c->token_gen)
		c->access_refresh_ms = 0; /* pd_job_dispatch() fetches a new one */
	/* else: FCM, sent with an older token, already replaced */
}

/* What the answer means is pd_verdict.c's (pd_answer_judge()); acting on
 * it is this file's. */
void pd_job_answered(struct pd_job *j)
{
	struct pd_verdict v;
	bool can_renew = !j->renewed && (j->req.provider != PD_WEBPUSH || j->origin != NULL);

	if (j->op == PD_OP_FCM_TOKEN) {
		pd_token_done(j, true);
		return;
	}
	pd_answer_judge(j, can_renew, (int64_t)time(NULL) * 1000, &v);
	switch (v.next) {
	case PD_NEXT_RENEW:
		renew(j);
		pd_job_retry(j, v.reason, true);
		break;
	case PD_NEXT_LATER:
		PD_STAT_ADD(j->pd, j->req.provider, retry_after_429, j->status == 429);
		PD_STAT_ADD(j->pd, j->req.provider, retry_after_5xx, j->status != 429);
		pd_job_retry(j, v.reason, false);
		break;
	case PD_NEXT_FINISH:
	default:
		pd_job_finish(j, v.status, v.reason, v.ts_ms);
		break;
	}
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
	pd_job_retry(j, why, goaway);
}
