/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Web Push subscriptions read from a push address (sw_webpush.h): the
 * endpoint URL split into its origin and path, the p256dh and auth keys
 * decoded. Checked at REGISTER so that a subscription pushd could never
 * use is counted there rather than at the first call.
 */
#include <errno.h>
#include <string.h>

#include "common/sw_b64.h"
#include "common/sw_webpush.h"

int sw_wp_url_split(const char *url, size_t len, struct sw_wp_url *out, const char **why)
{
	static const char scheme[] = "https://";
	const char *h, *end = url + len, *hend, *p;
	unsigned long port = 443;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(scheme) || memcmp(url, scheme, sizeof(scheme) - 1) != 0) {
		*why = "Web Push endpoint not an https:// URL";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f ||
		    url[i] == '#') {
			*why = "Web Push endpoint with a space, control byte, non-ASCII or #";
			return -EINVAL;
		}
	h = url + sizeof(scheme) - 1;
	p = memchr(h, '/', (size_t)(end - h));
	if (p == NULL) {
		*why = "Web Push endpoint without a path";
		return -EINVAL;
	}
	if (memchr(h, '@', (size_t)(p - h)) != NULL) {
		*why = "Web Push endpoint with userinfo";
		return -EINVAL;
	}
	if (*h == '[') {
		hend = memchr(h, ']', (size_t)(p - h));
		if (hend == NULL || (hend + 1 != p && hend[1] != ':')) {
			*why = "Web Push endpoint with a bad IPv6 literal";
			return -EINVAL;
		}
		out->host = h + 1;
		out->host_len = (size_t)(hend - h - 1);
		hend++;
	} else {
		hend = memchr(h, ':', (size_t)(p - h));
		if (hend == NULL)
			hend = p;
		out->host = h;
		out->host_len = (size_t)(hend - h);
	}
	if (out->host_len == 0 || out->host_len > 253) {
		*why = "Web Push endpoint without a host, or one too long";
		return -EINVAL;
	}
	if (hend != p) { /* ":port" */
		const char *d = hend + 1;

		port = 0;
		if (d == p || p - d > 5) {
			*why = "Web Push endpoint with a bad port";
			return -EINVAL;
		}
		for (; d < p; d++) {
			if (*d < '0' || *d > '9') {
				*why = "Web Push endpoint with a bad port";
				return -EINVAL;
			}
			port = port * 10 + (unsigned long)(*d - '0');
		}
		if (port == 0 || port > 65535) {
			*why = "Web Push endpoint with a bad port";
			return -EINVAL;
		}
	}
	out->port = (uint16_t)port;
	out->path = p;
	out->path_len = (size_t)(end - p);
	out->origin = url;
	/* RFC 6454 §6.1: the default port is left out of an origin's text. */
	out->origin_len = (size_t)((port == 443 ? hend : p) - url);
	return 0;
}

int sw_wp_keys(const char *param, size_t len, uint8_t p256dh[SW_WP_P256DH_LEN],
	       uint8_t auth[SW_WP_AUTH_LEN], const char **why)
{
	const char *dot = memchr(param, '.', len);
	uint8_t buf[SW_WP_P256DH_LEN + 1];

	if (dot == NULL || memchr(dot + 1, '.', (size_t)(param + len - dot - 1)) != NULL) {
		*why = "Web Push pn-param is not <p256dh>.<auth>";
		return -EINVAL;
	}
	if (sw_b64url_decode(param, (size_t)(dot - param), buf, sizeof(buf), SW_B64_LENIENT) !=
		    SW_WP_P256DH_LEN ||
	    buf[0] != 0x04) {
		*why = "Web Push p256dh is not a 65-byte uncompressed P-256 point";
		return -EINVAL;
	}
	memcpy(p256dh, buf, SW_WP_P256DH_LEN);
	if (sw_b64url_decode(dot + 1, (size_t)(param + len - dot - 1), buf, sizeof(buf),
			     SW_B64_LENIENT) != SW_WP_AUTH_LEN) {
		*why = "Web Push auth secret is not 16 bytes";
		return -EINVAL;
	}
	memcpy(auth, buf, SW_WP_AUTH_LEN);
	return 0;
}
