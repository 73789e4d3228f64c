/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The streams thread: SIP over TCP, TLS and (secure) WebSocket from apps
 * (docs/streams.md). A thread of its own with its own libevent loop, like
 * pushd: it listens on sipwake's addresses (the kernel side of the
 * exception path's tap holds them), accepts, terminates TLS (OpenSSL) and
 * WebSocket (RFC 7118), frames SIP on the stream by Content-Length, and
 * exchanges whole messages with the control plane over two rings. Nothing
 * here blocks the control plane: st_send() / st_close() / st_poll() never
 * wait, a full ring is a counted drop.
 *
 * Connection ids are never reused while the process runs (0 is "none").
 * The control plane learns of a connection by its first message, and of
 * its end by one ST_UP_CLOSED, always the connection's last event.
 */
#ifndef ST_H
#define ST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/sw_ip.h"
#include "common/sw_tp.h"

#define ST_MAX_LISTENERS 16
#define ST_MAX_ADDRS	 16
#define ST_PATH_MAX	 256
#define ST_WS_PATH_MAX	 128

/** One listener: a transport on a port, on every address of st_config.addrs. */
struct st_listener {
	uint8_t tp;		/**< enum sw_tp, not SW_TP_UDP */
	uint16_t port;		/**< host byte order */
	char cert[ST_PATH_MAX]; /**< TLS / WSS: PEM certificate chain, leaf first */
	char key[ST_PATH_MAX];	/**< TLS / WSS: PEM private key */
	char ca[ST_PATH_MAX]; /**< TLS / WSS: client certificates must chain to it; "" = none asked */
	char ws_path[ST_WS_PATH_MAX]; /**< WS / WSS: the request path accepted ("/" default) */
};

/** The streams thread's settings (streams { } in the config). */
struct st_config {
	unsigned n_listeners;
	struct st_listener listeners[ST_MAX_LISTENERS];
	unsigned n_addrs; /**< sipwake's addresses to listen on (each listener on each) */
	struct sw_ip addrs[ST_MAX_ADDRS];
	uint32_t max_conns;	       /**< all connections, default 100000 */
	uint32_t max_conns_per_source; /**< per source IP, default 32 */
	uint32_t max_message;	       /**< bytes, header block + body, default and most 65535 */
	uint32_t max_out;     /**< bytes queued toward a peer that does not read, default 262144 */
	uint32_t handshake_s; /**< TLS / WS handshake must finish within, default 10 */
	uint32_t
		header_s; /**< a message must arrive whole within, from its first byte, default 10 */
	uint32_t idle_s;  /**< no byte in for this long: closed, default 900 */
	uint32_t ring_size; /**< each ring's slots, power of two, default 4096 */
	/** Messages a connection may hand up per second, and in a burst: a
	 *  flood over one connection closes it (msg_rate). The workers'
	 *  budgets never see what comes over a stream. Default 20 / 100. */
	uint32_t msg_rate, msg_burst;
};

/** Fill @p c with the defaults above (no listener, no address). Inline:
 *  the config loader fills it without linking the thread. */
static inline void st_config_defaults(struct st_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 100000;
	c->max_conns_per_source = 32;
	c->max_message = 65535;
	c->max_out = 262144;
	c->handshake_s = 10;
	c->header_s = 10;
	c->idle_s = 900;
	c->ring_size = 4096;
	c->msg_rate = 20;
	c->msg_burst = 100;
}

/** Why a connection ended (X-macro: name, description). */
#define ST_FOREACH_CLOSE(_)                                                                \
	_(peer, "the peer closed or reset it")                                             \
	_(local, "sipwake closed it (st_close())")                                         \
	_(idle, "no byte in for streams.idle_s")                                           \
	_(handshake_timeout, "TLS or WebSocket handshake not done within handshake_s")     \
	_(tls_failed, "TLS handshake failed (garbage, no shared version or cipher, cert)") \
	_(ws_failed, "WebSocket handshake refused (not an upgrade, path, subprotocol)")    \
	_(header_timeout, "a message not whole within streams.header_s (slowloris)")       \
	_(no_length, "a message without Content-Length")                                   \
	_(bad_length, "Content-Length not a number, negative, or repeated differently")    \
	_(too_large, "a message over streams.max_message")                                 \
	_(bad_frame, "a WebSocket frame not text/binary, masked wrongly, or too large")    \
	_(slow_reader, "more than streams.max_out bytes queued toward it")                 \
	_(ring_full, "the ring to the control plane was full")                             \
	_(msg_rate, "more messages than streams.msg_rate / msg_burst allow")               \
	_(shutdown, "sipwake stopped")

enum st_close_why {
#define ST_CW_ENUM(n, d) ST_CLOSE_##n,
	ST_FOREACH_CLOSE(ST_CW_ENUM)
#undef ST_CW_ENUM
		ST_CLOSE_N
};

/** Short name of a close reason ("idle"), never NULL. */
const char *st_close_name(enum st_close_why w);

enum st_up_kind {
	ST_UP_SIP = 1, /**< one whole SIP message: data[len] */
	ST_UP_CLOSED,  /**< the connection ended (why); its last event */
};

/** What the streams thread hands the control plane. Free with free(). */
struct st_up {
	uint8_t kind; /**< enum st_up_kind */
	uint8_t tp;   /**< enum sw_tp of the connection */
	uint8_t why;  /**< ST_UP_CLOSED: enum st_close_why */
	uint8_t pad;
	uint16_t peer_port, local_port; /**< host byte order */
	uint64_t conn;			/**< the connection id, never 0 */
	struct sw_ip peer;		/**< the app's address as the kernel saw it */
	struct sw_ip local;		/**< our address it connected to */
	uint32_t len;			/**< ST_UP_SIP: bytes in data */
	uint8_t data[]; /**< ST_UP_SIP: the message, exactly (header block and body) */
};

struct st;

/**
 * Create the streams thread from @p cfg: loads every listener's
 * certificate, key and CA (a file that does not load: NULL, @p err names
 * the listener and file), makes the rings. Nothing listens yet.
 */
struct st *st_new(const struct st_config *cfg, char *err, size_t errlen);

/**
 * Open the listeners and start the thread. A port that cannot be bound
 * (-errno) names itself in @p err.
 */
int st_start(struct st *st, char *err, size_t errlen);

/** Stop the thread, close every connection, free everything. NULL: no-op. */
void st_free(struct st *st);

/**
 * Load the listeners' certificates and keys again (SIGHUP), on the
 * caller's thread: if one does not load nothing changes (-EINVAL, @p err
 * names it). New handshakes use the new ones; open connections are kept.
 * Only the files are read again; listeners, ports and limits stay.
 */
int st_reload_certs(struct st *st, char *err, size_t errlen);

/**
 * Queue @p len bytes for connection @p conn (copied). Never blocks. One
 * producer thread. A connection that has ended meanwhile: dropped and
 * counted by the thread (send_no_conn). Over WS / WSS the bytes go as one
 * text frame.
 * @return 0, -ENOBUFS (ring full, counted), -ENOMEM, -EINVAL (conn 0, len 0
 *         or over max_message).
 */
int st_send(struct st *st, uint64_t conn, const void *data, size_t len);

/** Ask the thread to close @p conn (ST_CLOSE_local; its ST_UP_CLOSED follows). */
int st_close(struct st *st, uint64_t conn);

/** Take up to @p n events; the caller owns them (free()). Never blocks. One consumer. */
unsigned st_poll(struct st *st, struct st_up **out, unsigned n);

/**
 * An eventfd that becomes readable when events wait for st_poll() (it is
 * written when the up ring goes from empty to not empty). The caller reads
 * it to clear it, then polls until st_poll() returns 0. Owned by @p st.
 */
int st_up_fd(const struct st *st);

/** Counters per transport (X-macro: name, description). */
#define ST_FOREACH_COUNTER(_)                                                          \
	_(accepted, "connections accepted")                                            \
	_(refused_total, "connections refused: streams.max_conns reached")             \
	_(refused_source, "connections refused: streams.max_conns_per_source reached") \
	_(handshakes, "TLS / WebSocket handshakes completed")                          \
	_(msgs_in, "SIP messages framed and handed up")                                \
	_(msgs_out, "SIP messages written")                                            \
	_(bytes_in, "bytes read (after TLS)")                                          \
	_(bytes_out, "bytes written (before TLS)")                                     \
	_(keepalives, "CRLF keepalives answered (RFC 5626 §4.4.1)")                    \
	_(ws_pings, "WebSocket pings answered")                                        \
	_(send_no_conn, "st_send() for a connection that had ended")                   \
	_(accept_failed, "accept() failed (out of descriptors or memory): paused 100 ms")

struct st_tp_stats {
#define ST_CNT_FIELD(n, d) uint64_t n;
	ST_FOREACH_COUNTER(ST_CNT_FIELD)
#undef ST_CNT_FIELD
	uint64_t closed[ST_CLOSE_N]; /**< connections ended, by reason */
	uint64_t open;		     /**< connections open now */
	uint64_t handshaking;	     /**< of which still in their TLS / WS handshake */
};

/** A snapshot of the counters (any thread; relaxed reads). */
struct st_stats {
	struct st_tp_stats tp[SW_TP_N]; /**< [SW_TP_UDP] unused */
	uint64_t up_ring_full;	 /**< events dropped: the ring to the control plane was full */
	uint64_t down_ring_full; /**< st_send() / st_close() refused: ring full */
	uint64_t oldest_s;	 /**< age of the oldest open connection, seconds */
	uint64_t idlest_s;	 /**< longest time any open connection has gone without a byte in */
	uint64_t mem_bytes;	 /**< memory held by connections (buffers, TLS), estimated */
	uint64_t cert_reloads;	 /**< st_reload_certs() applied */
	uint64_t send_no_conn;	 /**< st_send() for an id no longer known (its transport unknown
				    too); tp[].send_no_conn: for one closing */
};

void st_stats_get(const struct st *st, struct st_stats *out);

/**
 * Register /sipwake/conns (streams/st_telemetry.c) over @p st, which must
 * outlive the telemetry threads' use of it (until EAL cleanup).
 * @return 0 or rte_telemetry_register_cmd()'s error.
 */
int st_telemetry_register(struct st *st);

#endif /* ST_H */
