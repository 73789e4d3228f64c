/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VAPID (RFC 8292): the Web Push credential's P-256 key, and the JWT each
 * push service origin gets in "Authorization: vapid t=<JWT>, k=<key>"
 * (§3), its "aud" that origin (§2). A JWT is signed once per origin and
 * kept until half its life has passed: a push costs no signature.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sw_log.h"
#include "pushd/pd_internal.h"

/* RFC 8292 §2: "exp" no more than 24 hours ahead. 12 h, renewed at 6 h:
 * a clock a few hours off on either side still passes. */
#define VAPID_LIFE_S 43200

int pd_vapid_load(struct pd_cred *c, char *err, size_t errlen)
{
	uint8_t pub[PD_EC_PUB_LEN];
	char what[128];

	snprintf(what, sizeof(what), "push.%s.vapid_key", c->name);
	c->key = pd_load_private_key(c->wp->vapid_key, err, errlen, what);
	if (!c->key)
		return -EINVAL;
	if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_EC || EVP_PKEY_get_bits(c->key) != 256 ||
	    pd_ec_pub(c->key, pub) != 0) {
		snprintf(err, errlen, "%s: %s is not a P-256 key", what, c->wp->vapid_key);
		return -EINVAL;
	}
	pd_b64url(pub, sizeof(pub), c->vapid_k, sizeof(c->vapid_k));
	return 0;
}

int pd_vapid_key(const struct pd *pd, char *out, size_t cap)
{
	int rc = -ENOENT;

	pthread_mutex_lock((pthread_mutex_t *)&pd->cred_lock); /* a reload swaps them */
	for (unsigned i = 0; i < pd->n_creds && rc == -ENOENT; i++)
		if (pd->creds[i]->provider == PD_WEBPUSH)
			rc = snprintf(out, cap, "%s", pd->creds[i]->vapid_k) < (int)cap ? 0
											: -ENOSPC;
	pthread_mutex_unlock((pthread_mutex_t *)&pd->cred_lock);
	return rc;
}

const char *pd_vapid_auth(struct pd_origin *o)
{
	struct pd_cred *c = o->cred;
	const struct pd_config *cfg = &c->pd->cfg;
	uint64_t now = (uint64_t)time(NULL);
	uint64_t renew = cfg->test_jwt_renew_s ? cfg->test_jwt_renew_s : VAPID_LIFE_S / 2;
	json_t *cl;
	char *claims, *jwt = NULL, *auth;
	size_t n;

	if (o->auth && now - o->jwt_iat < renew)
		return o->auth;
	cl = json_pack("{s:s, s:I, s:s}", "aud", o->aud, "exp", (json_int_t)(now + VAPID_LIFE_S),
		       "sub", c->wp->subject);
	claims = cl ? json_dumps(cl, JSON_COMPACT) : NULL;
	json_decref(cl);
	if (claims)
		jwt = pd_jwt_sign(c->key, true, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}", claims);
	free(claims);
	if (!jwt) {
		PD_LOG(ERR, "%s: cannot sign the VAPID JWT for %s", c->name, o->aud);
		return o->auth;
	}
	n = strlen(jwt) + strlen(c->vapid_k) + 16;
	auth = malloc(n);
	if (auth)
		snprintf(auth, n, "vapid t=%s, k=%s", jwt, c->vapid_k);
	free(jwt);
	if (!auth)
		return o->auth;
	if (o->auth)
		PD_STAT_ADD(c->pd, PD_WEBPUSH, token_renewals, 1);
	free(o->auth);
	o->auth = auth;
	o->jwt_iat = now;
	return auth;
}
