/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a registrar's 2xx grants the contact a relayed REGISTER asked for
 * (docs/design.md §1.1, "What a 2xx grants"): plain C over the scanner's
 * result, so its unit test links it alone. Internal to relay/.
 */
#ifndef CP_REG_GRANT_H
#define CP_REG_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip_scan.h"

/** Expiry taken when neither the 2xx nor the REGISTER gives one. */
#define CP_REG_DEFAULT_EXPIRES 3600

/** What the 2xx grants. */
struct cp_reg_grant {
	int32_t expires;    /**< seconds; 0 removes (or binds nothing) */
	const char *unread; /**< static text: why nothing can be taken; NULL: expires holds */
	bool several;	    /**< several different expiries: the smallest was taken */
};

/**
 * Read the grant of a scanned 2xx to a REGISTER.
 *
 * @param msg, sm   the 2xx and its scan (borrowed).
 * @param contact   the contact URI the REGISTER asked to bind, as sent
 *                  (borrowed, @p len bytes); NULL with @p star.
 * @param asked     the app's expiry for it, -1 when it gave none.
 * @param star      the REGISTER was "Contact: *".
 * @return the grant; never fails (unread says why nothing is taken).
 */
struct cp_reg_grant cp_reg_grant_of(const uint8_t *msg, const struct sip_msg *sm,
				    const char *contact, size_t len, int32_t asked, bool star);

#endif /* CP_REG_GRANT_H */
