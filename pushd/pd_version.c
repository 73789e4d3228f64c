/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names pushd gives out: the versions of the libraries it speaks through
 * (nghttp2, OpenSSL), for `sipwake --version` and the start-up log, and
 * the providers' (config groups, telemetry keys). Calls nothing of pushd.
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

const char *pd_provider_name(enum pd_provider p)
{
	static const char *const names[PD_N_PROVIDERS] = {"apns", "fcm", "webpush"};

	return (unsigned)p < PD_N_PROVIDERS ? names[p] : "unknown";
}
