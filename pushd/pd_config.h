/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pushd configuration: the `push { }` group of sipwake.conf (libconfig),
 * validated with the same error style as the rest of the config
 * ("file:line: push.apns.[0].key_file: expected ..., got ...").
 * Needs libconfig and libc only.
 */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define PD_MAX_CREDS 8
#define PD_PATH_LEN  256
#define PD_HOST_LEN  256

/** One APNs credential: token auth (.p8 key) or certificate auth. */
struct pd_apns_cfg {
	char team_id[16];	     /**< 10-character Apple team id */
	char bundle_id[128];	     /**< app bundle id; topics are <bundle> and <bundle>.voip */
	char key_id[16];	     /**< token auth: key id of key_file */
	char key_file[PD_PATH_LEN];  /**< token auth: AuthKey_<key_id>.p8 (PKCS#8 P-256) */
	char cert_file[PD_PATH_LEN]; /**< certificate auth: client certificate PEM */
	char cert_key_file[PD_PATH_LEN]; /**< certificate auth: its private key PEM */
	char host[PD_HOST_LEN];		 /**< endpoint host (api.push.apple.com) */
	uint16_t port;			 /**< endpoint port (443) */
	char ca_file[PD_PATH_LEN];	 /**< CA bundle to verify the server; "" = system */
};

/** One FCM HTTP v1 credential (a Firebase project's service account). */
struct pd_fcm_cfg {
	char project[128]; /**< Firebase project id */
	char package[128]; /**< Android package name apps may give instead of the project id
			    *   (PortSIP's app-id); "" none */
	char service_account_file[PD_PATH_LEN]; /**< service-account JSON */
	char token_url[PD_PATH_LEN];		/**< OAuth2 token endpoint; "" = from the JSON */
	char host[PD_HOST_LEN];			/**< endpoint host (fcm.googleapis.com) */
	uint16_t port;
	char ca_file[PD_PATH_LEN];
};

/** The Web Push credential: the VAPID key (RFC 8292) every push is signed
 * with, whatever push service the endpoint names. */
struct pd_webpush_cfg {
	char vapid_key[PD_PATH_LEN]; /**< P-256 private key PEM (PKCS#8 or SEC1) */
	char subject[256];	     /**< VAPID "sub": mailto: or https: contact */
	char ca_file[PD_PATH_LEN];   /**< CA bundle to verify push services; "" = system */
	uint32_t max_origins;	     /**< push-service origins (host:port) connected at once,
				      *   1..1024 (64); past it the least-recently-used idle
				      *   one is closed */
	uint32_t origin_idle_s;	     /**< an origin unused this long is closed, 5..3600 (120) */
};

struct pd_config {
	unsigned n_apns, n_fcm, n_webpush;
	struct pd_apns_cfg apns[PD_MAX_CREDS];
	struct pd_fcm_cfg fcm[PD_MAX_CREDS];
	struct pd_webpush_cfg webpush[PD_MAX_CREDS];
	uint32_t wake_window_s;	  /**< deadline (so expiry) of pushes without one (30) */
	uint32_t ring_size;	  /**< request and result rings, power of 2 (1024) */
	uint32_t jwt_renew_s;	  /**< APNs provider token renewal, 1200..3300 (3000) */
	uint32_t ping_interval_s; /**< PING an idle connection this often (30) */
	uint32_t retry_base_ms;	  /**< first retry backoff, doubling (100) */
	uint32_t retry_max_ms;	  /**< backoff cap (5000) */
	uint32_t apns_expire_now; /**< true: apns-expiration 0 (deliver now or never)
				       instead of the push's deadline (false) */
	uint32_t max_pending;	  /**< pushes pushd holds at once, 64..1048576 (65536); past
				       that it leaves them in the ring, which then refuses
				       (-ENOBUFS): memory stays bounded */
	uint32_t max_connections; /**< per credential, 1..16 (4): extra ones only past the
				       server's SETTINGS_MAX_CONCURRENT_STREAMS */
	/**
	 * TEST ONLY, not settable from a config file: when non-zero, replaces
	 * jwt_renew_s and the 20-minute renewal floor (APNs answers 429
	 * TooManyProviderTokenUpdates to faster renewals).
	 */
	uint32_t test_jwt_renew_s;
};

/** Fill @p cfg with the defaults above and no credentials. */
void pd_config_defaults(struct pd_config *cfg);

/**
 * Validate a libconfig `push` group into @p cfg (which should hold the
 * defaults). @p setting is a `const config_setting_t *`, typed void here so
 * that this header does not need libconfig.h.
 *
 * @param file   name for messages when libconfig knows none (borrowed).
 * @param err    one line naming file, line, key path, what was expected and
 *               what was found.
 * @return 0 or -EINVAL.
 */
int pd_config_parse(const void *setting, const char *file, struct pd_config *cfg, char *err,
		    size_t errlen);

/**
 * Load a whole file whose top level holds a `push` group (other top-level
 * groups are ignored: this is for tools that need only pushd).
 * @return 0, -ENOENT (no push group), -EINVAL (parse or validation error).
 */
int pd_config_load_file(const char *path, struct pd_config *cfg, char *err, size_t errlen);

#endif /* PD_CONFIG_H */
