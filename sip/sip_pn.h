/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The vocabulary of push addresses in SIP (RFC 8599 §4.1, the legacy
 * Linphone parameters, PortSIP's header): which form a push address came
 * in, what a URI parameter name means for it. Shared by the scanner
 * (sip/sip_contact.c, sip/sip_scan.c), the push-address readers
 * (sip/sip_push.c) and the workers, which strip these parameters from what
 * they forward. Nothing here depends on the rest of the scanner.
 */
#ifndef SIP_PN_H
#define SIP_PN_H

#include <stdbool.h>
#include <stdint.h>

/** How a device gave its push address. */
enum sip_pn_form {
	SIP_PN_NONE = 0,
	SIP_PN_RFC8599, /**< Contact URI pn-provider / pn-prid / pn-param (RFC 8599 §4.1) */
	SIP_PN_LEGACY,	/**< Contact URI pn-type / app-id / pn-tok (Linphone, pre-RFC 8599) */
	SIP_PN_XPUSH,	/**< X-Push header: device-os / device-uid / app-id (PortSIP style) */
};

/** sip_push.flags */
#define SIP_PN_DUP 0x01 /**< a push parameter given twice, or two X-Push values that differ */

/** What a URI parameter name means for push addresses (sip_pn_name()). */
enum sip_pn_name {
	SIP_PN_NAME_NOT = 0, /**< not a push parameter */
	SIP_PN_NAME_ALWAYS,  /**< pn-provider, pn-prid, pn-param, pn-tok: always one */
	SIP_PN_NAME_TYPE,    /**< pn-type: the legacy form (app-id is then one too) */
	SIP_PN_NAME_APP_ID,  /**< app-id: a push parameter only next to pn-type */
};

/** RFC 8599 §4.1 names and the legacy ones, any case. Inline: the workers
 *  strip them from every forwarded Request-URI and Contact. */
static inline enum sip_pn_name sip_pn_name(const uint8_t *p, uint32_t n)
{
	/* Letters, digits and "-" all have bit 5 set: OR 0x20 folds the case
	 * of the input only. */
#define SIP_PN_IEQ(lit)                                                      \
	({                                                                   \
		bool eq_ = true;                                             \
		for (uint32_t i_ = 0; i_ < n && eq_; i_++)                   \
			eq_ = (uint8_t)(p[i_] | 0x20) == (uint8_t)(lit)[i_]; \
		eq_;                                                         \
	})
	switch (n) {
	case 11:
		return SIP_PN_IEQ("pn-provider") ? SIP_PN_NAME_ALWAYS : SIP_PN_NAME_NOT;
	case 8:
		return SIP_PN_IEQ("pn-param") ? SIP_PN_NAME_ALWAYS : SIP_PN_NAME_NOT;
	case 7:
		return SIP_PN_IEQ("pn-prid")   ? SIP_PN_NAME_ALWAYS
		       : SIP_PN_IEQ("pn-type") ? SIP_PN_NAME_TYPE
					       : SIP_PN_NAME_NOT;
	case 6:
		return SIP_PN_IEQ("pn-tok")   ? SIP_PN_NAME_ALWAYS
		       : SIP_PN_IEQ("app-id") ? SIP_PN_NAME_APP_ID
					      : SIP_PN_NAME_NOT;
	default:
		return SIP_PN_NAME_NOT;
	}
#undef SIP_PN_IEQ
}

#endif /* SIP_PN_H */
