/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server: Google's OAuth2 token endpoint (JWT-bearer grant, RFC 7523)
 * and the access tokens it issued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/pushd/ts.h"

#define MAX_ACCESS 64
static struct {
	char tok[64];
	time_t expires;
} issued[MAX_ACCESS];
static unsigned access_next, access_serial;

int ts_access_token_valid(const char *t)
{
	for (unsigned i = 0; i < MAX_ACCESS; i++)
		if (issued[i].tok[0] && strcmp(issued[i].tok, t) == 0)
			return issued[i].expires > time(NULL);
	return 0;
}

void ts_tokens_revoke(void)
{
	memset(issued, 0, sizeof(issued));
}

int ts_token_endpoint(const struct ts_cfg *cfg, const struct ts_req *r, unsigned ttl, json_t **body,
		      long *iat_out)
{
	int status = 400;
	char *form = strndup(r->body ? r->body : "", r->body_len);
	char *grant = NULL, *assertion = NULL, *save = NULL;
	json_t *claims = NULL;
	long iat = 0;
	const char *iss, *scope;

	for (char *kv = strtok_r(form, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		if (!strncmp(kv, "grant_type=", 11))
			grant = kv + 11;
		else if (!strncmp(kv, "assertion=", 10))
			assertion = kv + 10;
	}
	if (!grant || (strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer") &&
		       strcmp(grant, "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"))) {
		*body = (json_pack("{s:s}", "error", "unsupported_grant_type"));
		goto out;
	}
	if (!assertion || ts_jwt_check(cfg, assertion, 0, &iat, &claims)) {
		*body = (json_pack("{s:s, s:s}", "error", "invalid_grant", "error_description",
				   "Invalid JWT Signature."));
		goto out;
	}
	iss = json_string_value(json_object_get(claims, "iss"));
	scope = json_string_value(json_object_get(claims, "scope"));
	if (!iss || strcmp(iss, cfg->fcm_email) || !scope ||
	    !strstr(scope, "https://www.googleapis.com/auth/firebase.messaging") ||
	    !json_is_string(json_object_get(claims, "aud")) ||
	    json_integer_value(json_object_get(claims, "exp")) <= time(NULL) ||
	    labs(time(NULL) - iat) > 3600) {
		*body = (json_pack("{s:s}", "error", "invalid_grant"));
		goto out;
	}
	snprintf(issued[access_next].tok, sizeof(issued[0].tok), "ya29.test-%u-%ld",
		 ++access_serial, (long)random());
	issued[access_next].expires = time(NULL) + ttl;
	status = 200;
	*body = (json_pack("{s:s, s:i, s:s}", "access_token", issued[access_next].tok, "expires_in",
			   (int)ttl, "token_type", "Bearer"));
	access_next = (access_next + 1) % MAX_ACCESS;
out:
	*iat_out = iat;
	json_decref(claims);
	free(form);
	return status;
}
