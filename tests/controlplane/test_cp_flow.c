/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flows (controlplane/bindings/cp_flow.c; docs/streams.md, "Flows"): the
 * set of open connections keeps exactly what was seen and not ended, across
 * growth and deletions in any order; a connection's end makes the devices
 * it carried asleep (conn 0, binding kept) and leaves a device that has
 * since moved to another connection alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu/urcu-qsbr.h>

#include "controlplane/bindings/cp_bind.h"

static struct sw_bind_rec rec(const char *contact, const char *instance, uint16_t sport,
			      uint64_t conn)
{
	struct sw_bind_rec r = {
		.aor = "ann@example.com",
		.aor_len = 15,
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance,
		.instance_len = (uint16_t)strlen(instance),
		.sport = sport,
		.tp = SW_TP_TLS,
		.conn = conn,
		.registered_at = 1000,
		.expires_at = 4000000000,
	};

	sw_ip_parse("198.18.0.2", 10, &r.src);
	return r;
}

static void open_set_survives_growth_and_deletions(void **state)
{
	struct dp_link dl = {0};
	struct cp_ctx cp = {.dp = &dl};
	struct sw_ip peer;
	const uint64_t n = 5000;

	(void)state;
	dl.src = sw_src_create(16);
	dl.bind = sw_bind_create(16, dl.src);
	sw_ip_parse("198.18.0.9", 10, &peer);
	assert_false(cp_flow_open(&cp, 1));
	for (uint64_t id = 1; id <= n; id++)
		cp_flow_seen(&cp, id * 7919); /* spread over the table, collisions too */
	cp_flow_seen(&cp, 7919);	      /* seen again: still one */
	for (uint64_t id = 1; id <= n; id += 3)
		cp_flow_closed(&cp, &peer, 1, id * 7919);
	for (uint64_t id = 1; id <= n; id++)
		assert_int_equal(cp_flow_open(&cp, id * 7919), (id - 1) % 3 != 0);
	assert_false(cp_flow_open(&cp, 3));
	for (uint64_t id = 1; id <= n; id++)
		cp_flow_closed(&cp, &peer, 1, id * 7919);
	for (uint64_t id = 1; id <= n; id++)
		assert_false(cp_flow_open(&cp, id * 7919));
	cp_flow_fini(&cp);
	sw_bind_free(dl.bind);
	sw_src_free(dl.src);
}

static void end_of_a_connection_makes_its_devices_asleep(void **state)
{
	struct dp_link dl = {0};
	struct cp_ctx cp = {.dp = &dl};
	struct sw_bind_rec a = rec("sip:ann@198.18.0.2:40000;transport=tls", "<urn:uuid:a>", 40000,
				   11),
			   b = rec("sip:ann@198.18.0.2:40000;transport=tls;x=b", "<urn:uuid:b>",
				   40000, 11),
			   c = rec("sip:ann@198.18.0.2:40000;transport=tls;x=c", "<urn:uuid:c>",
				   40000, 12);
	uint64_t ia, ib, ic;

	(void)state;
	dl.src = sw_src_create(16);
	dl.bind = sw_bind_create(16, dl.src);
	cp_flow_seen(&cp, 11);
	cp_flow_seen(&cp, 12);
	assert_int_equal(sw_bind_put(dl.bind, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(dl.bind, &b, 1, &ib), 0);
	/* Same address and port, another connection (the kernel reused it). */
	assert_int_equal(sw_bind_put(dl.bind, &c, 1, &ic), 0);
	assert_int_equal(cp_flow_closed(&cp, &a.src, 40000, 11), 2);
	urcu_qsbr_quiescent_state();
	assert_int_equal(sw_bind_by_id(dl.bind, ia)->conn, 0);
	assert_int_equal(sw_bind_by_id(dl.bind, ib)->conn, 0);
	assert_int_equal(sw_bind_by_id(dl.bind, ic)->conn, 12);
	assert_string_equal(sw_bind_by_id(dl.bind, ia)->contact, a.contact); /* kept */
	assert_false(sw_device_alive(dl.src, sw_bind_by_id(dl.bind, ia), 0, 0, NULL));
	assert_true(sw_device_alive(dl.src, sw_bind_by_id(dl.bind, ic), 0, 0, NULL));
	assert_int_equal(cp.c[CP_C_STREAM_CLOSED_ASLEEP], 2);
	assert_false(cp_flow_open(&cp, 11));
	assert_true(cp_flow_open(&cp, 12));
	cp_flow_fini(&cp);
	sw_bind_free(dl.bind);
	sw_src_free(dl.src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_set_survives_growth_and_deletions),
		cmocka_unit_test(end_of_a_connection_makes_its_devices_asleep),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
