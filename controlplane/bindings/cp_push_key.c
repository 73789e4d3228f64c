/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The push key of a REGISTER (cp_push_key.h, docs/push-encryption.md).
 * The key's bytes are a secret shared by the app and sipwake: they are
 * copied into the binding and nowhere else (no log line, no trace, no
 * telemetry but the key id).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/sw_b64.h"
#include "common/sw_tp.h"
#include "controlplane/bindings/cp_push_key.h"
#include "pushd/pd_seal.h"

bool cp_push_key_hdr(const uint8_t *msg, const struct sip_hdr *h)
{
	return h->name.len == sizeof(CP_PUSH_KEY_HDR) - 1 &&
	       strncasecmp(sip_ptr(msg, h->name), CP_PUSH_KEY_HDR, h->name.len) == 0;
}

int cp_push_key_read(const uint8_t *msg, const struct sip_msg *sm, uint8_t tp,
		     struct sw_bind_rec *rec)
{
	const struct sip_hdr *key = NULL;
	uint8_t buf[SW_PUSH_KEY_LEN + 3];
	int n;

	rec->push_key_set = 0;
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		if (!cp_push_key_hdr(msg, &sm->hdrs[i]))
			continue;
		/* Two keys: which one would the app decrypt with? */
		if (key != NULL)
			return -EINVAL;
		key = &sm->hdrs[i];
	}
	if (key == NULL)
		return 0;
	/* Over a path anyone on it can read, the key is no secret: refused
	 * before the header's value is even looked at. */
	if (tp != SW_TP_TLS && tp != SW_TP_WSS)
		return -EPERM;
	n = sw_b64url_decode(sip_ptr(msg, key->value), key->value.len, buf, sizeof(buf), 0);
	if (n != SW_PUSH_KEY_LEN) {
		memset(buf, 0, sizeof(buf));
		return -EINVAL;
	}
	memcpy(rec->push_key, buf, SW_PUSH_KEY_LEN);
	memset(buf, 0, sizeof(buf));
	rec->push_key_set = 1;
	return 0;
}
