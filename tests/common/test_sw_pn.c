/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push addresses read into their tokens (common/sw_pn.h): every form
 * docs/push-addresses.md lists, which token each push kind goes to, dead
 * tokens skipped, and each malformed form refused with its reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/sw_pn.h"

static int parse(uint8_t form, const char *prov, const char *prid, const char *param,
		 struct sw_pn_addr *a, const char **why)
{
	return sw_pn_parse(form, prov, prid, strlen(prid), param, strlen(param), a, why);
}

static void tok_is(const struct sw_pn_target *t, uint8_t tok, const char *token, const char *param)
{
	assert_int_equal(t->tok, tok);
	assert_int_equal(t->token_len, strlen(token));
	assert_memory_equal(t->token, token, t->token_len);
	assert_string_equal(t->param, param);
}

static void test_linphone_two_tokens(void **state)
{
	struct sw_pn_addr a;
	const char *why;

	(void)state;
	assert_int_equal(parse(SW_PN_RFC8599, "apns", "aa11:remote&bb22:voip",
			       "ABCD1234.org.linphone.phone.remote&voip", &a, &why),
			 0);
	assert_int_equal(a.prov, SW_PN_PROV_APNS);
	assert_int_equal(a.n, 2);
	tok_is(&a.t[0], SW_PN_TOK_REGULAR, "aa11", "ABCD1234.org.linphone.phone");
	tok_is(&a.t[1], SW_PN_TOK_VOIP, "bb22", "ABCD1234.org.linphone.phone.voip");
	/* Calls to the VoIP token, alert and background to the regular one. */
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 0), 1);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_NOTIFY, 0), 0);
	/* VoIP token dead: a call goes to the regular token (as an alert). */
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 1u << 1), 0);
	/* Regular token dead: no background push, calls as before. */
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_NOTIFY, 1u << 0), -1);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 1u << 0), 1);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 3), -1);
	/* The services in either order, one token alone in that form. */
	assert_int_equal(
		parse(SW_PN_RFC8599, "apns", "bb22:voip&aa11:remote", "T.b.voip&remote", &a, &why),
		0);
	tok_is(&a.t[0], SW_PN_TOK_VOIP, "bb22", "T.b.voip");
	tok_is(&a.t[1], SW_PN_TOK_REGULAR, "aa11", "T.b");
	assert_int_equal(parse(SW_PN_LEGACY, "apns", "bb22:voip", "T.b.voip", &a, &why), 0);
	assert_int_equal(a.n, 1);
	tok_is(&a.t[0], SW_PN_TOK_VOIP, "bb22", "T.b.voip");
}

static void test_one_apns_token(void **state)
{
	struct sw_pn_addr a;
	const char *why;

	(void)state;
	assert_int_equal(parse(SW_PN_RFC8599, "apns", "aa11", "T.com.ex.voip", &a, &why), 0);
	tok_is(&a.t[0], SW_PN_TOK_VOIP, "aa11", "T.com.ex.voip");
	/* A VoIP token alone takes no background or alert push. */
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_NOTIFY, 0), -1);
	assert_int_equal(parse(SW_PN_RFC8599, "apns", "aa11", "T.com.ex", &a, &why), 0);
	tok_is(&a.t[0], SW_PN_TOK_REGULAR, "aa11", "T.com.ex");
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 0), 0);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_NOTIFY, 0), 0);
}

static void test_portsip(void **state)
{
	struct sw_pn_addr a;
	const char *why;

	(void)state;
	assert_int_equal(parse(SW_PN_XPUSH, "apns", "bb22|aa11", "com.portsip.app", &a, &why), 0);
	assert_int_equal(a.n, 2);
	tok_is(&a.t[0], SW_PN_TOK_VOIP, "bb22", "com.portsip.app.voip");
	tok_is(&a.t[1], SW_PN_TOK_REGULAR, "aa11", "com.portsip.app");
	assert_int_equal(parse(SW_PN_XPUSH, "apns", "bb22", "com.portsip.app", &a, &why), 0);
	tok_is(&a.t[0], SW_PN_TOK_VOIP, "bb22", "com.portsip.app.voip");
	/* Android: one FCM token, app-id the package name. */
	assert_int_equal(parse(SW_PN_XPUSH, "fcm", "cXy1:APA91bH-z_9", "com.portsip.app", &a, &why),
			 0);
	tok_is(&a.t[0], SW_PN_TOK_ANY, "cXy1:APA91bH-z_9", "com.portsip.app");
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 0), 0);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_NOTIFY, 0), 0);
}

static void refused(uint8_t form, const char *prov, const char *prid, const char *param,
		    const char *reason)
{
	struct sw_pn_addr a;
	const char *why = NULL;

	assert_int_equal(parse(form, prov, prid, param, &a, &why), -EINVAL);
	assert_non_null(why);
	if (strcmp(why, reason) != 0)
		fail_msg("%s / %s: \"%s\", expected \"%s\"", prid, param, why, reason);
}

static void test_malformed(void **state)
{
	(void)state;
	refused(SW_PN_RFC8599, "apns", "aa:remote&", "T.b.remote&voip",
		"a token of several has no :voip or :remote");
	refused(SW_PN_RFC8599, "apns", ":voip", "T.b.voip", "empty token");
	refused(SW_PN_RFC8599, "apns", "aa:remote&bb:voip&cc:voip", "T.b.remote&voip",
		"two tokens for one service");
	refused(SW_PN_RFC8599, "apns", "aa:remote&bb:voip", "T.b.remote",
		"a token's service is not in pn-param");
	refused(SW_PN_RFC8599, "apns", "aa:remote&bb:video", "T.b.remote&voip",
		"a token's service is neither voip nor remote");
	refused(SW_PN_RFC8599, "apns", "aa:remote&bb:voip", "remote&voip",
		"pn-param names no services (<team>.<bundle>.<service>&<service>)");
	refused(SW_PN_RFC8599, "apns", "aa:remote&bb:voip", "T.b.remote&chat",
		"pn-param names a service other than voip and remote");
	refused(SW_PN_XPUSH, "apns", "|aa", "com.p", "empty token");
	refused(SW_PN_XPUSH, "apns", "aa|", "com.p", "empty token");
	refused(SW_PN_XPUSH, "apns", "aa|bb|cc", "com.p", "too many tokens");
	refused(SW_PN_RFC8599, "fcm", "aa&bb", "proj", "a token separator where one token is due");
	refused(SW_PN_XPUSH, "fcm", "aa|bb", "com.p", "a token separator where one token is due");
}

static void test_providers(void **state)
{
	struct sw_pn_addr a;
	const char *why;

	(void)state;
	assert_int_equal(parse(SW_PN_RFC8599, "mypush", "x", "", &a, &why), -ENOTSUP);
	assert_int_equal(a.prov, SW_PN_PROV_OTHER);
	assert_string_equal(why, "a push provider sipwake does not push to");
	assert_int_equal(sw_pn_parse(SW_PN_NONE, "", "", 0, "", 0, &a, &why), -ENOENT);
	assert_null(sw_pn_token_refusal(SW_PN_PROV_APNS, "00fFaA19", 8));
	assert_string_equal(sw_pn_token_refusal(SW_PN_PROV_APNS, "00fg", 4), "APNs token not hex");
	/* Control bytes that OR 0x20 into a digit are not hex either. */
	assert_string_equal(sw_pn_token_refusal(SW_PN_PROV_APNS, "\x10", 1), "APNs token not hex");
	assert_null(sw_pn_token_refusal(SW_PN_PROV_FCM, "cXy1:APA91b-_", 13));
	assert_non_null(sw_pn_token_refusal(SW_PN_PROV_FCM, "a b", 3));
}

/* RFC 8291 Appendix A's user agent keys, as pn-param carries them. */
#define WP_KEYS                                                                                   \
	"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4" \
	".BTBZMqHH6r4Tts7J_aSIgg"

/* pn-provider=webpush: the endpoint URL is the one token, which takes every
 * push; one that cannot be used is kept (-ENOTSUP) with its reason. */
static void test_webpush(void **state)
{
	static const char ep[] =
		"https://updates.push.services.mozilla.com/wpush/v2/gAAA?a=1&b=2|3";
	static const struct {
		const char *prid, *param, *why;
	} bad[] = {
		{"http://push.example/x", WP_KEYS, "Web Push endpoint not an https:// URL"},
		{"https://push.example", WP_KEYS, "Web Push endpoint without a path"},
		{"https://push.example:0/x", WP_KEYS, "Web Push endpoint with a bad port"},
		{"https://push.example/x y", WP_KEYS,
		 "Web Push endpoint with a space, control byte, non-ASCII or #"},
		{ep, "BCVx.BTBZMqHH6r4Tts7J_aSIgg",
		 "Web Push p256dh is not a 65-byte uncompressed P-256 point"},
		{ep,
		 "ACVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-"
		 "AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoI"
		 "Aiw4.BTBZMqHH6r4Tts7J_aSIgg",
		 "Web Push p256dh is not a 65-byte uncompressed P-256 point"},
		{ep,
		 "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-"
		 "AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoI"
		 "Aiw4.BTBZMqHH6r4Tts7J",
		 "Web Push auth secret is not 16 bytes"},
		{ep, "nodot", "Web Push pn-param is not <p256dh>.<auth>"},
	};
	struct sw_pn_addr a;
	const char *why;

	(void)state;
	assert_int_equal(parse(SW_PN_RFC8599, "webpush", ep, WP_KEYS, &a, &why), 0);
	assert_int_equal(a.prov, SW_PN_PROV_WEBPUSH);
	assert_int_equal(a.n, 1);
	tok_is(&a.t[0], SW_PN_TOK_ANY, ep, WP_KEYS);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 0), 0);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_NOTIFY, 0), 0);
	assert_int_equal(sw_pn_pick(&a, SW_PN_USE_CALL, 1), -1);
	assert_null(sw_pn_token_refusal(SW_PN_PROV_WEBPUSH, ep, strlen(ep)));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			parse(SW_PN_RFC8599, "webpush", bad[i].prid, bad[i].param, &a, &why),
			-ENOTSUP);
		assert_int_equal(a.prov, SW_PN_PROV_WEBPUSH);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(parse(SW_PN_RFC8599, "webpush", "", WP_KEYS, &a, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linphone_two_tokens),
		cmocka_unit_test(test_one_apns_token),
		cmocka_unit_test(test_portsip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_providers),
		cmocka_unit_test(test_webpush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
