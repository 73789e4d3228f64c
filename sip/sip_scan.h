/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Zero-copy SIP scanner (RFC 3261 §7, §20, §25) for the dataplane.
 *
 * The scanner reads one SIP message from a contiguous buffer (a linearised
 * UDP payload) and fills a struct sip_msg with slices: offsets and lengths
 * into that buffer, never pointers, so a result can travel over a ring with
 * the mbuf and still be valid (docs/design.md §7). It allocates nothing, takes no
 * lock, logs nothing and never reads outside [buf, buf + len): every read is
 * bounds-checked, so malformed input yields a verdict, never a crash.
 *
 * Depends on libc only, so unit tests and fuzz targets can link it alone.
 */
#ifndef SIP_SCAN_H
#define SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip_pn.h"

/** Largest message the scanner accepts (a UDP payload cannot be larger). */
#define SIP_MAX_LEN 65535u
/** Most header fields indexed per message; more is SIP_ERR_TOO_MANY_HEADERS. */
#define SIP_MAX_HDRS 64u
/** Longest header field (name, colon, value, folds included). */
#define SIP_MAX_HDR_LEN 4096u

/**
 * Why a message was rejected: one entry per reason, in the order of the
 * verdict enum. X(ENUM, counter_name, description). The dataplane's drop
 * counters include this list, so telemetry shows each reason by this name.
 */
#define SIP_FOREACH_ERROR(X)                                                                      \
	X(TRUNCATED, sip_truncated, "SIP message ends before the empty line closing its headers") \
	X(BAD_START_LINE, sip_bad_start_line, "request or status line is not valid SIP/2.0")      \
	X(BAD_HEADER, sip_bad_header,                                                             \
	  "header line without a colon or with an invalid name, or a Call-ID that is "            \
	  "empty or holds whitespace")                                                            \
	X(HEADER_TOO_LONG, sip_header_too_long, "a header field is longer than 4096 bytes")       \
	X(TOO_MANY_HEADERS, sip_too_many_headers, "more than 64 header fields")                   \
	X(BAD_CHAR, sip_bad_char, "NUL or control byte in the start line or the headers")         \
	X(MISSING_HEADER, sip_missing_header, "Via, From, To, Call-ID or CSeq is missing")        \
	X(DUP_HEADER, sip_dup_header,                                                             \
	  "a single-valued header (From, To, Call-ID, CSeq, "                                     \
	  "Content-Length, Content-Type, Max-Forwards, Expires) appears twice")                   \
	X(BAD_VIA, sip_bad_via, "top Via is not SIP/2.0/<transport> <sent-by>")                   \
	X(BAD_CSEQ, sip_bad_cseq,                                                                 \
	  "CSeq is not <number> <method>, or its method differs from "                            \
	  "the request's")                                                                        \
	X(BAD_NAMEADDR, sip_bad_nameaddr, "From or To is not a valid name-addr / addr-spec")      \
	X(BAD_URI, sip_bad_uri, "Request-URI is not a valid URI")                                 \
	X(BAD_CONTENT_LENGTH, sip_bad_content_length,                                             \
	  "Content-Length is not a number or exceeds the datagram")                               \
	X(BAD_MAX_FORWARDS, sip_bad_max_forwards, "Max-Forwards is not a number in 0..255")       \
	X(BAD_CONTACT, sip_bad_contact,                                                           \
	  "Contact is not *, or not a list of name-addr / addr-spec with parameters")             \
	X(BAD_EXPIRES, sip_bad_expires, "Expires header or expires= parameter is not a number")   \
	X(BAD_ROUTE, sip_bad_route, "Route or Record-Route is not a list of <URI> with parameters")

/** Scanner verdict: SIP_SCAN_OK or SIP_ERR_<reason> from SIP_FOREACH_ERROR. */
enum sip_verdict {
	SIP_SCAN_OK = 0,
#define SIP_X_ENUM(e, name, desc) SIP_ERR_##e,
	SIP_FOREACH_ERROR(SIP_X_ENUM)
#undef SIP_X_ENUM
		SIP_VERDICT_MAX
};

/** Methods the scanner recognises; anything else is SIP_M_OTHER. */
enum sip_method {
	SIP_M_OTHER = 0,
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_OPTIONS,
	SIP_M_REGISTER,
	SIP_M_PRACK,
	SIP_M_SUBSCRIBE,
	SIP_M_NOTIFY,
	SIP_M_PUBLISH,
	SIP_M_INFO,
	SIP_M_REFER,
	SIP_M_MESSAGE,
	SIP_M_UPDATE,
};

/** Header fields the scanner identifies (long and compact forms, any case). */
enum sip_hdr_id {
	SIP_H_OTHER = 0,
	SIP_H_VIA,     /* v */
	SIP_H_FROM,    /* f */
	SIP_H_TO,      /* t */
	SIP_H_CALL_ID, /* i */
	SIP_H_CSEQ,
	SIP_H_CONTACT, /* m */
	SIP_H_MAX_FORWARDS,
	SIP_H_CONTENT_LENGTH, /* l */
	SIP_H_CONTENT_TYPE,   /* c */
	SIP_H_EXPIRES,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_USER_AGENT,
	SIP_H_SUPPORTED, /* k */
	SIP_H_X_PUSH,
	SIP_H_MAX_ /**< number of ids (not a header) */
};

/** A run of bytes of the message: buf + off, len bytes. len 0 means absent. */
struct sip_slice {
	uint16_t off;
	uint16_t len;
};

/** URI schemes. */
enum sip_scheme { SIP_SCHEME_OTHER = 0, SIP_SCHEME_SIP, SIP_SCHEME_SIPS, SIP_SCHEME_TEL };

/** A SIP URI cut into parts (RFC 3261 §19.1.1). */
struct sip_uri {
	struct sip_slice whole; /**< the URI, without enclosing < > */
	struct sip_slice user;	/**< userinfo before '@' (no password split); len 0 if none */
	struct sip_slice host;	/**< host; an IPv6 reference without its [ ] */
	struct sip_slice
		params; /**< ";..." after hostport up to '?' or the end, without the leading ';' */
	struct sip_slice headers; /**< "?..." header part, without the '?'; len 0 if none */
	uint16_t port;		  /**< 0 when absent */
	uint8_t scheme;		  /**< enum sip_scheme */
	uint8_t host_is_ipv6;	  /**< host was an IPv6 reference */
	uint8_t has_headers;	  /**< a '?' header part is present (maybe empty) */
};

/** The top Via's first via-parm (RFC 3261 §20.42, RFC 3581). */
struct sip_via {
	struct sip_slice value;	      /**< the whole via-parm, "SIP/2.0/UDP host:port;params" */
	struct sip_slice transport;   /**< "UDP", "TCP", ... */
	struct sip_slice host;	      /**< sent-by host; IPv6 without [ ] */
	struct sip_slice branch;      /**< value of branch=, len 0 if absent */
	struct sip_slice received;    /**< value of received=, len 0 if absent */
	uint16_t port;		      /**< sent-by port, 0 when absent */
	struct sip_slice rport_param; /**< the rport parameter as written, "rport[=n]" */
	int32_t rport;		      /**< -1 absent, 0 present without value, else its value */
	uint8_t host_is_ipv6;
};

/**
 * A push address as written (slices may hold %-escapes; the control plane
 * unescapes and normalises them). Which field is which per form:
 * | form     | provider      | prid        | param   |
 * |----------|---------------|-------------|---------|
 * | RFC8599  | pn-provider   | pn-prid     | pn-param|
 * | LEGACY   | pn-type       | pn-tok      | app-id  |
 * | XPUSH    | device-os     | device-uid  | app-id  |
 */

struct sip_push {
	uint8_t form;  /**< enum sip_pn_form; SIP_PN_NONE: no push address */
	uint8_t flags; /**< SIP_PN_DUP */
	struct sip_slice provider;
	struct sip_slice prid;
	struct sip_slice param;
};

/** The first Contact value (RFC 3261 §20.10, RFC 5626 §4.1, RFC 8599 §4.1). */
struct sip_contact {
	struct sip_slice value; /**< this contact-param: name-addr / addr-spec and its params */
	struct sip_uri uri;
	int32_t expires;	   /**< expires= parameter; -1 absent; repeated (a response
				      only): the smallest */
	uint8_t expires_differ;	   /**< expires= repeated with different values */
	struct sip_slice instance; /**< +sip.instance value, quotes removed; len 0 absent */
	int32_t reg_id;		   /**< reg-id= parameter; -1 absent */
	struct sip_push pn;	   /**< from the URI's pn-* / legacy parameters */
};

/** From / To: name-addr or addr-spec with its tag (RFC 3261 §20.20, §20.39). */
struct sip_nameaddr {
	struct sip_slice value; /**< the whole field value */
	struct sip_uri uri;
	struct sip_slice tag; /**< value of tag=, len 0 if absent */
};

/** One header field as it appears in the message. */
struct sip_hdr {
	struct sip_slice name;	/**< as written (may be compact, any case) */
	struct sip_slice value; /**< trimmed; may span folded lines (CRLF + WSP inside) */
	uint8_t id;		/**< enum sip_hdr_id */
};

/** What the scanner found. Valid only when sip_scan() returned SIP_SCAN_OK. */
struct sip_msg {
	uint8_t is_request;
	uint8_t method; /**< request: its method; response: the CSeq method */
	struct sip_slice method_name;
	struct sip_uri ruri; /**< requests only */
	uint16_t status;     /**< responses only: 100..699 */
	struct sip_slice reason;

	struct sip_via via; /**< top Via, first via-parm */
	struct sip_nameaddr from;
	struct sip_nameaddr to;
	struct sip_slice call_id;
	uint32_t cseq;
	uint8_t cseq_method; /**< enum sip_method */
	struct sip_slice cseq_method_name;
	int16_t max_forwards;	/**< -1 when absent */
	int32_t content_length; /**< -1 when absent (UDP: body runs to the datagram's end) */
	int32_t expires;	/**< Expires header (delta-seconds, saturated); -1 absent */

	struct sip_contact contact; /**< first Contact value; valid when n_contacts > 0 */
	uint8_t n_contacts;    /**< Contact values over all Contact fields (saturates at 255) */
	uint8_t contact_star;  /**< "Contact: *" (REGISTER removing every binding) */
	uint8_t contact_bad;   /**< a response to REGISTER whose Contact fields do not all
				  parse (any other message fails the scan): n_contacts,
				  contact and contact_star are then empty */
	uint8_t expires_bad;   /**< a response to REGISTER whose Expires does not parse:
				  expires is then -1. Two that do: the smallest */
	struct sip_push xpush; /**< from an X-Push header; form SIP_PN_NONE if absent */
	struct sip_slice xpush_value; /**< the first X-Push value (any of its names) */
	struct sip_uri route;	      /**< first Route URI; route.whole.len 0 if none */
	uint16_t route_next;	      /**< where the Route value after it starts in its field (past
				  the comma), or that field's end: what a proxy popping
				  the first Route keeps (RFC 3261 §16.4) */
	struct sip_uri record_route;  /**< first Record-Route URI; whole.len 0 if none */
	struct sip_slice user_agent;  /**< first User-Agent value; len 0 if none */

	uint16_t hdrs_end; /**< offset of the first byte after the empty line */
	struct sip_slice body;
	uint16_t msg_len; /**< headers + body; bytes after it (RFC 3261 §18.3) are surplus */

	uint8_t nhdrs;
	struct sip_hdr hdrs[SIP_MAX_HDRS]; /**< every header field, in order */
};

/**
 * Scan one SIP message.
 *
 * @param buf  first byte of the SIP message (borrowed; only read).
 * @param len  bytes available at @p buf; nothing past buf + len is read.
 * @param msg  filled on SIP_SCAN_OK; unspecified otherwise (caller-owned).
 * @return SIP_SCAN_OK, or the SIP_ERR_* reason the message is malformed.
 *
 * Accepts compact header names, any case, folded lines (RFC 3261 §7.3.1) and
 * several comma-separated values in one Via. A response to REGISTER is
 * accepted with a Contact or Expires that does not parse, or a second Expires
 * (contact_bad, expires_bad): the control plane relays it and decides what it
 * can take from it. Requires Via, From, To, Call-ID
 * and CSeq; with Content-Length, a body longer than the datagram is an error
 * and bytes after the body are surplus (RFC 3261 §18.3).
 */
enum sip_verdict sip_scan(const uint8_t *buf, uint32_t len, struct sip_msg *msg);

/**
 * A cheap look (at most ~32 bytes read) at whether @p buf can be a SIP
 * message at all: its start line begins with "SIP/" or with a token and a
 * space. False means sip_scan() would say SIP_ERR_BAD_START_LINE (or
 * TRUNCATED), so junk can be dropped without scanning it.
 */
bool sip_plausible(const uint8_t *buf, uint32_t len);

/**
 * Push address from a URI's parameters (RFC 8599 §4.1 or the legacy form),
 * for a URI the scan does not read one from (the Request-URI).
 *
 * @param buf     the message (borrowed; only read).
 * @param params  the parameters, as sip_uri.params (";..." without the
 *                first ";"); nothing outside it is read.
 * @param pn      filled; form SIP_PN_NONE when there is no push address.
 */
void sip_push_from_params(const uint8_t *buf, struct sip_slice params, struct sip_push *pn);

/**
 * The first via-parm of a Via field value (RFC 3261 §20.42): what the scan
 * does for the top Via only, for the values below it (a proxy sends a
 * response to the second Via, §18.2.2).
 *
 * @param buf   the message (borrowed; only read inside @p val).
 * @param val   a Via field value, or the rest of one from a via-parm on.
 * @param via   filled on SIP_SCAN_OK.
 * @param next  set to the offset of the next via-parm of @p val (past its
 *              comma and LWS), or to the end of @p val when there is none.
 * @return SIP_SCAN_OK or SIP_ERR_BAD_VIA.
 */
enum sip_verdict sip_via_first(const uint8_t *buf, struct sip_slice val, struct sip_via *via,
			       uint16_t *next);

/**
 * The first route-param of a Route / Record-Route field value (RFC 3261
 * §20.34): its URI, and where the next one starts (as sip_via_first()).
 * @return SIP_SCAN_OK or SIP_ERR_BAD_ROUTE.
 */
enum sip_verdict sip_route_first(const uint8_t *buf, struct sip_slice val, struct sip_uri *uri,
				 uint16_t *next);

/**
 * Implementations of the structural index the scanner frames header fields
 * with (sip/sip_index.h). They give the same verdicts and the same slices
 * for every input; they differ only in how many bytes an instruction judges.
 */
enum sip_impl {
	SIP_IMPL_BEST = 0, /**< the widest this CPU runs (the default, chosen at load) */
	SIP_IMPL_PORTABLE, /**< plain C over the class table */
	SIP_IMPL_SSSE3,	   /**< 16 bytes per step */
	SIP_IMPL_AVX2,	   /**< 32 bytes per step */
};

/**
 * Use @p impl from now on, in every thread (tests and fuzz targets compare
 * the implementations; nothing else needs to call it).
 * @return the implementation now in use (never SIP_IMPL_BEST), or -ENOTSUP
 *         when this CPU or build cannot run @p impl (nothing changes).
 */
int sip_scan_use(enum sip_impl impl);

/** Name of the implementation in use: "avx2", "ssse3" or "portable". */
const char *sip_scan_impl_name(void);

/** Byte classes the scanner spans 16 bytes at a time (0 on a build without SSSE3). */
unsigned sip_vector_classes(void);

/** Counter name of a verdict ("ok" for SIP_SCAN_OK, "sip_truncated", ...). Never NULL. */
const char *sip_verdict_name(enum sip_verdict v);

/**
 * Reason phrase (RFC 3261 §21) of the statuses sipwake itself answers with:
 * 200, 400, 403, 404, 408, 480, 481, 483, 500, 503, 513; "Unknown" else.
 * Static string, never NULL.
 */
const char *sip_reason(unsigned status);

/** Method from its name (case-sensitive, RFC 3261 §7.1). */
enum sip_method sip_method_from(const uint8_t *name, size_t len);

/**
 * The values of one Contact header field (@p val is its value slice from a
 * scan of @p buf): fills at most @p max entries of @p out in order.
 * @return how many were filled (0 for "*"), or -1 if the value is malformed.
 * A registrar's 2xx lists every binding of the AOR; this finds ours. As in a
 * response, expires= may repeat: the smallest, expires_differ set when they
 * differ.
 */
int sip_contacts(const uint8_t *buf, struct sip_slice val, struct sip_contact *out, unsigned max);

/**
 * @p uri (@p len bytes, a URI as registered: no < >) without its push
 * parameters (RFC 8599 §4.1.2: they are for the registrar's eyes): pn-*
 * always, app-id only beside pn-type (the legacy form; alone it is the app's
 * own). The URI to send is the concatenation of the slices of @p uri written
 * to @p out, in order; parameters and the "?" header part that stay keep
 * their place. A URI whose push parameters each appear once needs at most 7.
 * @return how many slices, or -E2BIG (more than @p max, or @p len over 64 KiB).
 */
int sip_uri_without_pn(const char *uri, uint32_t len, struct sip_slice *out, unsigned max);

/** Pointer to the first byte of @p s in @p buf. */
static inline const char *sip_ptr(const uint8_t *buf, struct sip_slice s)
{
	return (const char *)buf + s.off;
}

/** A header field whole: its name through the end of its (folded) value. */
static inline struct sip_slice sip_hdr_line(const struct sip_hdr *h)
{
	return (struct sip_slice){h->name.off,
				  (uint16_t)(h->value.off + h->value.len - h->name.off)};
}

/**
 * Where a proxy's own lines go in a request it forwards (RFC 3261 §16.6
 * steps 4 and 8, §7.3.1): its Via right before header field *@p first, the
 * first Via; its Record-Route (and a Max-Forwards it adds) before the field
 * returned (sm->nhdrs: after the last one), the one after the run of Via
 * fields that starts at *@p first. §7.3.1 lets other fields sit between Via
 * fields, but a UA that copies the Vias into its response as one run of lines
 * then drops the sender's and its answer cannot go back; kept contiguous, the
 * run is every Via. A Record-Route field before the first Via moves the
 * second point up to it: step 4 puts ours above every existing one.
 * No Via: both sm->nhdrs.
 */
static inline unsigned sip_via_run(const struct sip_msg *sm, unsigned *first)
{
	unsigned i = 0, rr = sm->nhdrs;

	for (; i < sm->nhdrs && sm->hdrs[i].id != SIP_H_VIA; i++)
		if (sm->hdrs[i].id == SIP_H_RECORD_ROUTE && rr == sm->nhdrs)
			rr = i;
	*first = i;
	while (i < sm->nhdrs && sm->hdrs[i].id == SIP_H_VIA)
		i++;
	return rr < *first ? rr : i;
}

#endif /* SIP_SCAN_H */
