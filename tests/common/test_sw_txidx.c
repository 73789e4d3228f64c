/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The transaction index (common/sw_txidx.h) over slots of the caller's own
 * struct: a transaction is found by its exact key only (address, port and
 * branch all count), slots run out and come back, a freed slot is no longer
 * found and its key may be taken again, and chains survive deletes in any
 * order when every key shares one bucket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/sw_txidx.h"

struct rec {
	uint64_t before; /* the key sits inside the caller's struct, not first */
	struct sw_txkey key;
	uint32_t after;
};

#define MAX 64

static struct rec recs[MAX];
static struct sw_txidx idx;

static int setup(void **state)
{
	(void)state;
	memset(recs, 0, sizeof(recs));
	return SW_TXIDX_INIT(&idx, MAX, recs, key);
}

static int teardown(void **state)
{
	(void)state;
	sw_txidx_fini(&idx);
	return 0;
}

static struct sw_ip ip4(uint8_t last)
{
	return sw_ip_from_v4(__builtin_bswap32(0xc6120000u | last)); /* 198.18.0.x */
}

static uint32_t add(uint8_t host, uint16_t port, const char *branch)
{
	struct sw_ip ip = ip4(host);
	uint32_t slot = sw_txidx_take(&idx);

	if (slot == SW_TX_NONE)
		return slot;
	assert_int_equal(sw_txkey_set(&recs[slot].key, &ip, port, branch, strlen(branch)), 0);
	sw_txidx_link(&idx, slot);
	return slot;
}

static uint32_t find(uint8_t host, uint16_t port, const char *branch)
{
	struct sw_ip ip = ip4(host);

	return sw_txidx_find(&idx, &ip, port, branch, strlen(branch));
}

static void test_exact_key(void **state)
{
	uint32_t a, b;

	(void)state;
	a = add(5, 5060, "z9hG4bK-a");
	b = add(5, 5060, "z9hG4bK-b");
	assert_int_not_equal(a, b);
	assert_int_equal(find(5, 5060, "z9hG4bK-a"), a);
	assert_int_equal(find(5, 5060, "z9hG4bK-b"), b);
	assert_int_equal(find(6, 5060, "z9hG4bK-a"), SW_TX_NONE); /* other address */
	assert_int_equal(find(5, 5061, "z9hG4bK-a"), SW_TX_NONE); /* other port */
	assert_int_equal(find(5, 5060, "z9hG4bK-"), SW_TX_NONE);  /* a prefix */
	assert_int_equal(find(5, 5060, "z9hG4bK-ab"), SW_TX_NONE);
	assert_int_equal(idx.n_used, 2);
	sw_txidx_put(&idx, a);
	assert_int_equal(find(5, 5060, "z9hG4bK-a"), SW_TX_NONE);
	assert_int_equal(find(5, 5060, "z9hG4bK-b"), b);
	assert_int_equal(idx.n_used, 1);
}

static void test_full_and_back(void **state)
{
	char br[32];
	uint32_t slots[MAX];

	(void)state;
	for (unsigned i = 0; i < MAX; i++) {
		snprintf(br, sizeof(br), "z9hG4bK-%u", i);
		slots[i] = add(7, 5060, br);
		assert_int_not_equal(slots[i], SW_TX_NONE);
	}
	assert_int_equal(sw_txidx_take(&idx), SW_TX_NONE);
	/* Every one still found, then freed in an order unlike the adds. */
	for (unsigned i = 0; i < MAX; i++) {
		snprintf(br, sizeof(br), "z9hG4bK-%u", i);
		assert_int_equal(find(7, 5060, br), slots[i]);
	}
	for (unsigned i = 0; i < MAX; i += 2)
		sw_txidx_put(&idx, slots[i]);
	for (unsigned i = 0; i < MAX; i++) {
		snprintf(br, sizeof(br), "z9hG4bK-%u", i);
		assert_int_equal(find(7, 5060, br), i % 2 ? slots[i] : SW_TX_NONE);
	}
	assert_int_equal(idx.n_used, MAX / 2);
	assert_int_not_equal(add(7, 5060, "z9hG4bK-0"), SW_TX_NONE);
	assert_int_not_equal(find(7, 5060, "z9hG4bK-0"), SW_TX_NONE);
}

static void test_one_bucket(void **state)
{
	struct sw_txidx one;
	uint32_t s[4];
	char br[16];

	(void)state;
	/* A one-bucket index: every key in one chain, deleted middle first. */
	assert_int_equal(SW_TXIDX_INIT(&one, 4, recs, key), 0);
	one.mask = 0;
	for (unsigned i = 0; i < 4; i++) {
		struct sw_ip ip = ip4(9);

		s[i] = sw_txidx_take(&one);
		snprintf(br, sizeof(br), "b%u", i);
		sw_txkey_set(&recs[s[i]].key, &ip, 5060, br, strlen(br));
		sw_txidx_link(&one, s[i]);
	}
	sw_txidx_put(&one, s[1]);
	sw_txidx_put(&one, s[3]);
	for (unsigned i = 0; i < 4; i++) {
		struct sw_ip ip = ip4(9);

		snprintf(br, sizeof(br), "b%u", i);
		assert_int_equal(sw_txidx_find(&one, &ip, 5060, br, strlen(br)),
				 i == 1 || i == 3 ? SW_TX_NONE : s[i]);
	}
	sw_txidx_fini(&one);
}

static void test_branch_too_long(void **state)
{
	struct sw_txkey k;
	char br[SW_TX_BRANCH_MAX + 2];
	struct sw_ip ip = ip4(1);

	(void)state;
	memset(br, 'a', sizeof(br));
	assert_int_equal(sw_txkey_set(&k, &ip, 5060, br, SW_TX_BRANCH_MAX + 1), -E2BIG);
	assert_int_equal(sw_txkey_set(&k, &ip, 5060, br, SW_TX_BRANCH_MAX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_back, setup, teardown),
		cmocka_unit_test(test_one_bucket),
		cmocka_unit_test(test_branch_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
