/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP addresses as text (common/sw_ip.h): a URI host or received= value read
 * in either form, and an address with its port written as logs and traces
 * name a peer, IPv6 in brackets (RFC 3986 §3.2.2).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/sw_ip.h"

static struct sw_ip parsed(const char *text)
{
	struct sw_ip ip;

	assert_int_equal(sw_ip_parse(text, strlen(text), &ip), 0);
	return ip;
}

static void test_ip_port_both_families(void **state)
{
	char buf[SW_IP_PORT_STRLEN];
	struct sw_ip v4 = parsed("198.18.0.2"), v6 = parsed("2001:db8:5e::2");

	(void)state;
	assert_string_equal(sw_ip_port_str(&v4, 5060, buf, sizeof(buf)), "198.18.0.2:5060");
	assert_string_equal(sw_ip_port_str(&v6, 20001, buf, sizeof(buf)), "[2001:db8:5e::2]:20001");
	/* The longest text inet_ntop() writes for an IPv6 address, and the
	 * longest port, fit. */
	v6 = parsed("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	assert_string_equal(sw_ip_port_str(&v6, 65535, buf, sizeof(buf)),
			    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_ip_port_short_buffer_is_cut(void **state)
{
	char buf[8];
	struct sw_ip v6 = parsed("2001:db8:5e::2");

	(void)state;
	assert_string_equal(sw_ip_port_str(&v6, 5060, buf, sizeof(buf)), "[2001:d");
}

static void test_parse_with_and_without_brackets(void **state)
{
	struct sw_ip a = parsed("2001:db8:5e::7"), b = parsed("[2001:db8:5e::7]");
	struct sw_ip v4 = parsed("198.18.0.2"), ip;

	(void)state;
	assert_memory_equal(a.a, b.a, sizeof(a.a));
	assert_false(sw_ip_is_v4(&a));
	assert_true(sw_ip_is_v4(&v4));
	assert_int_equal(sw_ip_parse("[2001:db8::1", 12, &ip), -EINVAL);
	assert_int_equal(sw_ip_parse("edge.example", 12, &ip), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_port_both_families),
		cmocka_unit_test(test_ip_port_short_buffer_is_cut),
		cmocka_unit_test(test_parse_with_and_without_brackets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
