/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pushd: VoIP pushes to APNs and FCM over HTTP/2 + TLS (nghttp2, OpenSSL).
 * The push thread itself arrives with its own issue; today this library
 * reports the versions of the HTTP/2 and TLS libraries it is built on.
 */
#ifndef PD_H
#define PD_H

/** Runtime nghttp2 version ("1.52.0"). Static string, never NULL. */
const char *pd_nghttp2_version(void);

/** Runtime OpenSSL version ("OpenSSL 3.0.x ..."). Static string, never NULL. */
const char *pd_openssl_version(void);

#endif /* PD_H */
