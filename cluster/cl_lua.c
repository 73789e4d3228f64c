/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis function library "sipwake" (Redis >= 7.0: FUNCTION LOAD,
 * FCALL, EXPIRETIME, XINFO's entries-added), loaded with REPLACE on each
 * writer connection. Each change is atomic in Redis (a batch too: one
 * function call): the binding, the AOR's set and the feed entry move
 * together, and a change
 * older than the stored one changes nothing: newest wins, by (stamp, edge
 * name), so two edges writing one device in the same second agree on the
 * winner with Redis (controlplane/bindings/cp_bind_remote.c orders the
 * same way); the same stamp from the same edge writes again, so a batch
 * retried after an unknown fate is harmless.
 *
 * Stamps are wall seconds: Lua's doubles hold them exactly.
 *
 *   sipwake_batch   no KEYS; ARGV feed edge maxlen prefix, then per change:
 *                   kind (p, d, D) aor key val stamp expires_at; returns
 *                   one 0 / 1 per change (what the writer sends: one call
 *                   per batch, atomic as MULTI / EXEC is, a fifth of the
 *                   commands and one reply; keys are made from the prefix
 *                   here, which standalone Redis allows and Redis Cluster
 *                   would not: docs/cluster.md, "Ten million devices")
 *   sipwake_put     KEYS b, a, feed  ARGV edge aor key val stamp expires_at maxlen
 *   sipwake_del     KEYS b, a, feed  ARGV edge aor key stamp maxlen
 *   sipwake_del_aor KEYS a, feed     ARGV edge aor stamp maxlen bprefix
 *                   (one change each: for tools and tests)
 * put and del return 1 (written) or 0 (stale: a newer stamp is stored);
 * del_aor returns 1, having deleted every binding of the AOR not newer
 * than its stamp (bprefix: "<prefix>b:<aor>\x1f", the key of a binding
 * without its device key).
 *
 * The AOR's set expires with its last binding: EXPIREAT ... GT would
 * take a set without expiry (just made by SADD) as never expiring, so the
 * maximum is taken here.
 */
#include "cluster/cl_internal.h"

/* clang-format off */
const char cl_lua_src[] =
"#!lua name=sipwake\n"
"local function feed(f, maxlen, edge, o, aor, key, val, s, x)\n"
"  redis.call('XADD', f, 'MAXLEN', '~', maxlen, '*', 'e', edge, 'o', o,\n"
"             'a', aor, 'k', key, 'v', val, 's', s, 'x', x)\n"
"end\n"
"\n"
"local function newer(b, s, edge)\n"
"  local old = redis.call('HMGET', b, 's', 'e')\n"
"  if not old[1] then return false end\n"
"  local os, ns = tonumber(old[1]), tonumber(s)\n"
"  return os > ns or (os == ns and (old[2] or '') > edge)\n"
"end\n"
"\n"
"local function put(b, a, f, edge, aor, key, val, s, x, maxlen)\n"
"  if newer(b, s, edge) then return 0 end\n"
"  redis.call('HSET', b, 'v', val, 's', s, 'e', edge)\n"
"  redis.call('EXPIREAT', b, x)\n"
"  redis.call('SADD', a, key)\n"
"  local t = redis.call('EXPIRETIME', a)\n"
"  if t < tonumber(x) then redis.call('EXPIREAT', a, x) end\n"
"  feed(f, maxlen, edge, 'p', aor, key, val, s, x)\n"
"  return 1\n"
"end\n"
"\n"
"local function del(b, a, f, edge, aor, key, s, maxlen)\n"
"  if newer(b, s, edge) then return 0 end\n"
"  redis.call('DEL', b)\n"
"  redis.call('SREM', a, key)\n"
"  feed(f, maxlen, edge, 'd', aor, key, '', s, '0')\n"
"  return 1\n"
"end\n"
"\n"
"local function del_aor(a, f, edge, aor, s, maxlen, bprefix)\n"
"  for _, key in ipairs(redis.call('SMEMBERS', a)) do\n"
"    local b = bprefix .. key\n"
"    if not newer(b, s, edge) then\n"
"      redis.call('DEL', b)\n"
"      redis.call('SREM', a, key)\n"
"    end\n"
"  end\n"
"  feed(f, maxlen, edge, 'D', aor, '', '', s, '0')\n"
"  return 1\n"
"end\n"
"\n"
"redis.register_function('sipwake_put', function(keys, args)\n"
"  local edge, aor, key, val, s, x, maxlen = unpack(args)\n"
"  return put(keys[1], keys[2], keys[3], edge, aor, key, val, s, x, maxlen)\n"
"end)\n"
"\n"
"redis.register_function('sipwake_del', function(keys, args)\n"
"  local edge, aor, key, s, maxlen = unpack(args)\n"
"  return del(keys[1], keys[2], keys[3], edge, aor, key, s, maxlen)\n"
"end)\n"
"\n"
"redis.register_function('sipwake_del_aor', function(keys, args)\n"
"  local edge, aor, s, maxlen, bprefix = unpack(args)\n"
"  return del_aor(keys[1], keys[2], edge, aor, s, maxlen, bprefix)\n"
"end)\n"
"\n"
"redis.register_function('sipwake_batch', function(keys, args)\n"
"  local f, edge, maxlen, prefix = args[1], args[2], args[3], args[4]\n"
"  local out = {}\n"
"  for i = 5, #args, 6 do\n"
"    local o, aor, key, val, s, x = args[i], args[i + 1], args[i + 2], args[i + 3],\n"
"                                   args[i + 4], args[i + 5]\n"
"    local a, bp = prefix .. 'a:' .. aor, prefix .. 'b:' .. aor .. '\\31'\n"
"    if o == 'p' then\n"
"      out[#out + 1] = put(bp .. key, a, f, edge, aor, key, val, s, x, maxlen)\n"
"    elseif o == 'd' then\n"
"      out[#out + 1] = del(bp .. key, a, f, edge, aor, key, s, maxlen)\n"
"    else\n"
"      out[#out + 1] = del_aor(a, f, edge, aor, s, maxlen, bp)\n"
"    end\n"
"  end\n"
"  return out\n"
"end)\n";
/* clang-format on */
