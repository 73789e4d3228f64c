/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwake-push: the operator's check of push credentials before the first
 * call (like flexisip_pusher). Loads the `push` group of a sipwake config,
 * sends one push to one token and prints the service's exact answer.
 *
 *   sipwake-push --config /etc/sipwake.conf --provider apns --token <hex>
 *                [--param TEAM.bundle | project] [--kind alert|call|background]
 *                [--timeout S]
 *   sipwake-push --config FILE --provider webpush --token <endpoint URL>
 *                --param <p256dh>.<auth>
 *
 * The push is an alert ("Missed call") unless --kind says otherwise: a call
 * push rings CallKit (or the app's call screen) on a real phone, which is
 * not what an operator checking a credential wants by surprise.
 *
 * Exit status: 0 delivered, 1 any other answer, 2 usage or config error.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pushd/pd.h"

/* --help: on stdout, exit 0; a usage error: on stderr, exit 2. */
static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: sipwake-push --config FILE --provider apns|fcm|webpush --token TOKEN\n"
		"       [--param TEAMID.BUNDLE|PROJECT|P256DH.AUTH] [--kind "
		"alert|call|background]\n"
		"       [--timeout SECONDS] [--call-id ID] [--caller NUMBER] [--name NAME]\n"
		"--kind: alert (default) shows a \"Missed call\" notification; call is a\n"
		"       VoIP push that rings the phone (CallKit); background is silent.\n"
		"webpush: TOKEN is the subscription's endpoint URL, --param its keys.\n");
	exit(status);
}

static const char *default_param(const struct pd_config *cfg, enum pd_provider p, char *buf,
				 size_t cap)
{
	if (p == PD_APNS && cfg->n_apns == 1)
		snprintf(buf, cap, "%s.%s", cfg->apns[0].team_id, cfg->apns[0].bundle_id);
	else if (p == PD_FCM && cfg->n_fcm == 1)
		snprintf(buf, cap, "%s", cfg->fcm[0].project);
	else
		return NULL;
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", 1, NULL, 'c'},  {"provider", 1, NULL, 'p'}, {"token", 1, NULL, 't'},
		{"param", 1, NULL, 'P'},   {"kind", 1, NULL, 'k'},     {"timeout", 1, NULL, 'T'},
		{"call-id", 1, NULL, 'i'}, {"caller", 1, NULL, 'n'},   {"name", 1, NULL, 'N'},
		{"help", 0, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *provider = NULL, *token = NULL, *param = NULL;
	const char *call_id = "sipwake-push-test", *caller = "+10000000000", *name = "sipwake-push";
	static struct pd_config cfg;
	struct pd_request req;
	struct pd_result *res = NULL;
	struct pd *pd;
	char err[512], pbuf[PD_PARAM_LEN];
	unsigned timeout_s = 10;
	enum pd_kind kind = PD_KIND_ALERT; /* call rings the phone: only when asked */
	uint64_t end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			provider = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'P':
			param = optarg;
			break;
		case 'k':
			if (!strcmp(optarg, "call"))
				kind = PD_KIND_CALL;
			else if (!strcmp(optarg, "alert"))
				kind = PD_KIND_ALERT;
			else if (!strcmp(optarg, "background"))
				kind = PD_KIND_BACKGROUND;
			else
				usage(2);
			break;
		case 'T':
			timeout_s = (unsigned)atoi(optarg);
			break;
		case 'i':
			call_id = optarg;
			break;
		case 'n':
			caller = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!config || !provider || !token ||
	    (strcmp(provider, "apns") && strcmp(provider, "fcm") && strcmp(provider, "webpush")) ||
	    !timeout_s)
		usage(2);
	pd_config_defaults(&cfg);
	if (pd_config_load_file(config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipwake-push: %s\n", err);
		return 2;
	}
	memset(&req, 0, sizeof(req));
	req.id = 1;
	req.provider = provider[0] == 'a' ? PD_APNS : provider[0] == 'f' ? PD_FCM : PD_WEBPUSH;
	if (!param)
		param = default_param(&cfg, req.provider, pbuf, sizeof(pbuf));
	if (!param) {
		fprintf(stderr, "sipwake-push: %s: give --param (%u credentials configured)\n",
			provider,
			req.provider == PD_APNS	 ? cfg.n_apns
			: req.provider == PD_FCM ? cfg.n_fcm
						 : cfg.n_webpush);
		return 2;
	}
	pd = pd_new(&cfg, err, sizeof(err));
	if (!pd) {
		fprintf(stderr, "sipwake-push: %s\n", err);
		return 2;
	}
	snprintf(req.device_key, sizeof(req.device_key), "sipwake-push");
	snprintf(req.token, sizeof(req.token), "%s", token);
	snprintf(req.param, sizeof(req.param), "%s", param);
	snprintf(req.call_id, sizeof(req.call_id), "%s", call_id);
	snprintf(req.caller_number, sizeof(req.caller_number), "%s", caller);
	snprintf(req.caller_name, sizeof(req.caller_name), "%s", name);
	req.kind = kind;
	req.deadline_ms = sw_mono_ms() + (uint64_t)timeout_s * 1000;
	end = req.deadline_ms + 2000;
	if (pd_start(pd) != 0 || pd_submit(pd, &req) != 0) {
		fprintf(stderr, "sipwake-push: cannot start pushd\n");
		pd_free(pd);
		return 2;
	}
	while (pd_poll_results(pd, &res, 1) == 0 && sw_mono_ms() < end) {
		struct pollfd p = {.fd = pd_result_fd(pd), .events = POLLIN};
		uint64_t v;

		if (poll(&p, 1, 100) > 0 && read(p.fd, &v, sizeof(v)) < 0)
			break;
	}
	if (!res) {
		fprintf(stderr, "sipwake-push: no result\n");
		pd_free(pd);
		return 1;
	}
	printf("result: %s%s%s\n", pd_status_name(res->status), res->reason[0] ? " " : "",
	       res->reason);
	if (res->status == PD_DEAD_TOKEN)
		printf("provider-timestamp-ms: %lld\n", (long long)res->provider_ts_ms);
	if (req.provider == PD_APNS)
		printf("apns-id sent: %s\n", res->apns_id);
	printf("attempts: %u, %.1f ms\n", res->attempts, (double)res->latency_us / 1000.0);
	if (res->http_status) {
		printf("HTTP/2 %d\n%s\n%s\n", res->http_status, res->headers, res->body);
	}
	rc = res->status == PD_DELIVERED ? 0 : 1;
	free(res);
	pd_free(pd);
	return rc;
}
