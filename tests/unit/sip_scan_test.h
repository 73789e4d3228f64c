/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tests test_sip_scan_forms.c gives main() in test_sip_scan.c (one
 * sip_scan executable): the Via, Request-URI and name-addr forms.
 */
#ifndef SIP_SCAN_TEST_H
#define SIP_SCAN_TEST_H

void test_via_several_values_in_one_field(void **state);
void test_via_multiple_fields(void **state);
void test_via_ipv6_sent_by(void **state);
void test_ruri_ipv6_host(void **state);
void test_via_rport_variants(void **state);
void test_via_received(void **state);
void test_uri_forms(void **state);
void test_nameaddr_forms(void **state);

#endif /* SIP_SCAN_TEST_H */
