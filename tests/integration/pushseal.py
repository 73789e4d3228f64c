# SPDX-License-Identifier: BSD-3-Clause
"""The reference decryptor of sealed pushes (docs/push-encryption.md): what
an app does with a push sipwake sealed under the key it handed in its
REGISTER, written with python3's ``cryptography`` (Debian's
python3-cryptography) and nothing of sipwake's, so that a test that opens a
push with it proves the format as documented, not as pushd happens to
write it::

    key = pushseal.new_key()                  # 32 random bytes
    hdr = "Sipwake-Push-Key: " + pushseal.b64url(key)
    ...
    env = pushseal.envelope(json.loads(body)) # APNs "sw" or FCM sw_* fields
    meta = pushseal.open_push(key, env)       # the call metadata, a dict

Every function raises ValueError (or cryptography's InvalidTag) on a push
that does not open: a wrong key, kid, or a byte changed."""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AAD_PREFIX = b"sipwake-push-v1:"


def new_key():
    """A fresh push key, as an app makes one for each registration."""
    return os.urandom(32)


def b64url(raw):
    """base64url without padding (RFC 4648 §5), as the header and the push use it."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text):
    """The bytes of base64url text without padding; ValueError if it is not."""
    if "=" in text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("not base64url: %r" % text)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def kid_of(key):
    """The key id: the first 8 bytes of SHA-256(key), 16 lower-case hex."""
    return hashlib.sha256(key).hexdigest()[:16]


def envelope(body):
    """The sealed envelope of a push body (parsed JSON) as
    {"v", "kid", "n", "ct"}: APNs carries it under "sw", FCM as the data
    fields sw_v, sw_kid, sw_n, sw_ct (strings). None: not sealed."""
    if "sw" in body:
        return body["sw"]
    data = body.get("message", {}).get("data", {})
    if "sw_ct" in data:
        return {"v": int(data["sw_v"]), "kid": data["sw_kid"], "n": data["sw_n"],
                "ct": data["sw_ct"]}
    return None


def open_push(key, env):
    """The call metadata (a dict: kind, call_id, caller_number, caller_name,
    aor, push_id) sealed in @env under @key. ValueError: another version,
    or sealed under another key (the kid says so); InvalidTag: the AAD, the
    nonce or a byte of the ciphertext is not what was sealed."""
    if env.get("v") != 1:
        raise ValueError("version %r" % env.get("v"))
    if env["kid"] != kid_of(key):
        raise ValueError("sealed under key %s, not %s" % (env["kid"], kid_of(key)))
    nonce = unb64url(env["n"])
    if len(nonce) != 12:
        raise ValueError("nonce of %d bytes" % len(nonce))
    aad = AAD_PREFIX + env["kid"].encode()
    return json.loads(AESGCM(key).decrypt(nonce, unb64url(env["ct"]), aad))
