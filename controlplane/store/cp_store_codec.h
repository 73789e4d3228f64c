/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A binding as a value other edges read (docs/cluster.md, "What is where"):
 * one record of fields separated by 0x1f (cp_store_codec.c says which),
 * every field of struct sw_bind_rec but the connection and the edge, which
 * are this edge's alone. And a device key (cp_store_device_key()) read back
 * into the fields that identify a device, for a delete that arrives with
 * nothing else.
 */
#ifndef CP_STORE_CODEC_H
#define CP_STORE_CODEC_H

#include <stddef.h>

#include "common/sw_bind.h"

/** Room for every string of one decoded record, NULs included. */
#define CP_CODEC_BUF (SW_AOR_MAX + SW_CONTACT_MAX + SW_INSTANCE_MAX + 3 * SW_PN_FIELD_MAX + 8)

/**
 * @p r as a record into @p out (@p cap bytes, NUL-terminated).
 * @return its length; -E2BIG (@p cap too small) or -EINVAL (a field holds
 *         0x1f).
 */
int cp_codec_encode(const struct sw_bind_rec *r, char *out, size_t cap);

/**
 * The record @p val (@p len bytes) back into @p r, its strings in @p buf
 * (CP_CODEC_BUF bytes). conn and conn_since are 0.
 * @return 0, or -EINVAL (not a record this version writes, or not a
 *         valid binding).
 */
int cp_codec_decode(const char *val, size_t len, struct sw_bind_rec *r, char *buf);

/**
 * The identity a device key names, into @p r (aor set from @p aor; the
 * instance, push address or contact from @p key; strings point into
 * @p aor, @p key). @return 0, or -EINVAL (not a device key).
 */
int cp_codec_key_rec(const char *aor, size_t alen, const char *key, size_t klen,
		     struct sw_bind_rec *r);

#endif /* CP_STORE_CODEC_H */
