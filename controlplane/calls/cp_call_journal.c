/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls (docs/design.md §7, "Held calls and a crash"):
 * every INVITE the wake path holds is in the store from its 100 Trying to
 * its final answer, so that a sipwake killed in between (kill -9, a crash,
 * the host's power) answers it at its next start instead of leaving the
 * PBX's caller ringing into nothing until the PBX's own Timer C.
 *
 *   held          cp_call_journal_put(): key (Call-ID 0x1f top Via
 *                 branch), the PBX's address and port, the deadline, our
 *                 To-tag and the INVITE's bytes, in the round's batch
 *   final answer  cp_call_upstream() (200 relayed, 480, 487, 503 at stop,
 *                 a device's best refusal): cp_call_journal_del(), same batch
 *   start         cp_call_journal_replay() (cp_call_replay.c): each one left is a call a crash
 *                 cut off; it is answered 480 at once (the wake it waited
 *                 for is lost with the push in flight: the caller's next
 *                 attempt wakes the device), whatever its deadline, through
 *                 the wake path's table, so Timer G repeats the 480 until
 *                 the PBX ACKs it (the neighbour may still be resolving).
 *
 * No store (bindings.store unset): nothing is journaled. A MESSAGE is
 * never journaled: the PBX retransmits it until its Timer F, and the next
 * sipwake takes the retransmission as a new MESSAGE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/calls/cp_call_journal.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"

#define KEY_SEP '\x1f'

/* A store that fails, fails every call: said at most once a second. */
static void journal_warn(struct cp_ctx *cp, const char *what)
{
	static uint64_t next_ms;
	uint64_t now = sw_mono_ms();

	if (now < next_ms)
		return;
	next_ms = now + 1000;
	CP_LOG(WARNING, "%s: %s", what, cp_store_error(cp->store));
}

/* The key of the call: Call-ID, 0x1f, the PBX's top Via branch. */
static int key_of(const uint8_t *msg, const struct sip_msg *sm, char *out, size_t cap)
{
	size_t n = sm->call_id.len + 1 + sm->via.branch.len;

	if (sm->call_id.len == 0 || n > cap)
		return -E2BIG;
	memcpy(out, sip_ptr(msg, sm->call_id), sm->call_id.len);
	out[sm->call_id.len] = KEY_SEP;
	memcpy(out + sm->call_id.len + 1, sip_ptr(msg, sm->via.branch), sm->via.branch.len);
	return (int)n;
}

void cp_call_journal_put(struct cp_ctx *cp, struct cp_store_held *h, const uint8_t *msg,
			 const struct sip_msg *sm, char **jkey, uint16_t *jkey_len)
{
	char key[1024]; /* a longer Call-ID is not journaled */
	int klen;

	if (cp->store == NULL)
		return;
	klen = key_of(msg, sm, key, sizeof(key));
	if (klen < 0 || (*jkey = malloc((size_t)klen)) == NULL)
		return; /* out of memory: the call goes on, unjournaled */
	memcpy(*jkey, key, (size_t)klen);
	*jkey_len = (uint16_t)klen;
	h->key = *jkey;
	h->key_len = (size_t)klen;
	if (cp_store_held_put(cp->store, h) != 0)
		journal_warn(cp, "held call not journaled");
	cp_bind_touch(cp);
}

void cp_call_journal_del(struct cp_ctx *cp, char **jkey, uint16_t *jkey_len)
{
	if (cp->store != NULL && cp_store_held_del(cp->store, *jkey, *jkey_len) != 0)
		journal_warn(cp, "held call left in the journal");
	cp_bind_touch(cp);
	free(*jkey);
	*jkey = NULL;
	*jkey_len = 0;
}
