/* SPDX-License-Identifier: BSD-3-Clause */
/* base64url decoding (sw_b64.h). */
#include <errno.h>
#include <stdbool.h>

#include "common/sw_b64.h"

static int b64_val(unsigned char c, bool lenient)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || (lenient && c == '+'))
		return 62;
	if (c == '_' || (lenient && c == '/'))
		return 63;
	return -1;
}

int sw_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap, unsigned flags)
{
	bool lenient = (flags & SW_B64_LENIENT) != 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	while (lenient && len > 0 && in[len - 1] == '=')
		len--;
	/* One character left over carries 6 bits: never a whole byte. */
	if (len % 4 == 1)
		return -EINVAL;
	if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > cap)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		int v = b64_val((unsigned char)in[i], lenient);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc != 0 && !lenient ? -EINVAL : (int)o;
}
