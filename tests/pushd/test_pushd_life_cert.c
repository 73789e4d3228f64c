/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificate-auth APNs against a server that checks client certificates
 * as APNs does (pd_testsrv --client-ca): the right certificate delivers; one
 * from another CA is answered 403 BadCertificate, a configuration error; one
 * for another bundle 400 TopicDisallowed, which is the credential's fault
 * too (pd_answer.c: a 400 about the topic is alarmed like a 403).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/pushd/pushd_life.h"

/* One call push through a pushd whose only credential is the certificate
 * one, with @cert_file (K_CLI_KEY its key); its result. */
static struct pd_result *push_with_cert(struct ts_srv *srv, const char *cert_file,
					const char *token, uint64_t id)
{
	struct pd_config cfg;
	struct pd_request q;
	struct pd_result *r;
	struct pd *pd;
	char err[256];

	ts_pd_config(&cfg, &keys, srv->port);
	cfg.n_fcm = 0;
	cfg.apns[0] = cfg.apns[1]; /* team CERTTEAM01, cert_file + cert_key_file */
	cfg.n_apns = 1;
	snprintf(cfg.apns[0].cert_file, sizeof(cfg.apns[0].cert_file), "%s", cert_file);
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	ts_request(&q, PD_APNS, token, id);
	snprintf(q.param, sizeof(q.param), "CERTTEAM01." TS_BUNDLE ".voip");
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, id, 5000);
	pd_free(pd);
	assert_non_null(r);
	return r;
}

void test_apns_client_certificate(void **state)
{
	struct ts_srv srv;
	struct pd_result *r;
	const char *l;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);

	r = push_with_cert(&srv, keys.path[K_CLI_CRT], "ce01", 1);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns ce01 status=200", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, " cert=1 "));

	r = push_with_cert(&srv, keys.path[K_CLI_CA2_CRT], "ce02", 2);
	assert_int_equal(r->status, PD_CONFIG_ERROR);
	assert_int_equal(r->http_status, 403);
	assert_string_equal(r->reason, "BadCertificate");
	free(r);

	r = push_with_cert(&srv, keys.path[K_CLI_TOPIC_CRT], "ce03", 3);
	assert_int_equal(r->status, PD_CONFIG_ERROR);
	assert_int_equal(r->http_status, 400);
	assert_string_equal(r->reason, "TopicDisallowed");
	free(r);
	assert_int_equal(ts_srv_stop(&srv), 0);
}
