/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Realistic bindings for the benchmarks (bench_gen.h).
 */
#include <endian.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench_gen.h"

uint64_t bench_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Binding number @i, the same every time it is asked for. */
void bench_gen(uint64_t i, struct bench_gen *g)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t h = bench_mix(i);
	unsigned a = (unsigned)(i >> 16) & 0xff, b = (unsigned)(i >> 8) & 0xff,
		 c = (unsigned)i & 0xff;
	unsigned port = 1024 + (unsigned)(h % 64000);
	bool apns = i % 2 == 0;

	snprintf(g->aor, sizeof(g->aor), "u%llu@example.com", (unsigned long long)i);
	snprintf(g->instance, sizeof(g->instance), "urn:uuid:%08x-%04x-4%03x-a%03x-%012llx",
		 (unsigned)h, (unsigned)(h >> 32) & 0xffff, (unsigned)(h >> 48) & 0xfff,
		 (unsigned)(h >> 20) & 0xfff,
		 (unsigned long long)(bench_mix(h) & 0xffffffffffffull));
	if (apns) {
		for (int k = 0; k < 4; k++)
			snprintf(g->prid + 16 * k, 17, "%016llx",
				 (unsigned long long)bench_mix(i * 4 + (uint64_t)k));
		snprintf(g->param, sizeof(g->param), "ABCDE12345.com.example.phone.voip");
	} else {
		/* FCM registration tokens: "<22 chars>:APA91b<~130 chars>". */
		uint64_t x = h;

		for (int k = 0; k < 159; k++) {
			if (k % 10 == 0)
				x = bench_mix(x + (uint64_t)k);
			g->prid[k] = b64[x & 63];
			x >>= 6;
		}
		memcpy(g->prid + 22, ":APA91b", 7);
		g->prid[159] = '\0';
		snprintf(g->param, sizeof(g->param), "example-phone-1a2b3");
	}
	snprintf(g->contact, sizeof(g->contact),
		 "sip:u%llu@10.%u.%u.%u:%u;transport=udp;pn-provider=%s;pn-param=%s",
		 (unsigned long long)i, a, b, c, port, apns ? "apns" : "fcm", g->param);
	g->r = (struct sw_bind_rec){
		.aor = g->aor,
		.aor_len = (uint16_t)strlen(g->aor),
		.contact = g->contact,
		.contact_len = (uint16_t)strlen(g->contact),
		.instance = g->instance,
		.instance_len = (uint16_t)strlen(g->instance),
		.pn_form = SW_PN_RFC8599,
		.pn_provider = apns ? "apns" : "fcm",
		.pn_provider_len = apns ? 4 : 3,
		.pn_prid = g->prid,
		.pn_prid_len = (uint16_t)strlen(g->prid),
		.pn_param = g->param,
		.pn_param_len = (uint16_t)strlen(g->param),
		.src = sw_ip_from_v4(htobe32(10u << 24 | a << 16 | b << 8 | c)),
		.sport = (uint16_t)port,
		.iface = 0,
		.registered_at = 1700000000,
		.expires_at = 1700003600,
	};
}
