/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential libFuzzer target: the SIP scanner (sip/sip_scan.h) against
 * libosip2, the reference parser of tests/unit/test_sip_osip_diff.c.
 *
 * Each input is copied into a heap buffer of exactly its size and scanned,
 * as in fuzz_sip_scan.c. Only a message the scanner ACCEPTS goes on: its
 * msg_len bytes (without the surplus of a datagram, which RFC 3261 §18.3
 * discards and libosip2 knows nothing of) are parsed by
 * osip_message_parse() from a NUL-terminated copy. Then:
 *
 * - libosip2 rejects it: a disagreement, but sipwake is allowed to be the
 *   more lenient one where the edge does not read (lower Via hops, display
 *   names, Content-Type, bodies) or where sip/sip_scan.c's "Decisions" say
 *   so (a Call-ID with bytes outside word ["@" word], see callid_ok()), so
 *   each is counted by kind (libosip2's
 *   first warning or error trace: file, line and format, with the header's
 *   name for "Could not set header"; or its return code when it traced
 *   nothing) rather than aborting.
 * - Both accept: tests/unit/osip_cmp.c compares the fields both expose.
 *   A difference in a field the edge relies on aborts (libFuzzer reports a
 *   crash with the reproducer): method or status code, Request-URI user and
 *   host, Call-ID, CSeq number and method, From / To tag and URI host, top
 *   Via transport, host, port and branch, Content-Length and body, and the
 *   number of Contact values of a REGISTER. The exceptions are the intended
 *   differences documented in osip_cmp.c (which the unit cases avoid) and
 *   sip/sip_scan.h, mirrored in excepted() below. A difference in any other
 *   field (reason phrase, URI ports, Via received and rport, Expires,
 *   Contact URI) is counted by kind, not fatal.
 *
 * SIP_OSIP_DISAGREE_DIR=dir keeps the first KEEP_PER_KIND inputs of each
 * kind there (k<kind>-<n>.sip), and the shortest (k<kind>-short.sip);
 * tests/fuzz/run.sh sets it. SIP_OSIP_VERBOSE=1 prints each counted field
 * difference with both values (to read a kept input: fuzz_sip_osip FILE).
 * At exit a summary on stderr gives the counts per kind; they count runs of
 * the target, and libFuzzer runs an input twice when it checks it for a
 * leak.
 *
 * Every input is also scanned by each implementation of the structural
 * index (sip/sip_index.h), which must agree with the one in use on the
 * verdict and every field (tests/fuzz/sip_same.h), as in fuzz_sip_scan.c:
 * one run of this target is differential against both the portable scanner
 * and libosip2.
 *
 * Built with clang by tests/fuzz/build.sh (target "osip"), run by
 * tests/fuzz/run.sh <seconds> osip; tests/fuzz/replay.c runs it over the
 * seed corpus with gcc as the meson unit test fuzz_sip_osip_corpus.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "osip_cmp.h"
#include "tests/fuzz/sip_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_sip_osip: invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                            \
			abort();                                                                \
		}                                                                               \
	} while (0)

#define MAX_KINDS     128
#define KEEP_PER_KIND 3

struct kind {
	char name[160];
	unsigned long count;
	uint32_t shortest; /* length of the shortest input kept, 0: none yet */
};

static struct {
	int ready;
	const char *dir; /* SIP_OSIP_DISAGREE_DIR, or NULL */
	int verbose;	 /* SIP_OSIP_VERBOSE=1: print every counted difference */
	unsigned long accepted, osip_rejected, agreed, differed;
	struct kind kinds[MAX_KINDS];
	unsigned nkinds;
	unsigned long lost; /* disagreements past MAX_KINDS kinds */
	char trace[160];    /* libosip2's first warning or error for this input */
} st;

/* The input being compared, for the field callback. */
struct cur {
	const uint8_t *buf;
	uint32_t len;
	const struct sip_msg *m;
	osip_message_t *msg;
};

/*
 * Comparisons of this file's own names (kinds, fields), kept out of
 * libFuzzer's view: its strcmp() hook and -fsanitize=fuzzer's comparison
 * tracing would otherwise feed these strings to the mutator as dictionary
 * entries ("both accept, body differs: ..."), which no SIP message needs.
 * gcc (the meson replay) has no such instrumentation.
 */
#ifdef __clang__
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define NO_COVERAGE
#endif

NO_COVERAGE static int starts(const char *s, const char *prefix)
{
	while (*prefix != '\0')
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

NO_COVERAGE static int eq(const char *a, const char *b)
{
	return starts(a, b) && a[strlen(b)] == '\0';
}

NO_COVERAGE static int ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && starts(s + n - k, suffix);
}

static void trace_cb(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	const char *base = strrchr(fi, '/');
	char what[128];

	if (st.trace[0] != '\0' || level > OSIP_WARNING)
		return;
	/* The format, not the formatted text: one kind per place in libosip2.
	 * But osip_parser_cfg.c's "Could not set header: %s: %s" is where every
	 * header that does not parse ends up: keep its name (the first %s). */
	snprintf(what, sizeof(what), "%s", chfr);
	if (starts(chfr, "Could not set header: %s")) {
		char full[512];

		vsnprintf(full, sizeof(full), chfr, ap);
		full[strcspn(full, "\r\n")] = '\0';
		snprintf(what, sizeof(what), "Could not set header: %.40s", full + 22);
		what[22 + strcspn(what + 22, ":")] = '\0';
	}
	snprintf(st.trace, sizeof(st.trace), "%s:%d %s", base != NULL ? base + 1 : fi, li, what);
	st.trace[strcspn(st.trace, "\r\n")] = '\0';
}

static void summary(void)
{
	fprintf(stderr,
		"fuzz_sip_osip: %lu accepted by sipwake: %lu rejected by libosip2, %lu agreed, "
		"%lu with only counted differences (intended, or in a field not relied on)\n",
		st.accepted, st.osip_rejected, st.agreed, st.differed);
	for (unsigned i = 0; i < st.nkinds; i++)
		fprintf(stderr, "fuzz_sip_osip: k%u %8lu  %s\n", i, st.kinds[i].count,
			st.kinds[i].name);
	if (st.lost != 0)
		fprintf(stderr, "fuzz_sip_osip: %lu more of kinds past the first %d\n", st.lost,
			MAX_KINDS);
}

static void setup(void)
{
	CHECK(parser_init() == 0);
	osip_trace_initialize_func(OSIP_INFO1, trace_cb); /* FATAL..WARNING */
	st.dir = getenv("SIP_OSIP_DISAGREE_DIR");
	if (st.dir != NULL && st.dir[0] == '\0')
		st.dir = NULL;
	st.verbose = getenv("SIP_OSIP_VERBOSE") != NULL && atoi(getenv("SIP_OSIP_VERBOSE")) != 0;
	atexit(summary);
	st.ready = 1;
}

/* Write @p buf to SIP_OSIP_DISAGREE_DIR/k<kind>-<suffix>.sip, if that is set. */
static void keep(unsigned kind, const uint8_t *buf, uint32_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void keep(unsigned kind, const uint8_t *buf, uint32_t len, const char *fmt, ...)
{
	char path[4096], suffix[32];
	va_list ap;
	FILE *f;

	if (st.dir == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(suffix, sizeof(suffix), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/k%u-%s.sip", st.dir, kind, suffix);
	f = fopen(path, "wb");
	if (f != NULL) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}

/* Count one disagreement of kind @p name; keep the input if it is among the first. */
static void note(const char *name, const uint8_t *buf, uint32_t len)
{
	unsigned i;

	for (i = 0; i < st.nkinds; i++)
		if (eq(st.kinds[i].name, name))
			break;
	if (i == st.nkinds) {
		if (st.nkinds == MAX_KINDS) {
			st.lost++;
			return;
		}
		snprintf(st.kinds[i].name, sizeof(st.kinds[i].name), "%s", name);
		st.nkinds++;
		fprintf(stderr, "fuzz_sip_osip: new kind k%u: %s\n", i, name);
	}
	st.kinds[i].count++;
	/* The first few, and the shortest so far: the easiest to read. */
	if (st.kinds[i].count <= KEEP_PER_KIND)
		keep(i, buf, len, "%lu", st.kinds[i].count);
	if (st.kinds[i].shortest == 0 || len < st.kinds[i].shortest) {
		st.kinds[i].shortest = len;
		keep(i, buf, len, "%s", "short");
	}
}

/* Fields whose difference aborts (names from tests/unit/osip_cmp.c). */
static int relied_on(const char *field, const struct sip_msg *m)
{
	static const char *const names[] = {
		"is_request",
		"method",
		"method (response)",
		"status",
		"R-URI scheme",
		"R-URI user",
		"R-URI host",
		"R-URI (non-SIP URI)",
		"Call-ID",
		"CSeq",
		"CSeq number",
		"CSeq method",
		"From",
		"From tag",
		"From scheme",
		"From host",
		"From (non-SIP URI)",
		"To",
		"To tag",
		"To scheme",
		"To host",
		"To (non-SIP URI)",
		"Via",
		"Via transport",
		"Via host",
		"Via port",
		"Via branch",
		"Content-Length",
		"Content-Length (absent)",
		"body",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (eq(field, names[i]))
			return 1;
	/* The registrar counts bindings (dataplane, controlplane); other messages'
	 * Contacts are only relayed. */
	return eq(field, "Contact count") && m->is_request && m->method == SIP_M_REGISTER;
}

/* The URI a "<what> ..." field of osip_cmp.c is about, libosip2's and ours. */
static const osip_uri_t *field_uri(const char *field, osip_message_t *msg)
{
	osip_contact_t *ct = NULL;

	if (starts(field, "R-URI"))
		return msg->req_uri;
	if (starts(field, "From"))
		return msg->from != NULL ? msg->from->url : NULL;
	if (starts(field, "To"))
		return msg->to != NULL ? msg->to->url : NULL;
	if (starts(field, "Contact") && osip_message_get_contact(msg, 0, &ct) >= 0 && ct != NULL)
		return ct->url;
	return NULL;
}

static struct sip_slice field_whole(const char *field, const struct sip_msg *m)
{
	struct sip_slice none = {0};

	if (starts(field, "R-URI"))
		return m->ruri.whole;
	if (starts(field, "From"))
		return m->from.uri.whole;
	if (starts(field, "To"))
		return m->to.uri.whole;
	if (starts(field, "Contact") && m->n_contacts > 0)
		return m->contact.uri.whole;
	return none;
}

static int multipart(const osip_message_t *msg)
{
	return msg->content_type != NULL && msg->content_type->type != NULL &&
	       strcasecmp(msg->content_type->type, "multipart") == 0;
}

/* Is there LWS between the top Via's last "/" and its transport, with a SP
 * in it that is not its first byte? */
static int late_space_after_slash(const struct cur *c)
{
	uint32_t i = c->m->via.transport.off;
	int sp = 0;

	while (i > 0 && (c->buf[i - 1] == ' ' || c->buf[i - 1] == '\t' || c->buf[i - 1] == '\r' ||
			 c->buf[i - 1] == '\n')) {
		i--;
		if (c->buf[i] == ' ' && i > 0 && c->buf[i - 1] != '/')
			sp = 1;
	}
	return sp && i > 0 && c->buf[i - 1] == '/';
}

/*
 * The intended differences documented in tests/unit/osip_cmp.c (formerly
 * osip_diff.c), which a fuzzed message can reach and the unit cases avoid.
 * Returns the reason, or NULL when the difference is not excepted.
 */
static const char *excepted(const char *field, const struct cur *c)
{
	/* cmp_body(): libosip2 drops a body that has no Content-Type (RFC 3261
	 * §20.15 requires one for a non-empty body); the unit cases all have one.
	 * Content-Length itself is still compared. */
	if (eq(field, "body") && c->msg->content_type == NULL)
		return "body without Content-Type (dropped by libosip2)";
	/* Either, seen in the Content-Length libosip2 adds when there is none
	 * (cmp_body(), RFC 3261 §18.3): it counts the body it kept, not the
	 * bytes sent. */
	if (eq(field, "Content-Length (absent)") && c->msg->content_type == NULL)
		return "no Content-Type: libosip2 adds the Content-Length of no body";
	if (eq(field, "Content-Length (absent)") && multipart(c->msg))
		return "multipart: libosip2 adds the Content-Length of the parts it kept";
	/* cmp_body(): libosip2 splits a multipart body (RFC 2046 §5.1) into its
	 * MIME parts, boundaries left out; ours is the body as sent, which is what
	 * the edge relays. Content-Length is still compared. */
	if (eq(field, "body") && multipart(c->msg))
		return "multipart body (split into parts by libosip2)";
	/* cmp_uri() compares a URI of another scheme than sip: or sips: whole, as
	 * libosip2 keeps it opaque; but osip_uri_parse() only matches the first
	 * three letters, so it parses "sipx:u@h" as a SIP URI and keeps no opaque
	 * string. Ours is the URI as sent, scheme SIP_SCHEME_OTHER. */
	if (ends(field, " (non-SIP URI)")) {
		const osip_uri_t *u = field_uri(field, c->msg);
		const char *str = u != NULL ? u->string : NULL;
		size_t n = str != NULL ? strlen(str) : 0, k = n;

		if (u != NULL && u->scheme != NULL && strncasecmp(u->scheme, "sip", 3) == 0 &&
		    str == NULL)
			return "scheme sip* other than sip: and sips: (parsed as SIP by libosip2)";
		/* In the addr-spec form ("To: tel:+1 ;tag=x") libosip2 keeps the LWS
		 * before the ';' in the opaque URI; it belongs to SEMI = SWS ";" SWS
		 * (RFC 3261 §25.1), and ours ends before it. */
		while (k > 0 && (str[k - 1] == ' ' || str[k - 1] == '\t'))
			k--;
		if (k < n && u->scheme != NULL) {
			struct sip_slice w = field_whole(field, c->m);
			size_t sl = strlen(u->scheme);

			if (w.len == sl + 1 + k &&
			    strncasecmp((const char *)c->buf + w.off, u->scheme, sl) == 0 &&
			    c->buf[w.off + sl] == ':' &&
			    memcmp(c->buf + w.off + sl + 1, str, k) == 0)
				return "opaque URI with the LWS before ';' (kept by libosip2)";
		}
	}
	/* cmp_uri() compares the userinfo %HH-decoded, as C strings: an escaped
	 * NUL (RFC 4475 §3.1.1.4, escnull) ends both there, but libosip2's
	 * password after the ':' is rejoined whole. */
	if (ends(field, " user")) {
		struct sip_slice w = field_whole(field, c->m);

		for (uint32_t i = 0; i + 2 < w.len; i++)
			if (memcmp(c->buf + w.off + i, "%00", 3) == 0)
				return "escaped NUL in the userinfo (C-string comparison)";
	}
	/* sip/sip_via.c: SLASH = SWS "/" SWS (RFC 3261 §25.1), so LWS may come
	 * between the Via's last "/" and the transport. libosip2 takes the
	 * transport up to the first SP after the "/" unless that SP comes
	 * right after it: "SIP/2.0/<HTAB><SP>UDP" gives it an empty transport
	 * and "UDP" for the host (seed diff_via_tab_after_slash.sip). */
	if ((eq(field, "Via transport") || eq(field, "Via host") || eq(field, "Via port")) &&
	    late_space_after_slash(c))
		return "a late SP after the Via's last \"/\" (libosip2 cuts the transport there)";
	/* sip_scan.h: a response to REGISTER whose Contact or Expires does not
	 * parse is flagged (contact_bad, expires_bad) and left empty, not
	 * refused (sip_scan.c, answer_field()); libosip2 reads what it can. */
	if (starts(field, "Contact") && c->m->contact_bad)
		return "Contact of a REGISTER response that does not parse (contact_bad)";
	if (eq(field, "Expires") && c->m->expires_bad)
		return "Expires of a REGISTER response that does not parse (expires_bad)";
	/* sip_scan.h: Expires is delta-seconds saturated at 2^31 - 1 (RFC 3261
	 * §25.1 gives no bound), and so is a Contact's expires= (both read by
	 * sip_parse_delta()); libosip2 keeps the text. */
	if (eq(field, "Expires") && c->m->expires == INT32_MAX)
		return "Expires saturated at 2^31 - 1";
	if (eq(field, "Contact expires") && c->m->contact.expires == INT32_MAX)
		return "expires= saturated at 2^31 - 1";
	return NULL;
}

/* word (RFC 3261 §25.1): alphanum and - . ! % * _ + ` ' ~ ( ) < > : \ " / [ ] ? { } */
static int word_char(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch != '\0' && strchr("-.!%*_+`'~()<>:\\\"/[]?{}", ch) != NULL);
}

/*
 * callid = word [ "@" word ] (RFC 3261 §25.1). The scanner refuses a
 * Call-ID that is empty or has LWS inside, the one break that makes a call
 * ambiguous (a fold is one SP to the next hop, §7.3.1); other bytes outside
 * word, an empty word or a second "@" it passes on purpose (sip/sip_scan.c,
 * "Decisions"), where libosip2 refuses some ("@c"). This target found the
 * fold while the scanner still passed it (osip_callid_folded.sip): the
 * Call-ID slice kept CR LF SP where libosip2 has spaces, and Call-ID is
 * compared like any field the edge relies on.
 */
static int callid_ok(const uint8_t *buf, struct sip_slice cid)
{
	uint32_t at = cid.len, i;

	for (i = 0; i < cid.len; i++) {
		uint8_t ch = buf[cid.off + i];

		if (ch == '@' && at == cid.len)
			at = i;
		else if (!word_char(ch))
			return 0;
	}
	return at != 0 && at + 1 != cid.len;
}

static void on_field(void *user, const char *field, const char *what)
{
	const struct cur *c = user;
	const char *why = excepted(field, c);
	char kind[160];

	if (why == NULL && relied_on(field, c->m)) {
		fprintf(stderr, "fuzz_sip_osip: %s differs: %s\n", field, what);
		abort();
	}
	if (st.verbose)
		fprintf(stderr, "fuzz_sip_osip: counted: %s differs: %s\n", field, what);
	snprintf(kind, sizeof(kind), "both accept, %s differs%s%s", field, why ? ": " : "",
		 why ? why : "");
	note(kind, c->buf, c->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *m = malloc(sizeof(*m));
	uint8_t *buf = malloc(size != 0 ? size : 1);
	osip_message_t *msg = NULL;
	enum sip_verdict v;
	char *text;
	int rc;

	if (!st.ready)
		setup();
	CHECK(m != NULL && buf != NULL);
	if (size != 0)
		memcpy(buf, data, size);
	v = sip_scan(buf, (uint32_t)size, m);
	sip_scan_impls_check("fuzz_sip_osip", buf, (uint32_t)size, v, m);
	if (v != SIP_SCAN_OK)
		goto out;
	st.accepted++;
	text = malloc((size_t)m->msg_len + 1);
	CHECK(text != NULL);
	memcpy(text, buf, m->msg_len);
	text[m->msg_len] = '\0';
	CHECK(osip_message_init(&msg) == 0);
	st.trace[0] = '\0';
	rc = osip_message_parse(msg, text, m->msg_len);
	if (rc != 0) {
		char kind[200];

		st.osip_rejected++;
		if (!callid_ok(buf, m->call_id) &&
		    (ends(st.trace, "Could not set header: call-id") ||
		     ends(st.trace, "Could not set header: i")))
			snprintf(kind, sizeof(kind),
				 "libosip2 rejects a Call-ID outside word [\"@\" word] that "
				 "sip_scan.c passes on purpose");
		else if (st.trace[0] != '\0')
			snprintf(kind, sizeof(kind), "libosip2 rejects: %s", st.trace);
		else
			snprintf(kind, sizeof(kind), "libosip2 rejects: returned %d, no trace", rc);
		note(kind, buf, m->msg_len);
	} else {
		struct cur c = {.buf = buf, .len = m->msg_len, .m = m, .msg = msg};

		if (osip_cmp_msg(buf, m, msg, on_field, &c) == 0)
			st.agreed++;
		else
			st.differed++;
	}
	osip_message_free(msg);
	free(text);
out:
	free(buf);
	free(m);
	return 0;
}
