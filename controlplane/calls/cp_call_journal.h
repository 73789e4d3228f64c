/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls (cp_call_journal.c; docs/design.md §7, "Held
 * calls and a crash"): what the wake path writes to the store and takes
 * out again. It knows the store, not the wake path's calls: a call keeps
 * its journal key in the two fields it passes here.
 */
#ifndef CP_CALL_JOURNAL_H
#define CP_CALL_JOURNAL_H

#include <stdint.h>

#include "sip/sip_scan.h"

struct cp_ctx;
struct cp_store_held;

/**
 * Journal the INVITE @p msg (scanned: @p sm) in the round's batch, its
 * record @p h but for the key (Call-ID 0x1f top Via branch), which is
 * made here and kept in *@p jkey / *@p jkey_len (malloc'ed) for
 * cp_call_journal_del(). Nothing without a store; a failed write is
 * logged: the call goes on, unjournaled.
 */
void cp_call_journal_put(struct cp_ctx *cp, struct cp_store_held *h, const uint8_t *msg,
			 const struct sip_msg *sm, char **jkey, uint16_t *jkey_len);

/** The call of *@p jkey got its final answer (or is freed without one):
 *  out of the journal; *@p jkey freed and NULL. */
void cp_call_journal_del(struct cp_ctx *cp, char **jkey, uint16_t *jkey_len);

#endif /* CP_CALL_JOURNAL_H */
