/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd internals, shared by its files. From the top down (each calls only
 * the ones below it; the lower ones reach up through pd->up alone):
 *   pd_core.c      the thread, the rings, the loop; sets pd->up
 *   pd_answer.c    what an APNs or FCM answer means
 *   pd_sched.c     a job's deadline, dispatch, retries and result
 *   pd_cred.c      credentials: selection, FCM access tokens, reload
 *   pd_origin.c    Web Push: a connection per push-service origin, bounded
 *   pd_conn.c      a connection's life: resolve, TLS/TCP connect, reconnect
 *   pd_h2.c        the HTTP/2 session on a connection: streams
 *   pd_push.c      request headers and bodies (APNs, FCM)
 *   pd_webpush.c   Web Push request headers and encrypted bodies
 *   pd_vapid.c     VAPID key and per-origin JWTs (RFC 8292)
 *   pd_ece.c       Web Push message encryption (RFC 8291, aes128gcm)
 *   pd_crypto.c    keys, JWTs, loading a credential
 *   pd_job.c       a job's memory and its credential reference
 *   pd_verdict.c   an answer as it arrives, what it means, the result (no I/O)
 * pd_stats.c and pd_telemetry.c read the counters. Everything here runs on
 * the pushd thread unless said otherwise.
 */
#ifndef PD_INTERNAL_H
#define PD_INTERNAL_H

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/sw_hist.h"
#include "pushd/pd.h"

struct event;
struct event_base;
struct evbuffer;
struct evdns_base;
struct evdns_getaddrinfo_request;
struct bufferevent;
struct pd_cred;
struct pd_conn;
struct pd_origin;

#define PD_MAX_CONNS 16 /* per credential; pd_config.max_connections caps it */

enum pd_op {
	PD_OP_PUSH,	 /* a pd_request */
	PD_OP_FCM_TOKEN, /* OAuth2 token request of an FCM credential */
};

/* One HTTP request in flight or waiting, with its retry state. */
struct pd_job {
	TAILQ_ENTRY(pd_job) link; /* cred->waiting or conn->streams */
	enum pd_op op;
	struct pd_request req;
	struct pd *pd;
	struct pd_cred *cred;
	struct pd_origin *origin; /* Web Push: the push service's origin, held (pd_origin.c) */
	struct pd_conn *conn;	  /* when in flight */
	int32_t stream_id;
	struct event *timer; /* deadline */
	struct event *retry; /* backoff */
	uint64_t start_us, deadline_ms;
	uint64_t written_us; /* first request written (sw_mono_us()), 0: not yet */
	unsigned attempts;
	bool renewed;	    /* provider token renewed once for this job */
	unsigned token_gen; /* FCM: the access token it was sent with */
	bool on_list;
	char apns_id[40];
	char apns_exp[24]; /* apns-expiration: when the deadline falls; Web Push: TTL
			    * seconds (pd_build_body()) */
	char *body;	   /* request body (JSON or form), built once */
	size_t body_len, body_off;
	/* answer */
	int status;
	unsigned retry_after_s;
	bool end_stream;
	char hdrs[512]; /* response headers, "name: value\n" (truncated) */
	size_t hdrs_len;
	char resp[1024];
	size_t resp_len;
};

TAILQ_HEAD(pd_jobq, pd_job);

enum pd_conn_state {
	PD_CONN_DOWN,
	PD_CONN_CONNECTING,
	PD_CONN_UP,
	PD_CONN_DRAINING, /* GOAWAY received: no new streams */
};

struct pd_conn {
	LIST_ENTRY(pd_conn) link; /* cred->draining */
	struct pd_cred *cred;
	struct pd_origin *origin; /* Web Push: whose connection it is; NULL once draining */
	bool token_endpoint;	  /* FCM OAuth2 connection */
	const char *host, *path_prefix;
	char origin_host[PD_HOST_LEN]; /* Web Push: ->host, a copy (it outlives its origin) */
	uint16_t port;
	enum pd_conn_state state;
	struct bufferevent *bev;
	nghttp2_session *ng;
	struct pd_jobq streams;
	uint32_t n_streams, max_streams;
	/* APNs token auth: one stream at a time until an answer shows the
	 * provider token was accepted (pd_h2.c, on_stream_close()). */
	bool probing;
	struct event *ping_timer, *reconnect_timer, *flush_ev;
	bool ping_outstanding, closing, listed;
	uint64_t last_rx_ms;
	unsigned backoff_ms;
	/* Resolved addresses, tried in turn before backing off (a host with
	 * AAAA records but no IPv6 route must still work over IPv4). */
	struct sockaddr_storage addrs[8];
	socklen_t addrlens[8];
	unsigned n_addrs, addr_idx;
	struct evdns_getaddrinfo_request *dns_req;
	bool resolving;
};

/* Web Push: one push service's origin (host:port, RFC 6454) and its
 * connection, made on first use, closed when idle (pd_origin.c). */
struct pd_origin {
	LIST_ENTRY(pd_origin) link; /* cred->origins, most recently used first */
	struct pd_cred *cred;
	char host[PD_HOST_LEN];
	uint16_t port;
	char aud[PD_HOST_LEN + 16]; /* "https://host[:port]": the VAPID audience */
	struct pd_conn *conn;	    /* NULL until a push needs it, or after a GOAWAY */
	unsigned refs;		    /* jobs bound to it (pd_job.origin) */
	uint64_t last_used_ms;
	char *auth;	  /* "vapid t=<JWT>, k=<key>" (pd_vapid.c) */
	uint64_t jwt_iat; /* wall-clock seconds it was signed */
};

struct pd_cred {
	struct pd *pd;
	enum pd_provider provider;
	unsigned index;
	char name[64]; /* "apns.[0]" for logs and telemetry (under pd->cred_lock) */
	const struct pd_apns_cfg *apns;	 /* == &apns_cfg for APNs, else NULL */
	const struct pd_fcm_cfg *fcm;	 /* == &fcm_cfg for FCM, else NULL */
	const struct pd_webpush_cfg *wp; /* == &wp_cfg for Web Push, else NULL */
	struct pd_apns_cfg apns_cfg;	 /* its own copy: a reload replaces pd->cfg */
	struct pd_fcm_cfg fcm_cfg;
	struct pd_webpush_cfg wp_cfg;
	unsigned char fp[32]; /* SHA-256 of the settings and of every file loaded:
			       * equal after a reload = the same credential, kept */
	unsigned refs;	      /* jobs whose ->cred is this one (pd_job_set_cred()) */
	bool opened;	      /* timers and connections made (pushd thread) */
	bool retired;	      /* replaced by a reload: freed when refs reaches 0 */
	LIST_ENTRY(pd_cred) retired_link;
	SSL_CTX *ssl;
	EVP_PKEY *key;		  /* APNs .p8 or FCM service-account key */
	char param[PD_PARAM_LEN]; /* match key: "<team>.<bundle>" or project */
	char auth[2200];	  /* "bearer <provider token or access token>" */
	char topic[2][144];	  /* APNs: "<bundle>", "<bundle>.voip" */
	/* APNs provider token */
	char *jwt;
	uint64_t jwt_iat; /* wall-clock seconds */
	/* FCM */
	char client_email[256];
	char token_host[PD_HOST_LEN], token_path[PD_PATH_LEN];
	uint16_t token_port;
	char *access_token;
	unsigned token_gen;	    /* bumped with each new access token */
	uint64_t access_refresh_ms; /* monotonic: refresh after this */
	struct pd_job *token_job;   /* OAuth2 request being fetched */
	struct event *token_retry;
	struct pd_conn *conns[PD_MAX_CONNS]; /* [0] opened at start; more only past the server's
					      * SETTINGS_MAX_CONCURRENT_STREAMS */
	unsigned n_conns;
	struct pd_conn *tconn;	    /* FCM: token endpoint */
	uint32_t push_up, token_up; /* connections up (atomics: telemetry reads them) */
	struct pd_jobq waiting;	    /* no connection or stream available */
	LIST_HEAD(, pd_conn) draining;
	/* Web Push */
	char vapid_k[96]; /* base64url uncompressed public key: the "k" of RFC 8292 §3.2 */
	LIST_HEAD(, pd_origin) origins;
	unsigned n_origins;
	struct event *origin_sweep; /* closes idle origins */
};

/* Written by the pushd thread, read with relaxed atomics by pd_stats_get(). */
struct pd_pstats {
#define PD_C_FIELD(n, d) uint64_t n;
	PD_FOREACH_COUNTER(PD_C_FIELD)
#undef PD_C_FIELD
	uint64_t in_flight;
	uint32_t connections_up, connections_cfg;
	struct sw_hist lat; /* push latency (common/sw_hist.h) */
	char alarm[96];	    /* last configuration error, under pd->alarm_lock */
	int64_t alarm_ms;   /* its wall-clock time, 0 = none */
};

/*
 * How connections (pd_conn.c, pd_h2.c) and credentials (pd_cred.c) hand a
 * job or a connection back up, set by pd_core.c: they call these, never the
 * files above them by name, so every call runs down (its user_data is the
 * job's or the credential's pd).
 */
struct pd_up {
	/* pd_sched.c: pd_job_dispatch(), pd_job_finish() */
	bool (*dispatch)(struct pd_job *j, bool queued);
	void (*finish)(struct pd_job *j, enum pd_status st, const char *reason, int64_t ts_ms);
	/* pd_answer.c: END_STREAM with a status; reset, refused, lost */
	void (*answered)(struct pd_job *j);
	void (*failed)(struct pd_job *j, const char *why, bool goaway);
	/* pd_cred.c: a connection is ready or a stream freed */
	void (*kick)(struct pd_cred *c);
	/* pd_conn.c, for pd_h2.c: GOAWAY, or stream ids used up */
	void (*drain)(struct pd_conn *cn);
};

struct pd {
	struct pd_config cfg;
	struct pd_up up;
	/* The credentials in force. Written by the pushd thread only (and
	 * before it starts), under cred_lock, which telemetry readers take. */
	unsigned n_creds;
	struct pd_cred **creds;
	pthread_mutex_t cred_lock;
	/* pd_reload(): a loaded set waiting for the pushd thread (cred_lock). */
	struct pd_cred **pending;
	unsigned n_pending;
	struct pd_config pending_cfg;
	bool reload_pending;
	LIST_HEAD(, pd_cred) retired; /* replaced, with jobs still on them */
	struct event *retire_ev;      /* frees retired credentials once idle */
	struct rte_ring *req_ring, *res_ring;
	void *req_mem, *res_mem;
	int req_fd, res_fd; /* eventfds */
	struct event_base *base;
	struct evdns_base *dns;
	struct event *req_ev;
	struct event *res_ev; /* signals res_fd once per loop iteration */
	pthread_t thread;
	pthread_mutex_t alarm_lock; /* rare writes (config errors), telemetry reads */
	bool started;
	unsigned reloads; /* applied (atomic: pd_reloads_applied() reads it) */
	volatile bool stop;
	unsigned n_jobs; /* taken off the ring, not finished (pushd thread) */
	bool paused;	 /* ring left undrained: n_jobs reached cfg.max_pending */
	struct pd_pstats st[PD_N_PROVIDERS];
};

#define PD_STAT_ADD(pd, prov, field, n) \
	__atomic_fetch_add(&(pd)->st[prov].field, (n), __ATOMIC_RELAXED)

/* pd_telemetry.c: stop answering for @pd (it is being freed) */
void pd_telemetry_forget(const struct pd *pd);

/* pd_crypto.c */
int pd_b64url(const unsigned char *in, size_t len, char *out, size_t cap);
EVP_PKEY *pd_load_private_key(const char *path, char *err, size_t errlen, const char *what);
/* Compact JWS "<b64 header>.<b64 claims>.<b64 sig>" (ES256 or RS256), malloc'ed. */
char *pd_jwt_sign(EVP_PKEY *key, bool es256, const char *header_json, const char *claims_json);
int pd_cred_load(struct pd_cred *c, char *err, size_t errlen);
/* Fingerprint of the credential's settings and files, into c->fp. */
int pd_cred_fingerprint(struct pd_cred *c);
/* The APNs provider token, renewed when due (or forced, for
 * ExpiredProviderToken). NULL on signing failure. */
const char *pd_apns_jwt(struct pd_cred *c, bool force);
/* Form body of the OAuth2 JWT-bearer grant, malloc'ed. */
char *pd_fcm_token_request(struct pd_cred *c, size_t *len);

/* pd_conn.c: a connection's life */
/* A connection to the credential's endpoint (or its token endpoint), connecting. */
struct pd_conn *pd_conn_new(struct pd_cred *c, bool token_endpoint);
/* Web Push: a connection to @o's host and port, connecting. */
struct pd_conn *pd_conn_new_origin(struct pd_origin *o);
void pd_conn_free(struct pd_conn *cn); /* final: in-flight jobs are failed */
/* pd->up.drain: no new streams on @cn (GOAWAY, or stream ids used up); a
 * fresh connection takes its place, @cn goes with its last stream. */
void pd_conn_drain(struct pd_conn *cn);

/* pd_h2.c: the HTTP/2 session on a connection, and its streams */
void pd_h2_open(struct pd_conn *cn); /* TLS is up: the client session, our SETTINGS */
/* Feed what arrived / write what is queued: NULL, or why the connection must go. */
const char *pd_h2_recv(struct pd_conn *cn, struct evbuffer *in);
const char *pd_h2_send(struct pd_conn *cn);
void pd_h2_detach(struct pd_conn *cn, struct pd_job *j); /* @j leaves @cn's streams */
bool pd_conn_can_send(const struct pd_conn *cn);
/* Up, and held to one stream until its provider token is accepted. */
bool pd_conn_probing(const struct pd_conn *cn);
int pd_conn_submit(struct pd_conn *cn, struct pd_job *j);
void pd_conn_cancel(struct pd_job *j); /* RST the job's stream, detach it */

/* pd_job.c: a job's memory and credential reference (everyone's) */
void pd_ms_to_tv(uint64_t ms, struct timeval *tv);
void pd_job_set_cred(struct pd_job *j, struct pd_cred *c); /* holds a reference */
void pd_job_free(struct pd_job *j);

/* pd_sched.c: a job's run (pd_conn.c and pd_cred.c reach it through pd->up) */
/* A job taken off the request ring: its deadline timer, its credential,
 * its body, then pd_job_dispatch(); or finished at once (no credential, a
 * bad token or payload, past its deadline). */
void pd_job_start(struct pd *pd, struct pd_job *j);
/* The job's result goes on the result ring; the job is freed. */
void pd_job_finish(struct pd_job *j, enum pd_status st, const char *reason, int64_t ts_ms);
/* Sends @j now if a stream is free, else queues it on its credential
 * (at the head when @queued: it came from there). True when sent. */
bool pd_job_dispatch(struct pd_job *j, bool queued);
/* Sent again after a backoff (Retry-After when the server gave one), or at
 * once with @now; finished TIMED_OUT with @reason when the deadline does not
 * leave room. */
void pd_job_retry(struct pd_job *j, const char *reason, bool now);

/* pd_verdict.c: an answer as it arrives (pd_h2.c's callbacks). A header
 * is kept in j->hdrs as "name: value\n" while it fits (NUL-terminated,
 * hdrs_len < sizeof(hdrs)); ":status" sets j->status to its three digits,
 * anything else to 0 (no status: the stream failed); "retry-after" sets
 * j->retry_after_s to its leading delta-seconds, at most 999999. A body
 * chunk is appended to j->resp while it fits (NUL-terminated). */
void pd_answer_header(struct pd_job *j, const uint8_t *name, size_t nl, const uint8_t *v,
		      size_t vl);
void pd_answer_data(struct pd_job *j, const uint8_t *data, size_t len);

/* What a job's answer says to do: finish it, renew the provider token
 * (APNs JWT, FCM access token, VAPID JWT) and send it again at once, or
 * send it again later (backoff, Retry-After). */
enum pd_next {
	PD_NEXT_FINISH,
	PD_NEXT_RENEW,
	PD_NEXT_LATER,
};

struct pd_verdict {
	enum pd_next next;
	enum pd_status status; /* PD_NEXT_FINISH: DELIVERED, DEAD_TOKEN, REJECTED, CONFIG_ERROR */
	char reason[64];       /* printable ASCII, "" only when delivered */
	int64_t ts_ms;	       /* DEAD_TOKEN: when the token died, 0 < ts_ms <= now_ms */
};

/* The answer table (docs/pushd.md, "Answers") for j->status, j->resp and
 * j->req.provider. Promises: delivered only for a 200 (Web Push: 200, 201,
 * 202); a dead token only for a 4xx other than 429 (APNs 410, FCM 404
 * UNREGISTERED, Web Push 404 / 410); renewal only when @can_renew and for
 * APNs 403 ExpiredProviderToken, FCM 401, Web Push 401; later only for 429
 * and 5xx. @now_ms: wall clock, ms since the epoch. */
void pd_answer_judge(const struct pd_job *j, bool can_renew, int64_t now_ms, struct pd_verdict *v);
/* @r (zeroed) from a finished job: all but latency_us and written_us. */
void pd_result_fill(struct pd_result *r, const struct pd_job *j, enum pd_status st,
		    const char *reason, int64_t ts_ms);

/* pd_answer.c: the answer table, as pd->up.answered / failed */
void pd_job_answered(struct pd_job *j);				    /* END_STREAM with a status */
void pd_job_failed(struct pd_job *j, const char *why, bool goaway); /* reset, refused, lost */
/* pd_cred.c: pd->up.kick */
void pd_cred_kick(struct pd_cred *c); /* connection ready or stream freed */
/* A connection of @c that can take a stream now, or NULL (and, when every
 * connection is full, a new one is opened up to max_connections). */
struct pd_conn *pd_cred_pick_conn(struct pd_cred *c);

/* pd_cred.c: credentials on the pushd thread */
bool pd_cred_token_ok(struct pd_cred *c); /* FCM: an access token not due for refresh */
void pd_cred_fetch_token(struct pd_cred *c);
void pd_token_done(struct pd_job *j, bool ok); /* the OAuth2 request ended */
/* The credential in force for @req, or NULL. */
struct pd_cred *pd_cred_pick(const struct pd *pd, const struct pd_request *req);
void pd_cred_open(struct pd_cred *c);  /* token timer, first connection(s) */
void pd_cred_close(struct pd_cred *c); /* connections and timers; waiting jobs dropped */
/* Replaced by a reload: no new jobs; waiting ones re-homed; freed (by
 * pd_retired_sweep()) once no job holds it. */
void pd_cred_retire(struct pd_cred *c);
/* Re-home a job of a retired credential onto one in force; false (the job is
 * finished, NO_CREDENTIAL) when none matches any more. */
bool pd_job_rehome(struct pd_job *j);

/* pd_cred.c: credential sets and reloads (any thread unless said) */
/* Build and load every credential of @cfg (any thread). NULL + @err naming
 * the key on failure; *n set. */
struct pd_cred **pd_creds_load(struct pd *pd, const struct pd_config *cfg, unsigned *n, char *err,
			       size_t errlen);
void pd_cred_release(struct pd_cred *c); /* keys, TLS context, memory */
void pd_creds_release(struct pd_cred **v, unsigned n);
/* pushd thread: apply a pending pd_reload(), if any. */
void pd_reload_apply(struct pd *pd);
/* pushd thread: free retired credentials nobody uses any more. */
void pd_retired_sweep(struct pd *pd);

/* pd_origin.c: Web Push connections, one per push-service origin */
/* A connection for @j's origin that can take a stream now, or NULL (the
 * origin made, or its connection opened, as needed and as the bounds allow). */
struct pd_conn *pd_origin_pick_conn(struct pd_job *j);
void pd_origin_kick(struct pd_cred *c);	  /* pd_cred_kick() of a Web Push credential */
void pd_origins_open(struct pd_cred *c);  /* the idle sweep timer */
void pd_origins_close(struct pd_cred *c); /* every origin and its connection */

/* pd_webpush.c */
/* The encrypted body and TTL of a Web Push job. 0, -EINVAL (endpoint or keys
 * unusable: refused), -EMSGSIZE, -ENOMEM. */
int pd_webpush_body(struct pd_job *j, const char *json, size_t len, unsigned ttl_s);
int pd_webpush_request(struct pd_job *j, nghttp2_nv *nva, size_t *nnv, char *bufs, size_t cap);

/* pd_vapid.c */
/* Load the VAPID key (P-256) and its public "k". 0 or -EINVAL (@err names the key). */
int pd_vapid_load(struct pd_cred *c, char *err, size_t errlen);
/* "vapid t=<JWT>, k=<key>" for @o, signed again when due. NULL if it cannot be signed. */
const char *pd_vapid_auth(struct pd_origin *o);

/* pd_ece.c: RFC 8291 / RFC 8188 aes128gcm, one record */
#define PD_EC_PUB_LEN	65
#define PD_ECE_HEADER	(16 + 4 + 1 + PD_EC_PUB_LEN) /* salt, rs, idlen, keyid */
#define PD_ECE_OVERHEAD (PD_ECE_HEADER + 1 + 16)     /* + delimiter, tag */
/* A P-256 key from its uncompressed point (and private scalar, 32 bytes, or
 * NULL); NULL if the point is not on the curve. */
EVP_PKEY *pd_ec_key(const uint8_t pub[PD_EC_PUB_LEN], const uint8_t *priv);
int pd_ec_pub(EVP_PKEY *k, uint8_t pub[PD_EC_PUB_LEN]);
/* @out = header || ciphertext || tag, with a fresh key and salt. Bytes
 * written, or -EINVAL (bad p256dh), -EMSGSIZE, -ENOMEM, -EIO. */
int pd_ece_encrypt(const uint8_t ua_pub[PD_EC_PUB_LEN], const uint8_t auth[16], const void *pt,
		   size_t len, uint8_t *out, size_t cap);
/* The same with a given sender key and salt (RFC 8291 Appendix A's test). */
int pd_ece_encrypt_with(EVP_PKEY *as_key, const uint8_t salt[16],
			const uint8_t ua_pub[PD_EC_PUB_LEN], const uint8_t auth[16], const void *pt,
			size_t len, uint8_t *out, size_t cap);

/* One header into @nva, @nnv counting (request builders of pd_push.c and
 * pd_webpush.c); nghttp2 copies names and values. */
#define PD_NV(nva, nnv, n, v)                                                                      \
	do {                                                                                       \
		(nva)[*(nnv)] = (nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), \
					     NGHTTP2_NV_FLAG_NONE};                                \
		(*(nnv))++;                                                                        \
	} while (0)

/* pd_push.c */
/* The job's body, and its expiry from j->deadline_ms (APNs apns-expiration,
 * FCM android.ttl): call once j->deadline_ms is set. 0, -EINVAL (no JSON),
 * -ENOMEM, -EMSGSIZE (over the provider's limit). */
int pd_build_body(struct pd_job *j);
int pd_build_request(struct pd_job *j, nghttp2_nv *nva, size_t *nnv, char *bufs, size_t bufcap);
/* An APNs device token we are willing to put in a :path (hex, 1..200). */
bool pd_apns_token_ok(const char *t);

#endif /* PD_INTERNAL_H */
