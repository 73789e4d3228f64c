/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The answer table: what an APNs or FCM answer to a push means (delivered,
 * dead token, rejected, configuration error, a new provider token and one
 * more try, retry later), and what a stream that ended without one means
 * (docs/pushd.md, "How it sends", "Answers"). Also the statuses' names.
 * pd_core.c hands these to the connections as pd->up.answered and
 * pd->up.failed; the scheduling they lead to is pd_sched.c's.
 */
#include <ctype.h>
#include <jansson.h>
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

/*
 * RFC 8030 §5: 201 Created (some services answer 200 or 202); 404 / 410:
 * the subscription is gone (§7.3: expired or unsubscribed), drop it as an
 * APNs 410; 400 and 413 (payload too large): this push; 401 / 403: the
 * VAPID JWT refused (RFC 8292 §4: a key the subscription was not made
 * with, or a bad JWT), the credential's, except that a first 401 gets a
 * freshly signed JWT and one more try (an expired one, a clock that
 * jumped); 429 and 5xx: later.
 */
static void webpush_answered(struct pd_job *j)
{
	char rbuf[64];
	int s = j->status;

	snprintf(rbuf, sizeof(rbuf), "HTTP %d", s);
	if (s == 200 || s == 201 || s == 202)
		pd_job_finish(j, PD_DELIVERED, NULL, 0);
	else if (s == 404 || s == 410)
		pd_job_finish(j, PD_DEAD_TOKEN, rbuf, (int64_t)time(NULL) * 1000);
	else if (s == 401 && !j->renewed && j->origin) {
		j->renewed = true;
		j->origin->jwt_iat = 0; /* pd_vapid_auth() signs a new one */
		pd_job_retry(j, rbuf, true);
	} else if (s == 401 || s == 403)
		pd_job_finish(j, PD_CONFIG_ERROR, "VAPID refused", 0);
	else if (s == 429 || s >= 500) {
		PD_STAT_ADD(j->pd, PD_WEBPUSH, retry_after_429, s == 429);
		PD_STAT_ADD(j->pd, PD_WEBPUSH, retry_after_5xx, s != 429);
		pd_job_retry(j, rbuf, false);
	} else
		pd_job_finish(j, PD_REJECTED, s == 413 ? "PayloadTooLarge" : rbuf, 0);
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
	if (j->req.provider == PD_WEBPUSH) {
		webpush_answered(j);
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
	} else if (!apns && !strcmp(rbuf, "UNREGISTERED")) {
		/* Only UNREGISTERED says the token is dead: another 404 (a
		 * project that does not exist) is the credential's fault, and
		 * taking it for a dead token would drop every Android device's
		 * push address. FCM gives no time: the answer's moment stands in. */
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
		pd_job_retry(j, rbuf, true);
	} else if (s == 429 || s == 500 || s == 503) {
		PD_STAT_ADD(j->pd, j->req.provider, retry_after_429, s == 429);
		PD_STAT_ADD(j->pd, j->req.provider, retry_after_5xx, s != 429);
		pd_job_retry(j, rbuf, false);
	} else if (s == 403 || s == 401 || s == 404 || s == 405 ||
		   (apns && (!strcmp(rbuf, "TopicDisallowed") || !strcmp(rbuf, "MissingTopic") ||
			     !strcmp(rbuf, "BadTopic")))) {
		/* A 400 about the topic is the credential's (its bundle or its
		 * certificate), never one device's: alarmed, as a 403 is. */
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
	pd_job_retry(j, why, goaway);
}
