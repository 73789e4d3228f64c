/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pushd's reading of push-service answers
 * (pushd/pd_verdict.c): what pd_h2.c hands it as a stream's headers and
 * body arrive, what pd_answer.c acts on, and the pd_result made of it.
 *
 * An input is text, as an answer would be written down:
 *   line 1     the provider, "apns", "fcm" or "webpush" (else APNs),
 *              and "renew" anywhere on it: the job may renew its provider
 *              token (not done yet for this push);
 *   then       header lines "name: value" (":status: 410", "retry-after:
 *              30", "apns-id: ..."), up to an empty line; a line without
 *              ": " is a name with an empty value;
 *   the rest   the body, handed over in two chunks.
 * Each header goes through pd_answer_header() and the body through
 * pd_answer_data(), then pd_answer_judge() says what the answer means, and
 * a finished one is made into a pd_result (pd_result_fill()). Promises
 * checked (pd_internal.h), each against the raw input rather than the
 * code's own reading:
 *   - the status is the last :status's value when that is three digits,
 *     else 0; Retry-After its leading digits, 999999 at most;
 *   - the body kept is the first 1023 bytes of the body, the headers kept
 *     fit their buffer, both NUL-terminated;
 *   - delivered exactly for a 200 (Web Push: 200, 201, 202);
 *   - a dead token only for APNs 410 (always), FCM 404 UNREGISTERED, Web
 *     Push 404 / 410 (always): never a 2xx, a 429 or a 5xx; its time is
 *     after 0 and not after the answer;
 *   - a renewal only when allowed and for APNs 403, FCM 401, Web Push 401;
 *     a later retry only for 429 and 5xx;
 *   - the reason is printable ASCII, NUL-terminated within its 64 bytes,
 *     empty exactly when delivered; APNs' own reason is passed on as sent
 *     when it is short and printable;
 *   - the pd_result carries the verdict's status, reason and time, the
 *     HTTP status, and the body and headers kept, NUL-terminated.
 * A broken promise aborts; the sanitizers add no crash, leak or undefined
 * behaviour (jansson included: its allocations are checked for leaks).
 *
 * Built with clang by tests/fuzz/build.sh; tests/fuzz/replay.c runs the same
 * checks over tests/fuzz/corpus_pd_answer/ with gcc, as a meson unit test.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pushd/pd_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz_pd_answer: invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                             \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* What the input says, read here independently of pd_verdict.c. */
struct want {
	int status;
	unsigned retry_after_s;
};

/* The number of v's leading digits (at most 7 read), and how many there are. */
static unsigned long leading(const uint8_t *v, size_t vl, size_t *n)
{
	char buf[8];

	for (*n = 0; *n < vl && *n < sizeof(buf) - 1 && v[*n] >= '0' && v[*n] <= '9'; (*n)++)
		buf[*n] = (char)v[*n];
	buf[*n] = '\0';
	return strtoul(buf, NULL, 10);
}

static void want_header(struct want *w, const uint8_t *name, size_t nl, const uint8_t *v, size_t vl)
{
	unsigned long x;
	size_t n;

	if (nl == 7 && !memcmp(name, ":status", 7)) {
		x = leading(v, vl, &n);
		w->status = vl == 3 && n == 3 ? (int)x : 0;
	} else if (nl == 11 && !memcmp(name, "retry-after", 11)) {
		x = leading(v, vl, &n);
		w->retry_after_s = n > 6 ? 999999 : (unsigned)x;
	}
}

static bool printable(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);

	if (end == NULL)
		return false;
	for (; s < end; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* APNs' reason as sent, when it would pass unchanged: short and printable. */
static void check_apns_reason(const struct pd_job *j, const struct pd_verdict *v)
{
	json_t *root = json_loads(j->resp, 0, NULL);
	const char *r = json_string_value(json_object_get(root, "reason"));

	if (r != NULL && r[0] != '\0' && strlen(r) < sizeof(v->reason) &&
	    printable(r, strlen(r) + 1))
		CHECK(!strcmp(v->reason, r));
	json_decref(root);
}

static void check_verdict(const struct pd_job *j, bool can_renew, int64_t now_ms,
			  const struct pd_verdict *v)
{
	enum pd_provider p = j->req.provider;
	int s = j->status;
	bool ok2xx = p == PD_WEBPUSH ? s == 200 || s == 201 || s == 202 : s == 200;

	CHECK(printable(v->reason, sizeof(v->reason)));
	CHECK(v->next == PD_NEXT_FINISH || v->next == PD_NEXT_RENEW || v->next == PD_NEXT_LATER);
	CHECK((v->next == PD_NEXT_FINISH && v->status == PD_DELIVERED) == ok2xx);
	CHECK((v->reason[0] == '\0') == ok2xx);
	if (p == PD_APNS && s != 200)
		check_apns_reason(j, v);
	if ((p == PD_APNS && s == 410) || (p == PD_WEBPUSH && (s == 404 || s == 410)))
		CHECK(v->next == PD_NEXT_FINISH && v->status == PD_DEAD_TOKEN);
	switch (v->next) {
	case PD_NEXT_RENEW:
		CHECK(can_renew);
		CHECK((p == PD_APNS && s == 403) || (p != PD_APNS && s == 401));
		break;
	case PD_NEXT_LATER:
		CHECK(s == 429 || (s >= 500 && s <= 599));
		break;
	case PD_NEXT_FINISH:
		CHECK(v->status == PD_DELIVERED || v->status == PD_DEAD_TOKEN ||
		      v->status == PD_REJECTED || v->status == PD_CONFIG_ERROR);
		if (v->status == PD_DEAD_TOKEN) {
			CHECK(s >= 400 && s <= 499 && s != 429);
			CHECK((p == PD_APNS && s == 410) ||
			      (p == PD_FCM && s == 404 && !strcmp(v->reason, "UNREGISTERED")) ||
			      (p == PD_WEBPUSH && (s == 404 || s == 410)));
			CHECK(v->ts_ms > 0 && v->ts_ms <= now_ms);
		} else {
			CHECK(v->ts_ms == 0);
		}
		break;
	}
}

static void check_result(const struct pd_result *r, const struct pd_job *j,
			 const struct pd_verdict *v)
{
	size_t bl;

	CHECK(r->status == v->status && r->provider_ts_ms == v->ts_ms);
	CHECK(!strcmp(r->reason, v->reason));
	CHECK(r->http_status == j->status);
	CHECK(memchr(r->headers, '\0', sizeof(r->headers)) != NULL);
	CHECK(!memcmp(r->headers, j->hdrs, j->hdrs_len + 1));
	bl = j->resp_len < sizeof(r->body) ? j->resp_len : sizeof(r->body) - 1;
	CHECK(r->body[bl] == '\0' && !memcmp(r->body, j->resp, bl));
}

/* The next line of [*p, end): its end (without '\n'), *p moved past it. */
static const uint8_t *next_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p)), *eol = nl ? nl : end;

	*p = nl ? nl + 1 : end;
	return eol;
}

static struct pd_job job;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *eol, *body;
	struct want w = {0};
	struct pd_verdict v;
	struct pd_result r;
	bool can_renew;
	int64_t now_ms;
	size_t half;

	memset(&job, 0, sizeof(job));
	eol = next_line(&p, end);
	job.req.provider = eol - data >= 3 && !memcmp(data, "fcm", 3)	    ? PD_FCM
			   : eol - data >= 7 && !memcmp(data, "webpush", 7) ? PD_WEBPUSH
									    : PD_APNS;
	can_renew = memmem(data, (size_t)(eol - data), "renew", 5) != NULL;
	while (p < end) {
		const uint8_t *line = p, *sep;

		eol = next_line(&p, end);
		if (eol == line)
			break;
		sep = memmem(line, (size_t)(eol - line), ": ", 2);
		if (sep == NULL)
			sep = eol;
		pd_answer_header(&job, line, (size_t)(sep - line), sep == eol ? eol : sep + 2,
				 sep == eol ? 0 : (size_t)(eol - sep - 2));
		want_header(&w, line, (size_t)(sep - line), sep == eol ? eol : sep + 2,
			    sep == eol ? 0 : (size_t)(eol - sep - 2));
		CHECK(job.hdrs_len < sizeof(job.hdrs) && job.hdrs[job.hdrs_len] == '\0');
	}
	body = p;
	half = (size_t)(end - body) / 2;
	pd_answer_data(&job, body, half);
	pd_answer_data(&job, body + half, (size_t)(end - body) - half);

	CHECK(job.status == w.status);
	CHECK(job.retry_after_s == w.retry_after_s);
	CHECK(job.resp_len == ((size_t)(end - body) < sizeof(job.resp) ? (size_t)(end - body)
								       : sizeof(job.resp) - 1));
	CHECK(job.resp[job.resp_len] == '\0' && !memcmp(job.resp, body, job.resp_len));

	now_ms = (int64_t)time(NULL) * 1000;
	pd_answer_judge(&job, can_renew, now_ms, &v);
	check_verdict(&job, can_renew, now_ms, &v);
	if (v.next == PD_NEXT_FINISH) {
		memset(&r, 0, sizeof(r));
		pd_result_fill(&r, &job, v.status, v.reason, v.ts_ms);
		check_result(&r, &job, &v);
	}
	return 0;
}
