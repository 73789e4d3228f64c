/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The structural index's implementations (sip/sip_index.h) against each
 * other: every block classifier this CPU runs gives the portable walk's
 * masks for every byte value at every position and for random blocks, and
 * sip_scan() gives the same verdict and the same fields with each of them
 * on the RFC 4475 messages, every prefix of them (the last, partial block)
 * and bounded random mutations (seeded: a failure reproduces).
 */
#include <errno.h>

#include "sip_test_util.h"

#include "sip/sip_index.h"
#include "tests/fuzz/sip_same.h"

#include "rfc4475_invalid.h"
#include "rfc4475_valid.h"

static const enum sip_impl impls[] = {SIP_IMPL_PORTABLE, SIP_IMPL_SSSE3, SIP_IMPL_AVX2};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void masks_of(enum sip_impl impl, const uint8_t *blk, uint64_t *ctl, uint64_t *ntok)
{
	assert_true(sip_scan_use(impl) >= 0);
	assert_int_equal(sip_ix_build(blk, ctl, ntok, 1), 1);
}

static void assert_same_masks(const uint8_t *blk)
{
	uint64_t c0, t0, c, t;

	masks_of(SIP_IMPL_PORTABLE, blk, &c0, &t0);
	for (unsigned i = 1; i < N(impls); i++) {
		if (sip_scan_use(impls[i]) < 0)
			continue;
		assert_int_equal(sip_ix_build(blk, &c, &t, 1), 1);
		if (c != c0 || t != t0)
			fail_msg("%s: ctl %016llx ntok %016llx, portable %016llx %016llx",
				 sip_scan_impl_name(), (unsigned long long)c, (unsigned long long)t,
				 (unsigned long long)c0, (unsigned long long)t0);
	}
	assert_true(sip_scan_use(SIP_IMPL_BEST) >= 0);
}

static void test_classifiers_agree(void **state)
{
	uint8_t blk[SIP_IX_BLOCK];

	(void)state;
	/* Every byte value at every position, beside a token and a CR. */
	for (unsigned v = 0; v < 256; v++) {
		for (unsigned i = 0; i < SIP_IX_BLOCK; i++)
			blk[i] = (uint8_t)(i % 3 == 0 ? 'a' : i % 3 == 1 ? v : '\r');
		assert_same_masks(blk);
		memset(blk, (int)v, sizeof(blk));
		assert_same_masks(blk);
	}
	for (unsigned n = 0; n < 20000; n++) {
		for (unsigned i = 0; i < SIP_IX_BLOCK; i++)
			blk[i] = (uint8_t)next_rand();
		assert_same_masks(blk);
	}
}

static bool is_ctl(uint8_t c)
{
	return c < ' ' && c != '\t';
}

/*
 * Several blocks in one call: every implementation stops after the same
 * block (the one where CRLFCRLF ends, also across a block boundary) with the
 * same masks.
 */
static void test_builds_agree(void **state)
{
	enum { NB = 6 };
	static uint8_t buf[NB * SIP_IX_BLOCK];
	uint64_t c0[NB], t0[NB], c[NB], t[NB];

	(void)state;
	for (unsigned n = 0; n < 3000; n++) {
		uint32_t at = (uint32_t)(next_rand() % (sizeof(buf) - 3)), k0, k, end;

		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)("ab:; \t\r\n"[next_rand() % 9]);
		/* Only the planted CRLFCRLF is four control bytes in a row. */
		for (unsigned i = 3; i < sizeof(buf); i++)
			if (is_ctl(buf[i]) && is_ctl(buf[i - 1]) && is_ctl(buf[i - 2]) &&
			    is_ctl(buf[i - 3]))
				buf[i] = 'a';
		memcpy(buf + at, "\r\n\r\n", 4);
		assert_true(sip_scan_use(SIP_IMPL_PORTABLE) >= 0);
		k0 = sip_ix_build(buf, c0, t0, NB);
		/* The first run's last byte (the planted one's, or one that the planted
		 * bytes make with a control byte before them) decides the block. */
		for (end = 3; end < sizeof(buf); end++)
			if (is_ctl(buf[end]) && is_ctl(buf[end - 1]) && is_ctl(buf[end - 2]) &&
			    is_ctl(buf[end - 3]))
				break;
		assert_true(end <= at + 3);
		assert_int_equal(k0, end / SIP_IX_BLOCK + 1);
		for (unsigned i = 1; i < N(impls); i++) {
			if (sip_scan_use(impls[i]) < 0)
				continue;
			k = sip_ix_build(buf, c, t, NB);
			assert_int_equal(k, k0);
			assert_memory_equal(c, c0, k * sizeof(c[0]));
			assert_memory_equal(t, t0, k * sizeof(t[0]));
		}
	}
	assert_true(sip_scan_use(SIP_IMPL_BEST) >= 0);
}

/* The portable masks themselves, from the grammar: CR, LF, NUL, DEL control; HT not; ':' no token. */
static void test_portable_masks(void **state)
{
	uint8_t blk[SIP_IX_BLOCK];
	uint64_t ctl, ntok;

	(void)state;
	memset(blk, 'a', sizeof(blk));
	blk[0] = '\r';
	blk[1] = '\n';
	blk[2] = '\t';
	blk[3] = 0x7f;
	blk[4] = ':';
	blk[5] = 0x80;
	blk[63] = 0;
	masks_of(SIP_IMPL_PORTABLE, blk, &ctl, &ntok);
	assert_int_equal(ctl, (1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 63));
	assert_int_equal(ntok, 0x3full | (1ull << 63));
	assert_true(sip_scan_use(SIP_IMPL_BEST) >= 0);
}

static const struct {
	const char *text;
	size_t len;
} msgs[] = {
	{m_wsinv, sizeof(m_wsinv) - 1},
	{m_intmeth, sizeof(m_intmeth) - 1},
	{m_esc01, sizeof(m_esc01) - 1},
	{m_escnull, sizeof(m_escnull) - 1},
	{m_esc02, sizeof(m_esc02) - 1},
	{m_lwsdisp, sizeof(m_lwsdisp) - 1},
	{m_longreq, sizeof(m_longreq) - 1},
	{m_dblreq, sizeof(m_dblreq) - 1},
	{m_semiuri, sizeof(m_semiuri) - 1},
	{m_transports, sizeof(m_transports) - 1},
	{m_mpart01, sizeof(m_mpart01) - 1},
	{m_unreason, sizeof(m_unreason) - 1},
	{m_noreason, sizeof(m_noreason) - 1},
	{m_badinv01, sizeof(m_badinv01) - 1},
	{m_clerr, sizeof(m_clerr) - 1},
	{m_ncl, sizeof(m_ncl) - 1},
	{m_scalar02, sizeof(m_scalar02) - 1},
	{m_scalarlg, sizeof(m_scalarlg) - 1},
	{m_quotbal, sizeof(m_quotbal) - 1},
	{m_ltgtruri, sizeof(m_ltgtruri) - 1},
	{m_lwsruri, sizeof(m_lwsruri) - 1},
	{m_lwsstart, sizeof(m_lwsstart) - 1},
	{m_trws, sizeof(m_trws) - 1},
	{m_escruri, sizeof(m_escruri) - 1},
	{m_baddate, sizeof(m_baddate) - 1},
	{m_regbadct, sizeof(m_regbadct) - 1},
	{m_badaspec, sizeof(m_badaspec) - 1},
	{m_baddn, sizeof(m_baddn) - 1},
	{m_badvers, sizeof(m_badvers) - 1},
	{m_mismatch01, sizeof(m_mismatch01) - 1},
	{m_mismatch02, sizeof(m_mismatch02) - 1},
	{m_bigcode, sizeof(m_bigcode) - 1},
	{m_badbranch, sizeof(m_badbranch) - 1},
	{m_insuf, sizeof(m_insuf) - 1},
	{m_unkscm, sizeof(m_unkscm) - 1},
	{m_novelsc, sizeof(m_novelsc) - 1},
	{m_unksm2, sizeof(m_unksm2) - 1},
	{m_bext01, sizeof(m_bext01) - 1},
	{m_invut, sizeof(m_invut) - 1},
	{m_regaut01, sizeof(m_regaut01) - 1},
	{m_multi01, sizeof(m_multi01) - 1},
	{m_mcl01, sizeof(m_mcl01) - 1},
	{m_bcast, sizeof(m_bcast) - 1},
	{m_zeromf, sizeof(m_zeromf) - 1},
	{m_cparam01, sizeof(m_cparam01) - 1},
	{m_cparam02, sizeof(m_cparam02) - 1},
	{m_regescrt, sizeof(m_regescrt) - 1},
	{m_sdp01, sizeof(m_sdp01) - 1},
	{m_inv2543, sizeof(m_inv2543) - 1},
};

static struct sip_msg ref, other;

/* @p buf (@p len bytes, exactly allocated) scans alike with every implementation. */
static void assert_scans_alike(const uint8_t *buf, uint32_t len)
{
	enum sip_verdict v0, v;
	const char *diff;

	assert_true(sip_scan_use(SIP_IMPL_PORTABLE) >= 0);
	v0 = sip_scan(buf, len, &ref);
	for (unsigned i = 1; i < N(impls); i++) {
		if (sip_scan_use(impls[i]) < 0)
			continue;
		v = sip_scan(buf, len, &other);
		if (v != v0)
			fail_msg("%s: verdict %s, portable %s (len %u)", sip_scan_impl_name(),
				 sip_verdict_name(v), sip_verdict_name(v0), len);
		diff = v0 == SIP_SCAN_OK ? sip_same_msg(&ref, &other) : NULL;
		if (diff != NULL)
			fail_msg("%s: %s differs from the portable scan", sip_scan_impl_name(),
				 diff);
	}
	assert_true(sip_scan_use(SIP_IMPL_BEST) >= 0);
}

static void test_scans_agree(void **state)
{
	static const uint8_t edits[] = {'\r', '\n', ':', ' ', '\t', 0,	 0x7f, 0x80,
					0xff, 'a',  ';', ',', '"',  '<', '>',  '='};

	(void)state;
	for (unsigned m = 0; m < N(msgs); m++) {
		uint32_t len = (uint32_t)msgs[m].len;
		uint8_t *buf;

		/* Every prefix: the partial last block at each offset. */
		for (uint32_t n = 1; n <= len; n++) {
			buf = malloc(n);
			assert_non_null(buf);
			memcpy(buf, msgs[m].text, n);
			assert_scans_alike(buf, n);
			free(buf);
		}
		buf = malloc(len);
		assert_non_null(buf);
		for (unsigned k = 0; k < 400; k++) {
			uint32_t at = (uint32_t)(next_rand() % len);
			uint8_t was = (uint8_t)msgs[m].text[at];

			memcpy(buf, msgs[m].text, len);
			buf[at] = edits[next_rand() % sizeof(edits)];
			assert_scans_alike(buf, len);
			buf[at] = was;
		}
		free(buf);
	}
}

static void test_best_is_chosen(void **state)
{
	(void)state;
	assert_true(sip_scan_use(SIP_IMPL_BEST) > SIP_IMPL_BEST);
	if (__builtin_cpu_supports("avx2"))
		assert_string_equal(sip_scan_impl_name(), "avx2");
	assert_int_equal(sip_scan_use((enum sip_impl)99), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portable_masks), cmocka_unit_test(test_classifiers_agree),
		cmocka_unit_test(test_builds_agree),   cmocka_unit_test(test_scans_agree),
		cmocka_unit_test(test_best_is_chosen),
	};

	printf("sip_index: structural index %s\n", sip_scan_impl_name());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
