/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, request checks: the per-request header and body rules APNs
 * and FCM apply (JWTs verified by ts_jwt.c, access tokens by ts_oauth.c).
 */
#include "tests/pushd/ts.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_uuid(const char *s)
{
	static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	}
	return 1;
}

/* A certificate's topics: the bundle id in its subject UID, and that id
 * with ".voip" or ".complication". (Multi-topic certificates also list
 * topics in extension 1.2.840.113635.100.6.3.6; none here carries it.) */
static int cert_topic(const char *uid, const char *topic)
{
	size_t n = strlen(uid);

	return n && !strncmp(topic, uid, n) &&
	       (!topic[n] || !strcmp(topic + n, ".voip") || !strcmp(topic + n, ".complication"));
}

int ts_check_apns(const struct ts_cfg *cfg, struct ts_req *r, const char **reason)
{
	const char *type = r->h_push_type, *tok = r->path + strlen("/3/device/");
	size_t max = 4096;
	char want[300];
	json_t *body;

	*reason = NULL;
	snprintf(r->token, sizeof(r->token), "%s", tok);
	if (strcmp(r->method, "POST") != 0) {
		*reason = "MethodNotAllowed";
		return 405;
	}
	if (!*tok || strspn(tok, "0123456789abcdefABCDEF") != strlen(tok)) {
		*reason = "BadDeviceToken";
		return 400;
	}
	if (!r->client_cert) {
		const char *a = r->h_auth;

		if (strncasecmp(a, "bearer ", 7) != 0) {
			*reason = "MissingProviderToken";
			return 403;
		}
		*reason = ts_jwt_check(cfg, a + 7, 1, &r->iat, NULL);
		if (*reason)
			return 403;
		if (time(NULL) - r->iat > 3600) {
			*reason = "ExpiredProviderToken";
			return 403;
		}
	} else if (cfg->check_client_cert && !r->cert_chain_ok) {
		*reason = "BadCertificate";
		return 403;
	}
	if (!*type ||
	    (strcmp(type, "alert") && strcmp(type, "background") && strcmp(type, "voip"))) {
		*reason = "InvalidPushType";
		return 400;
	}
	if (!*r->h_topic) {
		*reason = "MissingTopic";
		return 400;
	}
	if (r->client_cert && cfg->check_client_cert && !cert_topic(r->cert_uid, r->h_topic)) {
		*reason = "TopicDisallowed";
		return 400;
	}
	snprintf(want, sizeof(want), "%s%s", cfg->apns_bundle, strcmp(type, "voip") ? "" : ".voip");
	if (strcmp(r->h_topic, want) != 0) {
		*reason = "DeviceTokenNotForTopic";
		return 400;
	}
	if (*r->h_prio && strcmp(r->h_prio, "5") && strcmp(r->h_prio, "10")) {
		*reason = "BadPriority";
		return 400;
	}
	if (!strcmp(type, "background") && strcmp(r->h_prio, "5")) {
		*reason = "BadPriority";
		return 400;
	}
	if (strlen(r->h_collapse) > 64) {
		*reason = "BadCollapseId";
		return 400;
	}
	if (*r->h_apns_id && !is_uuid(r->h_apns_id)) {
		*reason = "BadMessageId";
		return 400;
	}
	if (*r->h_exp && strspn(r->h_exp, "0123456789") != strlen(r->h_exp)) {
		*reason = "BadExpirationDate";
		return 400;
	}
	if (!strcmp(type, "voip"))
		max = 5120;
	if (r->body_len > max) {
		*reason = "PayloadTooLarge";
		return 413;
	}
	if (r->body_len == 0) {
		*reason = "PayloadEmpty";
		return 400;
	}
	body = json_loadb(r->body, r->body_len, 0, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		*reason = "BadPayload";
		return 400;
	}
	json_decref(body);
	return 200;
}

int ts_check_fcm(const struct ts_cfg *cfg, struct ts_req *r, const char **reason)
{
	char want[300];
	json_t *body, *msg, *data, *android, *v;
	const char *k, *tok;
	int st = 200;

	*reason = NULL;
	snprintf(want, sizeof(want), "/v1/projects/%s/messages:send", cfg->fcm_project);
	if (strncasecmp(r->h_auth, "bearer ", 7) != 0 || !ts_access_token_valid(r->h_auth + 7)) {
		*reason = "UNAUTHENTICATED";
		return 401;
	}
	if (strcmp(r->path, want) != 0) {
		*reason = "SENDER_ID_MISMATCH";
		return 403;
	}
	body = json_loadb(r->body, r->body_len, 0, NULL);
	msg = json_object_get(body, "message");
	tok = json_string_value(json_object_get(msg, "token"));
	data = json_object_get(msg, "data");
	android = json_object_get(msg, "android");
	if (!tok || !json_is_object(data) || json_object_get(msg, "notification")) {
		*reason = "INVALID_ARGUMENT";
		st = 400;
		goto out;
	}
	snprintf(r->token, sizeof(r->token), "%s", tok);
	json_object_foreach(data, k, v)
	{
		if (!json_is_string(v)) {
			*reason = "INVALID_ARGUMENT";
			st = 400;
			goto out;
		}
	}
	v = json_object_get(android, "ttl");
	if (!json_is_string(v) || json_string_value(v)[strlen(json_string_value(v)) - 1] != 's') {
		*reason = "INVALID_ARGUMENT";
		st = 400;
		goto out;
	}
	v = json_object_get(android, "priority");
	snprintf(r->h_prio, sizeof(r->h_prio), "%s", json_is_string(v) ? json_string_value(v) : "");
	v = json_object_get(data, "kind");
	snprintf(r->h_push_type, sizeof(r->h_push_type), "%s",
		 json_is_string(v) ? json_string_value(v) : "");
out:
	json_decref(body);
	return st;
}
