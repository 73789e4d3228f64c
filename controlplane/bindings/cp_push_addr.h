/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Push addresses on the control plane: read from a REGISTER (refused when
 * it reads more than one way), and the token a push goes to
 * (docs/push-addresses.md; the forms are read by common/sw_pn.h).
 */
#ifndef CP_PUSH_ADDR_H
#define CP_PUSH_ADDR_H

#include <stdint.h>
#include <string.h>

#include "common/sw_bind.h"
#include "sip/sip_scan.h"

struct pd_request;

/** Copy @p len bytes and a NUL into [*at, end); NULL when they do not fit. */
static inline const char *cp_keep(char **at, const char *end, const void *p, size_t len)
{
	char *s = *at;

	if ((size_t)(end - s) < len + 1)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	*at = s + len + 1;
	return s;
}

/** cp_push_addr_read(): kept, but no push can go to it (provider unknown). */
#define CP_PUSH_ADDR_UNKNOWN 1
/** cp_push_addr_read(): kept, but no push can go to it (a Web Push
 * subscription sipwake cannot use: bad endpoint URL or keys). */
#define CP_PUSH_ADDR_UNUSABLE 2

/**
 * The push address of a REGISTER (its first Contact's RFC 8599 or legacy
 * parameters, else its X-Push header) into @p rec's pn_* fields, canonical,
 * the strings kept in [*at, end).
 * @param why  set with a static reason when the address is refused.
 * @return 0 (none, or one sipwake can push to), CP_PUSH_ADDR_UNKNOWN (a
 *         provider sipwake does not push to: kept), CP_PUSH_ADDR_UNUSABLE (a
 *         Web Push subscription with a bad endpoint or keys: kept, @p why
 *         says which), -EBADMSG (a parameter
 *         given twice, bad separators, empty or too many tokens: refuse the
 *         REGISTER), -E2BIG / -EINVAL (a field too long, a bad %-escape).
 */
int cp_push_addr_read(const uint8_t *msg, const struct sip_msg *sm, struct sw_bind_rec *rec,
		      char **at, const char *end, const char **why);

/**
 * Fill @p rq's provider, token, token kind, target, param and device_key for
 * a push of @p kind (enum pd_kind) to @p d: the live token that takes it
 * (sw_pn_pick()), and its seal key and kid when the device gave a push key
 * (docs/push-encryption.md). Ids and call fields are the caller's.
 * @param why  set with a static reason on failure (may be NULL).
 * @return 0, -ENOENT (no push address), -ENOTSUP (a provider pushd lacks),
 *         -ENODEV (no live token takes this kind), -E2BIG, -EINVAL.
 */
int cp_push_request_of(const struct sw_device *d, int kind, struct pd_request *rq,
		       const char **why);

/**
 * Why @p d cannot be woken, or NULL when it can (a static string): no push
 * address, a provider sipwake does not push to, no live token for calls,
 * a token the provider would not take.
 */
const char *cp_push_addr_unwakeable(const struct sw_device *d);

/**
 * The wake timeout @p d asked for: its Contact's pn-timeout parameter, in
 * seconds, held within [@p min_s, @p max_s]. Linphone sends pn-timeout=0:
 * 0, absent or not a number means none.
 * @return seconds, or 0 when the device gave none.
 */
unsigned cp_push_addr_timeout(const struct sw_device *d, unsigned min_s, unsigned max_s);

#endif /* CP_PUSH_ADDR_H */
