/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A Web Push subscription as a push address carries it
 * (docs/push-addresses.md, "Web Push"): the push resource URL (pn-prid,
 * RFC 8030 §4) and the user agent's keys (pn-param "<p256dh>.<auth>",
 * base64url, RFC 8291 §2). Read at REGISTER (common/sw_pn.c) and at push
 * time (pushd). No allocation, no crypto: the point's validity on the
 * curve is pushd's to find out.
 */
#ifndef SW_WEBPUSH_H
#define SW_WEBPUSH_H

#include <stddef.h>
#include <stdint.h>

#define SW_WP_P256DH_LEN 65 /**< uncompressed P-256 point: 0x04 || X || Y */
#define SW_WP_AUTH_LEN	 16 /**< RFC 8291 §3.2 authentication secret */

/** An endpoint URL "https://host[:port]/path" split in place. */
struct sw_wp_url {
	const char *host; /**< into the URL; without [ ] for an IPv6 literal */
	size_t host_len;
	uint16_t port;	  /**< 443 when not given */
	const char *path; /**< into the URL, starts with '/' */
	size_t path_len;
	const char *origin; /**< "https://host[:port]", the VAPID "aud" (RFC 8292 §2) */
	size_t origin_len;
};

/**
 * Split an endpoint URL. Refused: not https, no host, a bad port, no path,
 * userinfo, a fragment, a byte that is not visible ASCII.
 * @param why  a static one-line reason on failure.
 * @return 0 or -EINVAL.
 */
int sw_wp_url_split(const char *url, size_t len, struct sw_wp_url *out, const char **why);

/**
 * Decode pn-param "<p256dh>.<auth>" (base64url, padding tolerated).
 * @param why  a static one-line reason on failure.
 * @return 0 or -EINVAL.
 */
int sw_wp_keys(const char *param, size_t len, uint8_t p256dh[SW_WP_P256DH_LEN],
	       uint8_t auth[SW_WP_AUTH_LEN], const char **why);

#endif /* SW_WEBPUSH_H */
