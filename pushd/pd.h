/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pushd: VoIP pushes to APNs, FCM and Web Push services (RFC 8030) over
 * HTTP/2 + TLS (nghttp2, OpenSSL, libevent), on a thread of its own.
 *
 * The control plane hands requests to pushd over an rte_ring (pd_submit())
 * and reads answers from another (pd_poll_results()); neither call blocks.
 * pushd keeps one long-lived HTTP/2 connection per credential, signs APNs
 * provider tokens (ES256) and fetches FCM access tokens (RS256 JWT bearer
 * grant), and classifies every answer into one pd_status.
 */
#ifndef PD_H
#define PD_H

#include <stddef.h>
#include <stdint.h>

#include "common/sw_clock.h"
#include "pushd/pd_config.h"

/** Runtime nghttp2 version ("1.52.0"). Static string, never NULL. */
const char *pd_nghttp2_version(void);

/** Runtime OpenSSL version ("OpenSSL 3.0.x ..."). Static string, never NULL. */
const char *pd_openssl_version(void);

/** Push services. PD_WEBPUSH: any RFC 8030 push service, the endpoint URL
 * names it (docs/pushd.md, "Web Push"). */
enum pd_provider { PD_APNS = 0, PD_FCM = 1, PD_WEBPUSH = 2, PD_N_PROVIDERS };

/** What the push is for; selects the APNs push type and topic (docs/design.md §7). */
enum pd_kind {
	PD_KIND_CALL = 0,   /**< APNs voip, topic <bundle>.voip, priority 10 */
	PD_KIND_ALERT,	    /**< APNs alert (missed call), topic <bundle>, priority 10 */
	PD_KIND_BACKGROUND, /**< APNs background, topic <bundle>, priority 5 */
	PD_KIND_MESSAGE,    /**< APNs alert "Message from <sender>", topic <bundle>, priority 10;
			     *   FCM data kind "message"; caller_* carry the sender */
};

/** Which service the token belongs to (common/sw_pn.h, same values). */
enum pd_token {
	PD_TOKEN_ANY = 0,     /**< takes every push: FCM, or a caller that does not say */
	PD_TOKEN_VOIP = 1,    /**< APNs PushKit token: VoIP pushes only */
	PD_TOKEN_REGULAR = 2, /**< APNs regular token: a call goes to it as an alert push */
};

#define PD_KEY_LEN   128
#define PD_TOKEN_LEN 512 /* Web Push endpoint URLs run to a few hundred bytes */
#define PD_PARAM_LEN 160

/** One push to send. Fixed size: copied, never pointing elsewhere. */
struct pd_request {
	uint64_t id;		     /**< caller's id, echoed in the result */
	char device_key[PD_KEY_LEN]; /**< echoed in the result */
	enum pd_provider provider;   /**< pn-provider */
	char token[PD_TOKEN_LEN];    /**< pn-prid: APNs device token / FCM registration token /
				      *   Web Push endpoint URL (https://host[:port]/path) */
	char param[PD_PARAM_LEN];    /**< pn-param: APNs "<team id>.<bundle id>[.voip]", FCM
				      *   project id, Web Push "<p256dh>.<auth>" (base64url) */
	enum pd_kind kind;
	uint8_t token_kind; /**< enum pd_token */
	uint8_t target;	    /**< caller's index of the token in its push address; echoed */
	char call_id[128];
	char caller_number[64];
	char caller_name[128];
	char aor[256];
	uint64_t deadline_ms; /**< CLOCK_MONOTONIC ms (sw_mono_ms()); 0: now + wake_window_s.
			       * Also the push's apns-expiration and FCM ttl. */
	/** The device's push key (docs/push-encryption.md): the call metadata
	 *  goes sealed under it (pushd/pd_seal.h), never in clear. */
	uint8_t seal_key[32];
	char seal_kid[17]; /**< pd_seal_kid() of seal_key; "": not sealed */
};

/** Outcome of one request (X-macro: name, description). */
#define PD_FOREACH_STATUS(_)                                                                     \
	_(DELIVERED, "delivered")                                                                \
	_(DEAD_TOKEN,                                                                            \
	  "dead token (APNs 410 / FCM UNREGISTERED / Web Push 404, 410): drop the push address") \
	_(REJECTED, "rejected by the provider (bad token, token not for topic, ...)")            \
	_(REFUSED,                                                                               \
	  "refused by sipwake, never sent (token not hex, push kind the token does not take)")   \
	_(CONFIG_ERROR, "credential or configuration error (alarmed)")                           \
	_(NO_CREDENTIAL, "no configured credential matches the push address")                    \
	_(TIMED_OUT, "no final answer before the deadline")

enum pd_status {
#define PD_S_ENUM(n, d) PD_##n,
	PD_FOREACH_STATUS(PD_S_ENUM)
#undef PD_S_ENUM
		PD_N_STATUS
};

/** "apns", "fcm" or "webpush" (config groups, telemetry keys); "unknown". */
const char *pd_provider_name(enum pd_provider p);

/** Short lower-case name of a status ("delivered"), never NULL. */
const char *pd_status_name(enum pd_status s);

/** The answer to one pd_request. */
struct pd_result {
	uint64_t id;
	char device_key[PD_KEY_LEN];
	enum pd_status status;
	uint8_t target;		/**< pd_request.target, echoed */
	int64_t provider_ts_ms; /**< DEAD_TOKEN: provider's time (ms since epoch) the token died */
	char reason[64];	/**< provider reason ("BadDeviceToken", "UNREGISTERED") or "" */
	int http_status;	/**< last HTTP status, 0 if none */
	char apns_id[40];	/**< apns-id sent (APNs) */
	char headers[512];	/**< last response headers, "name: value" lines, truncated */
	char body[512];		/**< last response body, truncated (for the operator CLI) */
	unsigned attempts;	/**< HTTP requests made for this push */
	uint64_t latency_us;	/**< from pd_submit() to the result */
	uint64_t written_us;	/**< from pd_submit() to its first HTTP/2 request written
				 *   (last frame handed to TLS); 0: never written */
};

struct pd;

/* pd_request.deadline_ms is on the monotonic clock: sw_mono_ms() (common/sw_clock.h). */

/**
 * Create pushd from a validated config: loads every credential (keys,
 * certificates, service-account files) and creates the rings. Nothing is
 * connected yet.
 *
 * @param cfg  borrowed; copied.
 * @param err  filled with a one-line message naming the credential and file
 *             on failure (may be NULL).
 * @return the instance, or NULL (credential did not load, out of memory).
 */
struct pd *pd_new(const struct pd_config *cfg, char *err, size_t errlen);

/**
 * Replace the credentials and settings with @p cfg's, without a restart.
 *
 * Every credential of @p cfg is loaded here, on the caller's thread (keys,
 * certificates, service accounts): if one does not load, nothing changes
 * and @p err names its key. Otherwise the pushd thread applies the new set
 * at its next loop turn:
 * - a credential whose settings and files are unchanged is kept, with its
 *   connections (a reload for another reason drops nothing);
 * - a new or changed one connects at once;
 * - a removed or changed one takes no new push; the pushes waiting on it
 *   move to a credential of the new set that matches their push address
 *   (or end NO_CREDENTIAL); those in flight finish on its connection, which
 *   is closed with its last one.
 * The scalar settings (wake_window_s, retries, pings, max_pending,
 * max_connections, apns_expire_now, jwt_renew_s) apply to the next push;
 * ring_size stays (the rings are made once). Reloads in a row are fine:
 * a set not yet applied is replaced by the newer one.
 *
 * @param cfg  borrowed; copied. One caller thread at a time.
 * @return 0, -EINVAL (a credential did not load), -ENOMEM.
 */
int pd_reload(struct pd *pd, const struct pd_config *cfg, char *err, size_t errlen);

/** Reloads applied by the pushd thread so far (any thread). */
unsigned pd_reloads_applied(const struct pd *pd);

/**
 * The Web Push credential's VAPID public key, base64url of the uncompressed
 * point (RFC 8292 §3.2 "k"; RFC 8599's +sip.vapid). Any thread.
 * @return 0, -ENOENT (no Web Push credential), -ENOSPC.
 */
int pd_vapid_key(const struct pd *pd, char *out, size_t cap);

/**
 * Start the pushd thread: it opens one connection per credential at once.
 * @return 0, -EALREADY, or a negative errno from pthread_create.
 */
int pd_start(struct pd *pd);

/** Stop the thread (pending pushes are dropped without results) and free
 * everything. NULL is a no-op. */
void pd_free(struct pd *pd);

/**
 * Queue a push. Never blocks. One producer thread at a time (the ring is
 * single-producer); pd_submit() before pd_start() is fine, the pushes wait.
 * @param req  borrowed; copied (into a heap job whose pointer goes on the ring).
 * @return 0, -ENOBUFS (ring full, counted), -ENOMEM.
 */
int pd_submit(struct pd *pd, const struct pd_request *req);

/**
 * Take up to @p n results. Never blocks. One consumer thread at a time. Keep
 * up: a result that finds the ring full is dropped and counted (ring_full).
 * @param out  filled with results the caller now owns; free each with free().
 * @return the number of results taken (0..n).
 */
unsigned pd_poll_results(struct pd *pd, struct pd_result **out, unsigned n);

/** An eventfd that becomes readable when results are queued (read it to
 * clear it). Owned by pushd. */
int pd_result_fd(const struct pd *pd);

/**
 * CPU time the pushd thread has used (its own clock, pthread_getcpuclockid()).
 * @return 0, -ESRCH (not started), or a negative errno from the clock.
 */
int pd_thread_cpu_us(const struct pd *pd, uint64_t *us);

/** Per-provider counters (X-macro: name, description). */
#define PD_FOREACH_COUNTER(_)                                                                  \
	_(submitted, "pushes handed to pd_submit()")                                           \
	_(sent, "HTTP requests sent (retries included)")                                       \
	_(delivered, "answered 200")                                                           \
	_(dead_token, "APNs 410 / FCM UNREGISTERED: the push address is dead")                 \
	_(rejected, "refused by the provider (BadDeviceToken, DeviceTokenNotForTopic, ...)")   \
	_(refused,                                                                             \
	  "refused by sipwake, never sent (token not hex or too long, kind it does not take)") \
	_(config_error, "credential or configuration errors (403, token endpoint refusals)")   \
	_(no_credential, "no configured credential matches the push address")                  \
	_(timed_out, "no final answer before the deadline")                                    \
	_(retries, "requests sent again")                                                      \
	_(retry_after_429, "retries after 429")                                                \
	_(retry_after_5xx, "retries after 500 / 503")                                          \
	_(retry_after_reset, "retries after a reset stream or a lost connection")              \
	_(retry_after_goaway, "retries of streams refused or dropped by GOAWAY")               \
	_(token_renewals,                                                                      \
	  "APNs provider tokens renewed / FCM access tokens fetched / VAPID JWTs renewed")     \
	_(connects, "HTTP/2 connections established")                                          \
	_(connect_failures,                                                                    \
	  "connection attempts that failed (refused, TLS, no h2, no address): grows while "    \
	  "the push service is unreachable")                                                   \
	_(pings, "PINGs sent on idle connections")                                             \
	_(ping_timeouts, "connections dropped because a PING went unanswered")                 \
	_(disconnects, "established connections lost")                                         \
	_(ring_full, "requests or results dropped on a full ring")                             \
	_(sealed, "pushes whose call metadata went sealed (docs/push-encryption.md)")          \
	_(origins_closed, "Web Push: idle or least-recently-used push-service origins closed")

struct pd_stats {
#define PD_C_FIELD(n, d) uint64_t n;
	PD_FOREACH_COUNTER(PD_C_FIELD)
#undef PD_C_FIELD
	uint64_t in_flight;					 /**< submitted, not answered yet */
	uint32_t connections_up;				 /**< HTTP/2 connections ready */
	uint32_t connections_cfg;				 /**< credentials configured */
	uint64_t latency_p50_us, latency_p90_us, latency_p99_us; /**< since start */
	char alarm[96];	  /**< last configuration error ("apns.[0]: InvalidProviderToken"), "" */
	int64_t alarm_ms; /**< when (ms since epoch), 0 if never */
};

/**
 * Snapshot of one provider's counters; safe from any thread.
 * @return 0 or -EINVAL (bad provider).
 */
int pd_stats_get(const struct pd *pd, enum pd_provider p, struct pd_stats *out);

/**
 * Counters of every provider as a JSON object text
 * {"apns": {...}, "fcm": {...}, "webpush": {...}}.
 * @return a string the caller frees with free(), or NULL (out of memory).
 */
char *pd_stats_json(const struct pd *pd);

/**
 * Register "/sipwake/push" with DPDK telemetry, answering pd_stats_json()'s
 * counters. Only one instance can be registered.
 * @return 0 or a negative errno from rte_telemetry_register_cmd().
 */
int pd_telemetry_register(struct pd *pd);

#endif /* PD_H */
