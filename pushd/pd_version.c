/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The versions of the libraries pushd speaks through (nghttp2, OpenSSL),
 * for `sipwake --version` and the start-up log.
 */
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>

#include "pushd/pd.h"

const char *pd_nghttp2_version(void)
{
	const nghttp2_info *info = nghttp2_version(0);

	return info != NULL ? info->version_str : "unknown";
}

const char *pd_openssl_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
