/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * base64url decoding (RFC 4648 §5), for what apps hand sipwake: a push key
 * (strict: docs/push-encryption.md) and a Web Push subscription's keys
 * (lenient: browsers' and apps' encoders differ, docs/push-addresses.md).
 */
#ifndef SW_B64_H
#define SW_B64_H

#include <stddef.h>
#include <stdint.h>

/** Also take base64's '+' and '/', '=' padding, and nonzero unused bits. */
#define SW_B64_LENIENT 1u

/**
 * Decode base64url without line breaks or white space. Strict by default:
 * the alphabet A-Z a-z 0-9 - _ only, no padding, the unused bits of the
 * last character zero (RFC 4648 §3.5), so one value has one spelling.
 * @param flags  0 or SW_B64_LENIENT.
 * @return bytes written to @p out, -EINVAL (not base64url), -ENOSPC (over @p cap).
 */
int sw_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap, unsigned flags);

#endif /* SW_B64_H */
