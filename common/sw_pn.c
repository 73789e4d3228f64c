/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push addresses read into their tokens (sw_pn.h): the multi-token forms
 * iOS apps send, which token takes which push, and whether a provider
 * would take a token at all. The forms, with examples as they appear on
 * the wire, are listed in docs/push-addresses.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/sw_pn.h"
#include "common/sw_webpush.h"

static bool ends_with(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s + len - n, lit, n) == 0;
}

static const char *mem_chr(const char *s, size_t len, int c)
{
	return len > 0 ? memchr(s, c, len) : NULL;
}

/* APNs service names of the multi-token form (Linphone / Flexisip). */
static int service_of(const char *s, size_t len)
{
	if (len == 4 && memcmp(s, "voip", 4) == 0)
		return SW_PN_TOK_VOIP;
	if (len == 6 && memcmp(s, "remote", 6) == 0)
		return SW_PN_TOK_REGULAR;
	return -1;
}

static int set_param(struct sw_pn_target *t, const char *base, size_t len, const char *suffix)
{
	int n = snprintf(t->param, sizeof(t->param), "%.*s%s", (int)len, base, suffix);

	return n > 0 && (size_t)n < sizeof(t->param) ? 0 : -E2BIG;
}

/*
 * pn-prid=<tok>:<service>[&<tok>:<service>], pn-param=<TEAM>.<bundle>.<service>[&<service>]:
 * each token's service must be one the parameter lists, each at most once.
 */
static int parse_multi(const char *prid, size_t prid_len, const char *param, size_t param_len,
		       struct sw_pn_addr *out, const char **why)
{
	const char *dot = NULL, *p = prid, *end = prid + prid_len;
	unsigned listed = 0, seen = 0;

	for (size_t i = param_len; i > 0; i--)
		if (param[i - 1] == '.') {
			dot = param + i - 1;
			break;
		}
	if (dot == NULL || dot == param) {
		*why = "pn-param names no services (<team>.<bundle>.<service>&<service>)";
		return -EINVAL;
	}
	for (const char *s = dot + 1, *pe = param + param_len; s <= pe;) {
		const char *amp = mem_chr(s, (size_t)(pe - s), '&');
		const char *e = amp != NULL ? amp : pe;
		int svc = service_of(s, (size_t)(e - s));

		if (svc < 0) {
			*why = "pn-param names a service other than voip and remote";
			return -EINVAL;
		}
		listed |= 1u << svc;
		s = e + 1;
	}
	while (p <= end) {
		const char *amp = mem_chr(p, (size_t)(end - p), '&');
		const char *e = amp != NULL ? amp : end;
		const char *colon = NULL;
		struct sw_pn_target *t;
		int svc;

		for (const char *q = e; q > p; q--)
			if (q[-1] == ':') {
				colon = q - 1;
				break;
			}
		if (colon == NULL) {
			*why = "a token of several has no :voip or :remote";
			return -EINVAL;
		}
		if (colon == p) {
			*why = "empty token";
			return -EINVAL;
		}
		svc = service_of(colon + 1, (size_t)(e - colon - 1));
		if (svc < 0) {
			*why = "a token's service is neither voip nor remote";
			return -EINVAL;
		}
		if ((seen & (1u << svc)) != 0) {
			*why = "two tokens for one service";
			return -EINVAL;
		}
		if ((listed & (1u << svc)) == 0) {
			*why = "a token's service is not in pn-param";
			return -EINVAL;
		}
		if (out->n == SW_PN_TARGETS_MAX) {
			*why = "too many tokens";
			return -EINVAL;
		}
		seen |= 1u << svc;
		t = &out->t[out->n++];
		t->tok = (uint8_t)svc;
		t->token = p;
		t->token_len = (uint16_t)(colon - p);
		if (set_param(t, param, (size_t)(dot - param),
			      svc == SW_PN_TOK_VOIP ? ".voip" : "")) {
			*why = "pn-param too long";
			return -EINVAL;
		}
		p = e + 1;
	}
	return 0;
}

/* PortSIP's device-uid=<voip>|<regular> (iOS), with app-id the bundle. */
static int parse_pair(const char *prid, size_t prid_len, const char *param, size_t param_len,
		      struct sw_pn_addr *out, const char **why)
{
	const char *bar = mem_chr(prid, prid_len, '|');
	size_t a = (size_t)(bar - prid), b = prid_len - a - 1;

	if (a == 0 || b == 0) {
		*why = "empty token";
		return -EINVAL;
	}
	if (mem_chr(bar + 1, b, '|') != NULL) {
		*why = "too many tokens";
		return -EINVAL;
	}
	out->t[0] = (struct sw_pn_target){
		.tok = SW_PN_TOK_VOIP, .token = prid, .token_len = (uint16_t)a};
	out->t[1] = (struct sw_pn_target){
		.tok = SW_PN_TOK_REGULAR, .token = bar + 1, .token_len = (uint16_t)b};
	out->n = 2;
	if (set_param(&out->t[0], param, param_len, ".voip") != 0 ||
	    set_param(&out->t[1], param, param_len, "") != 0) {
		*why = "app-id too long";
		return -EINVAL;
	}
	return 0;
}

/*
 * pn-prid=<endpoint URL>;pn-param=<p256dh>.<auth> (docs/push-addresses.md,
 * "Web Push"). A subscription that cannot be used (not https, no path, keys
 * of the wrong length) is kept, as an unknown provider's is, and never
 * pushed to: -ENOTSUP with the reason. URLs may hold '&' or '|' in their
 * query: no token separators here.
 */
static int parse_webpush(const char *prid, size_t prid_len, const char *param, size_t param_len,
			 struct sw_pn_addr *out, const char **why)
{
	uint8_t p256dh[SW_WP_P256DH_LEN], auth[SW_WP_AUTH_LEN];
	struct sw_pn_target *t = &out->t[0];
	struct sw_wp_url u;

	out->prov = SW_PN_PROV_WEBPUSH;
	if (prid_len == 0) {
		*why = "empty token";
		return -EINVAL;
	}
	if (sw_wp_url_split(prid, prid_len, &u, why) != 0 ||
	    sw_wp_keys(param, param_len, p256dh, auth, why) != 0)
		return -ENOTSUP;
	out->n = 1;
	t->tok = SW_PN_TOK_ANY;
	t->token = prid;
	t->token_len = (uint16_t)prid_len;
	return set_param(t, param, param_len, "") == 0 ? 0 : (*why = "pn-param too long", -EINVAL);
}

int sw_pn_parse(uint8_t form, const char *provider, const char *prid, size_t prid_len,
		const char *param, size_t param_len, struct sw_pn_addr *out, const char **why)
{
	struct sw_pn_target *t = &out->t[0];

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (form == SW_PN_NONE) {
		*why = "no push address";
		return -ENOENT;
	}
	if (strcmp(provider, "apns") == 0) {
		out->prov = SW_PN_PROV_APNS;
	} else if (strcmp(provider, "fcm") == 0) {
		out->prov = SW_PN_PROV_FCM;
	} else if (strcmp(provider, "webpush") == 0 && form == SW_PN_RFC8599) {
		return parse_webpush(prid, prid_len, param, param_len, out, why);
	} else {
		out->prov = SW_PN_PROV_OTHER;
		*why = "a push provider sipwake does not push to";
		return -ENOTSUP;
	}
	if (prid_len == 0) {
		*why = "empty token";
		return -EINVAL;
	}
	if (out->prov == SW_PN_PROV_APNS && form == SW_PN_XPUSH && mem_chr(prid, prid_len, '|'))
		return parse_pair(prid, prid_len, param, param_len, out, why);
	if (out->prov == SW_PN_PROV_APNS && form != SW_PN_XPUSH &&
	    (mem_chr(prid, prid_len, '&') || mem_chr(prid, prid_len, ':')))
		return parse_multi(prid, prid_len, param, param_len, out, why);
	if (mem_chr(prid, prid_len, '|') != NULL || mem_chr(prid, prid_len, '&') != NULL) {
		*why = "a token separator where one token is due";
		return -EINVAL;
	}
	out->n = 1;
	t->token = prid;
	t->token_len = (uint16_t)prid_len;
	if (out->prov == SW_PN_PROV_FCM) {
		t->tok = SW_PN_TOK_ANY;
		return set_param(t, param, param_len, "") == 0
			       ? 0
			       : (*why = "pn-param too long", -EINVAL);
	}
	/* One APNs token: a PortSIP app gives its PushKit token alone; an
	 * RFC 8599 or legacy one says ".voip" in its parameter when it is one. */
	if (form == SW_PN_XPUSH) {
		t->tok = SW_PN_TOK_VOIP;
		return set_param(t, param, param_len, ".voip") == 0
			       ? 0
			       : (*why = "app-id too long", -EINVAL);
	}
	t->tok = ends_with(param, param_len, ".voip") ? SW_PN_TOK_VOIP : SW_PN_TOK_REGULAR;
	return set_param(t, param, param_len, "") == 0 ? 0 : (*why = "pn-param too long", -EINVAL);
}

int sw_pn_pick(const struct sw_pn_addr *a, enum sw_pn_use use, uint8_t dead)
{
	/* Preference per use: the first token kind found alive wins. */
	static const uint8_t order[2][3] = {
		[SW_PN_USE_CALL] = {SW_PN_TOK_VOIP, SW_PN_TOK_ANY, SW_PN_TOK_REGULAR},
		[SW_PN_USE_NOTIFY] = {SW_PN_TOK_REGULAR, SW_PN_TOK_ANY, SW_PN_TOK_ANY},
	};

	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < a->n; i++)
			if (a->t[i].tok == order[use][k] && (dead & (1u << i)) == 0)
				return (int)i;
	return -1;
}

const char *sw_pn_tok_name(uint8_t tok)
{
	return tok == SW_PN_TOK_VOIP ? "voip" : tok == SW_PN_TOK_REGULAR ? "regular" : "any";
}

const char *sw_pn_token_refusal(uint8_t prov, const char *token, size_t len)
{
	if (len == 0)
		return "empty token";
	if (prov == SW_PN_PROV_WEBPUSH)
		return NULL; /* the URL and the keys were read by sw_pn_parse() */
	if (prov == SW_PN_PROV_APNS) {
		if (len > 200)
			return "APNs token longer than 200 characters";
		for (size_t i = 0; i < len; i++) {
			char c = token[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F')))
				return "APNs token not hex";
		}
		return NULL;
	}
	if (len > 255)
		return "FCM token longer than 255 characters";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
			return "FCM token with a byte that is not visible ASCII";
	return NULL;
}
