/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The push key an app hands in its REGISTER (docs/push-encryption.md):
 * "Sipwake-Push-Key: <base64url of 32 bytes>", taken over TLS or WSS only,
 * never relayed to the PBX, never logged. Internal to controlplane/.
 */
#ifndef CP_PUSH_KEY_H
#define CP_PUSH_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sw_bind.h"
#include "sip/sip_scan.h"

#define CP_PUSH_KEY_HDR "Sipwake-Push-Key"

/** Is @p h (a header of the message at @p msg) a Sipwake-Push-Key field? */
bool cp_push_key_hdr(const uint8_t *msg, const struct sip_hdr *h);

/**
 * Read the push key of the REGISTER at @p msg, which came over transport
 * @p tp (enum sw_tp), into @p rec (push_key_set 0 when it carries none).
 * @return 0; -EPERM (a key over UDP, TCP or WS: it could have been read on
 *         the way); -EINVAL (not base64url of 32 bytes, or given twice).
 */
int cp_push_key_read(const uint8_t *msg, const struct sip_msg *sm, uint8_t tp,
		     struct sw_bind_rec *rec);

#endif /* CP_PUSH_KEY_H */
