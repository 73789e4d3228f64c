/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The expiry a registrar's 2xx grants our contact (RFC 3261 §10.3 step 8):
 * its expires= in the 2xx's Contact list, else the 2xx's Expires, else what
 * the app asked; 0 when the 2xx does not list our contact.
 *
 * Every expiry the 2xx gives our contact counts and the smallest wins:
 * expires= repeated (a PBX echoing the app's and adding its own), our
 * contact listed twice, Expires repeated. Which one the PBX keeps, or the
 * app reads, cannot be known; with the smallest, sipwake never holds the
 * app reachable longer than any of them says, and its refresh push
 * (wake.refresh_before_s) comes before the shortest runs out, so the app's
 * re-REGISTER renews every reading. A value that does not parse is another
 * matter: it could be any expiry, so nothing is taken ("unread"), and the
 * caller relays the 2xx without binding (docs/design.md §1.1).
 */
#include <string.h>

#include "controlplane/relay/cp_reg_grant.h"

#define MAX_CONTACTS 64 /* values read per Contact field; more: not found */

struct cp_reg_grant cp_reg_grant_of(const uint8_t *msg, const struct sip_msg *sm,
				    const char *contact, size_t len, int32_t asked, bool star)
{
	struct sip_contact cs[MAX_CONTACTS];
	struct cp_reg_grant g = {.expires = -1};
	bool cut = false;

	if (star) {
		g.expires = 0;
		return g;
	}
	if (sm->contact_bad) {
		g.unread = "its Contact list does not parse";
		return g;
	}
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		int n;

		if (sm->hdrs[i].id != SIP_H_CONTACT)
			continue;
		n = sip_contacts(msg, sm->hdrs[i].value, cs, MAX_CONTACTS);
		if (n < 0) {
			g.unread = "its Contact list does not parse";
			return g;
		}
		cut |= n == MAX_CONTACTS;
		for (int k = 0; k < n; k++) {
			int32_t e;

			if (cs[k].uri.whole.len != len ||
			    memcmp(sip_ptr(msg, cs[k].uri.whole), contact, len) != 0)
				continue;
			if (cs[k].expires >= 0)
				e = cs[k].expires;
			else if (sm->expires >= 0)
				e = sm->expires;
			else if (sm->expires_bad) {
				g.unread = "no expiry for the contact parses";
				return g;
			} else
				e = asked >= 0 ? asked : CP_REG_DEFAULT_EXPIRES;
			g.several |= cs[k].expires_differ || (g.expires >= 0 && e != g.expires);
			if (g.expires < 0 || e < g.expires)
				g.expires = e;
		}
	}
	if (g.expires >= 0)
		return g;
	if (cut)
		g.unread = "its Contact list is longer than sipwake reads";
	else
		g.expires = 0; /* not listed: not bound (§10.3 step 8) */
	return g;
}
