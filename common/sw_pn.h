/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What a stored push address names: its tokens, which pushes each one
 * takes, and the parameter pushd picks a credential by (docs/push-addresses.md).
 *
 * A device keeps its push address as the app wrote it (unescaped, the
 * provider canonical: sw_bind.h), because that is what the PBX echoes and
 * what the binding table is keyed by. This module reads it at push time:
 * - an iOS app may give two tokens, a VoIP (PushKit) token, which takes
 *   only VoIP pushes, and its regular token, which takes alert and
 *   background pushes: RFC 8599 as Linphone sends it,
 *   pn-prid=<remote>:remote&<voip>:voip;pn-param=TEAM.bundle.remote&voip,
 *   or PortSIP's device-uid=<voip>|<regular>;
 * - one APNs token is a VoIP token when its pn-param ends in ".voip"
 *   (X-Push: always, PortSIP apps wake by PushKit), a regular one otherwise;
 * - an FCM token takes every push;
 * - a Web Push subscription (RFC 8599 pn-provider=webpush) is one "token",
 *   its endpoint URL, which takes every push; pn-param carries its keys
 *   (common/sw_webpush.h).
 * Nothing here allocates or looks anything up: the control plane calls it
 * per push and per REGISTER.
 */
#ifndef SW_PN_H
#define SW_PN_H

#include <stddef.h>
#include <stdint.h>

#include "common/sw_bind.h"

/** Which service a token belongs to. */
enum sw_pn_tok {
	SW_PN_TOK_ANY = 0,     /**< takes every push (FCM) */
	SW_PN_TOK_VOIP = 1,    /**< APNs PushKit token: VoIP pushes only */
	SW_PN_TOK_REGULAR = 2, /**< APNs regular token: alert and background pushes */
};

/** What a push is for, as far as choosing a token goes. */
enum sw_pn_use {
	SW_PN_USE_CALL = 0,   /**< wake the app for a call */
	SW_PN_USE_NOTIFY = 1, /**< alert (missed call) or background (refresh) */
};

/** Provider of a push address. */
enum sw_pn_prov {
	SW_PN_PROV_NONE = 0,
	SW_PN_PROV_APNS,
	SW_PN_PROV_FCM,
	SW_PN_PROV_OTHER,   /**< relayed and kept, but sipwake cannot push to it */
	SW_PN_PROV_WEBPUSH, /**< Web Push (RFC 8030): pn-prid the endpoint URL */
};

#define SW_PN_TARGETS_MAX 2

/** One token of a push address. */
struct sw_pn_target {
	uint8_t tok; /**< enum sw_pn_tok */
	uint16_t token_len;
	const char *token;	     /**< borrowed from the device's pn_prid; not NUL-terminated */
	char param[SW_PN_FIELD_MAX]; /**< APNs "TEAM.bundle[.voip]" (or the bundle alone),
				      *   FCM project id or package name, Web Push
				      *   "<p256dh>.<auth>" */
};

/** A push address read into its tokens. */
struct sw_pn_addr {
	uint8_t prov; /**< enum sw_pn_prov */
	uint8_t n;    /**< targets in @ref t */
	struct sw_pn_target t[SW_PN_TARGETS_MAX];
};

/**
 * Read a canonical push address (struct sw_bind_rec's pn_* fields).
 * @param why  on failure, a static one-line reason ("empty token", ...).
 * @return 0; -ENOENT (no push address: form SW_PN_NONE); -ENOTSUP (a
 *         provider sipwake cannot push to: @p out->prov is SW_PN_PROV_OTHER;
 *         or a Web Push subscription it cannot use, a bad endpoint URL or
 *         keys: @p out->prov is SW_PN_PROV_WEBPUSH, @p why says which);
 *         -EINVAL (malformed: what the REGISTER that carries it is refused for).
 */
int sw_pn_parse(uint8_t form, const char *provider, const char *prid, size_t prid_len,
		const char *param, size_t param_len, struct sw_pn_addr *out, const char **why);

/**
 * The index in @p a of the token a push of @p use goes to, skipping the
 * tokens whose bit is set in @p dead (bit i: target i is dead). A call goes
 * to the VoIP token, else to a token that takes anything, else to the
 * regular token (an alert: an app without PushKit shows a notification);
 * alert and background pushes never go to a VoIP token.
 * @return the index, or -1 when no live token takes that push.
 */
int sw_pn_pick(const struct sw_pn_addr *a, enum sw_pn_use use, uint8_t dead);

/** "voip", "regular" or "any". */
const char *sw_pn_tok_name(uint8_t tok);

/**
 * Would the provider take @p token as a token at all? APNs: hex, 1..200
 * characters (64 today). FCM: 1..255 visible ASCII characters. Web Push:
 * any (sw_pn_parse() has checked the subscription).
 * @return NULL when it would, else why not (a static string).
 */
const char *sw_pn_token_refusal(uint8_t prov, const char *token, size_t len);

#endif /* SW_PN_H */
