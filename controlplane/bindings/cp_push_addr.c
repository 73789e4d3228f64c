/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push addresses on the control plane (cp_push_addr.h): what a REGISTER
 * gives, checked once so that sipwake never resolves it differently from
 * the PBX, and the token each push goes to (docs/push-addresses.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "common/sw_pn.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "pushd/pd.h"
#include "pushd/pd_seal.h"

/* One field unescaped into [*at, end); the provider lower-cased and
 * mapped to its RFC 8599 name. */
static int field(const uint8_t *msg, struct sip_slice s, bool provider, uint8_t form,
		 const char **out, uint16_t *len, char **at, const char *end)
{
	char buf[SW_PN_FIELD_MAX];
	int n = sw_unescape(buf, sizeof(buf), sip_ptr(msg, s), s.len);

	if (n < 0)
		return n;
	if (provider) {
		const char *canon;

		for (int i = 0; i < n; i++)
			buf[i] = (char)(buf[i] >= 'A' && buf[i] <= 'Z' ? buf[i] | 0x20 : buf[i]);
		canon = sw_pn_provider_alias(form, buf, (size_t)n);
		if (canon != NULL)
			n = snprintf(buf, sizeof(buf), "%s", canon);
	}
	*out = cp_keep(at, end, buf, (size_t)n);
	*len = (uint16_t)n;
	return *out != NULL ? 0 : -E2BIG;
}

int cp_push_addr_read(const uint8_t *msg, const struct sip_msg *sm, struct sw_bind_rec *rec,
		      char **at, const char *end, const char **why)
{
	const struct sip_push *pn =
		sm->contact.pn.form != SIP_PN_NONE ? &sm->contact.pn : &sm->xpush;
	struct sw_pn_addr a;
	int rc;

	*why = NULL;
	/* Either copy may be the one a PBX keeps: never guess which. */
	if ((sm->contact.pn.flags | sm->xpush.flags) & SIP_PN_DUP) {
		*why = "a push parameter given twice, or two X-Push values that differ";
		return -EBADMSG;
	}
	if (pn->form == SIP_PN_NONE)
		return 0;
	rec->pn_form = pn->form;
	rc = field(msg, pn->provider, true, pn->form, &rec->pn_provider, &rec->pn_provider_len, at,
		   end);
	rc = rc ?: field(msg, pn->prid, false, pn->form, &rec->pn_prid, &rec->pn_prid_len, at, end);
	rc = rc
		     ?: field(msg, pn->param, false, pn->form, &rec->pn_param, &rec->pn_param_len,
			      at, end);
	if (rc != 0) {
		*why = rc == -E2BIG ? "a push parameter too long"
				    : "a bad %-escape in a push parameter";
		return rc;
	}
	rc = sw_pn_parse(rec->pn_form, rec->pn_provider, rec->pn_prid, rec->pn_prid_len,
			 rec->pn_param, rec->pn_param_len, &a, why);
	if (rc == -ENOTSUP)
		return a.prov == SW_PN_PROV_WEBPUSH ? CP_PUSH_ADDR_UNUSABLE : CP_PUSH_ADDR_UNKNOWN;
	return rc == 0 ? 0 : -EBADMSG;
}

static int read_device(const struct sw_device *d, struct sw_pn_addr *a, const char **why)
{
	return sw_pn_parse(d->pn_form, d->pn_provider, d->pn_prid, d->pn_prid_len, d->pn_param,
			   d->pn_param_len, a, why);
}

int cp_push_request_of(const struct sw_device *d, int kind, struct pd_request *rq, const char **why)
{
	const char *w = NULL;
	struct sw_pn_addr a;
	int rc = read_device(d, &a, &w), i;

	if (why == NULL)
		why = &w;
	*why = w;
	if (rc != 0)
		return rc;
	i = sw_pn_pick(&a, kind == PD_KIND_CALL ? SW_PN_USE_CALL : SW_PN_USE_NOTIFY, d->pn_dead);
	if (i < 0) {
		*why = kind == PD_KIND_CALL ? "no live token"
					    : "no live token for alert or background pushes";
		return -ENODEV;
	}
	if (a.t[i].token_len >= sizeof(rq->token) || strlen(a.t[i].param) >= sizeof(rq->param)) {
		*why = "a token or parameter longer than pushd takes";
		return -E2BIG;
	}
	rq->provider = a.prov == SW_PN_PROV_APNS      ? PD_APNS
		       : a.prov == SW_PN_PROV_WEBPUSH ? PD_WEBPUSH
						      : PD_FCM;
	rq->kind = (enum pd_kind)kind;
	rq->token_kind = a.t[i].tok;
	rq->target = (uint8_t)i;
	memcpy(rq->token, a.t[i].token, a.t[i].token_len);
	rq->token[a.t[i].token_len] = '\0';
	/* Its length was checked above (snprintf() would not build at -O0:
	 * -Wformat-truncation cannot see that check). */
	memcpy(rq->param, a.t[i].param, strlen(a.t[i].param) + 1);
	snprintf(rq->device_key, sizeof(rq->device_key), "%016" PRIx64, d->id);
	/* docs/push-encryption.md: a device that gave a key in its last
	 * registration gets every push sealed under it. */
	if (d->push_key_set) {
		memcpy(rq->seal_key, d->push_key, sizeof(rq->seal_key));
		pd_seal_kid(rq->seal_key, rq->seal_kid);
	} else {
		rq->seal_kid[0] = '\0';
	}
	return 0;
}

const char *cp_push_addr_unwakeable(const struct sw_device *d)
{
	const char *why = NULL;
	struct sw_pn_addr a;
	int i;

	if (read_device(d, &a, &why) != 0)
		return why;
	i = sw_pn_pick(&a, SW_PN_USE_CALL, d->pn_dead);
	if (i < 0)
		return "every token is dead";
	return sw_pn_token_refusal(a.prov, a.t[i].token, a.t[i].token_len);
}

unsigned cp_push_addr_timeout(const struct sw_device *d, unsigned min_s, unsigned max_s)
{
	static const char name[] = "pn-timeout=";
	const char *p = strchr(d->contact, ';'), *end = d->contact + d->contact_len;
	const char *q = memchr(d->contact, '?', d->contact_len);
	unsigned long v = 0;

	if (q != NULL)
		end = q;
	for (; p != NULL && p < end; p = memchr(p + 1, ';', (size_t)(end - p - 1))) {
		const char *s = p + 1;
		unsigned n = 0;

		if ((size_t)(end - s) < sizeof(name) - 1 || strncasecmp(s, name, sizeof(name) - 1))
			continue;
		s += sizeof(name) - 1;
		for (v = 0; s < end && *s >= '0' && *s <= '9' && n < 6; s++, n++)
			v = v * 10 + (unsigned long)(*s - '0');
		if (n == 0 || (s < end && *s != ';'))
			v = 0;
		break;
	}
	if (v == 0)
		return 0;
	return v < min_s ? min_s : v > max_s ? max_s : (unsigned)v;
}
