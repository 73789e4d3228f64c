/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding store (controlplane/store/cp_store.h), SQLite backend: what is
 * committed reads back field for field after a reopen; upsert, deletes,
 * expiry at load; what is not committed is not there, also after kill -9;
 * a failed batch rolls back whole; clear errors for bad paths and files.
 * Every file lives in a mkdtemp() directory removed at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <urcu/urcu-qsbr.h>

#include "controlplane/store/cp_store.h"
#include "controlplane/store/cp_store_internal.h"

static char tmpdir[64];

static struct sw_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return sw_ip_from_v4((uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 |
			     (uint32_t)d << 24);
}

/* A file name in the temporary directory (one per test: tests stay apart). */
static const char *tpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
	return buf;
}

static struct sw_bind_rec rec(const char *aor, const char *contact, const char *instance,
			      uint8_t form, const char *prov, const char *prid, const char *param,
			      struct sw_ip ip, uint16_t port, int64_t expires_at)
{
	struct sw_bind_rec r = {
		.aor = aor,
		.aor_len = (uint16_t)strlen(aor),
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance,
		.instance_len = instance != NULL ? (uint16_t)strlen(instance) : 0,
		.pn_form = form,
		.src = ip,
		.sport = port,
		.iface = 2,
		.registered_at = 1700000000,
		.expires_at = expires_at,
	};

	if (form != SW_PN_NONE) {
		r.pn_provider = prov;
		r.pn_provider_len = (uint16_t)strlen(prov);
		r.pn_prid = prid;
		r.pn_prid_len = (uint16_t)strlen(prid);
		r.pn_param = param;
		r.pn_param_len = (uint16_t)strlen(param);
	}
	return r;
}

/* A loaded binding, copied out of the borrowed record. */
struct copy {
	char aor[SW_AOR_MAX], contact[SW_CONTACT_MAX], instance[SW_INSTANCE_MAX];
	char prov[SW_PN_KEY_MAX], prid[SW_PN_KEY_MAX], param[SW_PN_KEY_MAX];
	struct sw_bind_rec r;
};

struct loaded {
	struct copy c[64];
	unsigned n;
	int fail_after; /* > 0: return -ENOSPC once this many are taken */
};

static void cp_str(char *dst, const char *src, uint16_t len, const char **p)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	*p = dst;
}

static int on_load(const struct sw_bind_rec *r, void *arg)
{
	struct loaded *l = arg;
	struct copy *c;

	if (l->fail_after > 0 && l->n == (unsigned)l->fail_after)
		return -ENOSPC;
	assert_true(l->n < 64);
	c = &l->c[l->n++];
	c->r = *r;
	cp_str(c->aor, r->aor, r->aor_len, &c->r.aor);
	cp_str(c->contact, r->contact, r->contact_len, &c->r.contact);
	cp_str(c->instance, r->instance, r->instance_len, &c->r.instance);
	cp_str(c->prov, r->pn_provider, r->pn_provider_len, &c->r.pn_provider);
	cp_str(c->prid, r->pn_prid, r->pn_prid_len, &c->r.pn_prid);
	cp_str(c->param, r->pn_param, r->pn_param_len, &c->r.pn_param);
	return 0;
}

static const struct sw_bind_rec *find(const struct loaded *l, const char *contact)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->c[i].contact, contact) == 0)
			return &l->c[i].r;
	return NULL;
}

static void assert_str(const char *p, uint16_t len, const char *want, uint16_t want_len)
{
	assert_int_equal(len, want_len);
	if (len > 0)
		assert_memory_equal(p, want, len);
}

static void assert_same(const struct sw_bind_rec *got, const struct sw_bind_rec *want)
{
	assert_non_null(got);
	assert_str(got->aor, got->aor_len, want->aor, want->aor_len);
	assert_str(got->contact, got->contact_len, want->contact, want->contact_len);
	assert_str(got->instance, got->instance_len, want->instance, want->instance_len);
	assert_int_equal(got->pn_form, want->pn_form);
	assert_str(got->pn_provider, got->pn_provider_len, want->pn_provider,
		   want->pn_provider_len);
	assert_str(got->pn_prid, got->pn_prid_len, want->pn_prid, want->pn_prid_len);
	assert_str(got->pn_param, got->pn_param_len, want->pn_param, want->pn_param_len);
	assert_memory_equal(got->src.a, want->src.a, sizeof(got->src.a));
	assert_int_equal(got->sport, want->sport);
	assert_int_equal(got->iface, want->iface);
	assert_int_equal(got->registered_at, want->registered_at);
	assert_int_equal(got->expires_at, want->expires_at);
}

static struct cp_store *open_ok(const char *path, bool sync_full)
{
	char err[512] = "";
	struct cp_store *s = cp_store_open(path, sync_full, err, sizeof(err));

	if (s == NULL)
		fail_msg("cp_store_open: %s", err);
	return s;
}

/* Reopen @path and load everything alive at @now. */
static int reload(const char *path, int64_t now, struct loaded *l)
{
	struct cp_store *s = open_ok(path, false);
	int n;

	memset(l, 0, sizeof(*l));
	n = cp_store_load(s, now, on_load, l);
	cp_store_close(s);
	return n;
}

static int64_t count_rows(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM bindings", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static const struct sw_ip v6 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34}};

static void test_roundtrip(void **state)
{
	char path[128];
	struct sw_bind_rec r[4] = {
		rec("alice@example.com",
		    "sip:alice@192.0.2.10:5060;pn-provider=apns;pn-prid=00fc13adff78512;"
		    "pn-param=TEAM.com.ex.voip",
		    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", SW_PN_RFC8599, "apns",
		    "00fc13adff78512", "TEAM.com.ex.voip", v4(192, 0, 2, 10), 5060, 1700003600),
		rec("bob@example.com", "sip:bob@[2001:db8::1234]:5062;transport=udp", NULL,
		    SW_PN_LEGACY, "fcm", "AAAA:bbbb/cc+d=", "com.example.app", v6, 5062,
		    1700007200),
		rec("carol@example.com", "sip:carol@198.51.100.3:40000", NULL, SW_PN_XPUSH,
		    "voip-push", "x-token-123", "", v4(198, 51, 100, 3), 40000, 1700001000),
		rec("dave@example.com", "sip:dave@203.0.113.4:5060", NULL, SW_PN_NONE, NULL, NULL,
		    NULL, v4(203, 0, 113, 4), 5060, 1700000500),
	};
	struct cp_store_stats st;
	struct loaded l;
	struct cp_store *s;
	struct stat sb;

	(void)state;
	r[0].iface = 0;
	r[1].iface = 255;
	r[1].registered_at = -1; /* any 64-bit value survives */
	tpath(path, sizeof(path), "rt/sub/bindings.db");
	s = open_ok(path, true);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cp_store_put(s, &r[i]), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* Nothing open: a commit is a no-op. */
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.puts, 4);
	assert_int_equal(st.commits, 1);
	assert_int_equal(st.commit_errors, 0);
	assert_true(st.max_commit_us >= st.last_commit_us);
	assert_string_equal(cp_store_error(s), "");
	cp_store_close(s);

	/* Parents created 0750, the file 0640 (it holds push tokens). */
	assert_int_equal(stat(tpath(path, sizeof(path), "rt/sub"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0750);
	tpath(path, sizeof(path), "rt/sub/bindings.db");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);

	assert_int_equal(reload(path, 1700000000, &l), 4);
	assert_int_equal(l.n, 4);
	for (int i = 0; i < 4; i++)
		assert_same(find(&l, r[i].contact), &r[i]);
	assert_true(sw_ip_is_v4(&find(&l, r[0].contact)->src));
	assert_false(sw_ip_is_v4(&find(&l, r[1].contact)->src));
}

static void test_device_key(void **state)
{
	struct sw_bind_rec r = rec("a@example.com", "sip:a@192.0.2.1", "urn:uuid:1", SW_PN_RFC8599,
				   "apns", "tok", "T.voip", v4(192, 0, 2, 1), 5060, 1);
	char key[CP_STORE_KEY_MAX];

	(void)state;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), 12);
	assert_string_equal(key, "i:urn:uuid:1");
	r.instance_len = 0;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), 2 + 4 + 1 + 3 + 1 + 6);
	assert_memory_equal(key, "p:apns\x1ftok\x1fT.voip", 18);
	r.pn_form = SW_PN_NONE;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), 17);
	assert_string_equal(key, "c:sip:a@192.0.2.1");
	assert_int_equal(cp_store_device_key(&r, key, 18), 17);
	assert_int_equal(cp_store_device_key(&r, key, 17), -E2BIG);
	r.contact_len = 0;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), -EINVAL);
}

/* The key must say "same device" exactly when sw_bind_match() does. */
static void test_device_key_matches_sw_bind(void **state)
{
	struct sw_bind_rec v[] = {
		rec("a@x", "sip:a@1", "urn:uuid:1", SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 1), 1,
		    9),
		rec("a@x", "sip:a@2", "urn:uuid:1", SW_PN_RFC8599, "apns", "t", "p", v4(1, 1, 1, 2),
		    1, 9),
		rec("a@x", "sip:a@1", "urn:uuid:2", SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 3), 1,
		    9),
		rec("a@x", "sip:a@1", NULL, SW_PN_RFC8599, "apns", "t", "p", v4(1, 1, 1, 4), 1, 9),
		rec("a@x", "sip:a@3", NULL, SW_PN_RFC8599, "apns", "t", "p", v4(1, 1, 1, 5), 1, 9),
		rec("a@x", "sip:a@1", NULL, SW_PN_RFC8599, "apns", "t", "q", v4(1, 1, 1, 6), 1, 9),
		rec("a@x", "sip:a@1", NULL, SW_PN_RFC8599, "fcm", "t", "p", v4(1, 1, 1, 7), 1, 9),
		rec("a@x", "sip:a@1", NULL, SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 8), 1, 9),
		rec("a@x", "sip:a@2", NULL, SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 9), 1, 9),
	};
	const size_t n = sizeof(v) / sizeof(v[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct sw_src_table *src = sw_src_create(4);
		struct sw_bind_table *t = sw_bind_create(4, src);
		char ki[CP_STORE_KEY_MAX], kj[CP_STORE_KEY_MAX];
		int li = cp_store_device_key(&v[i], ki, sizeof(ki));

		assert_int_equal(sw_bind_put(t, &v[i], 1, NULL), 0);
		for (size_t j = 0; j < n; j++) {
			int lj = cp_store_device_key(&v[j], kj, sizeof(kj));
			bool same_key = li == lj && memcmp(ki, kj, (size_t)li) == 0;

			if (same_key != (sw_bind_match(t, &v[j]) != NULL))
				fail_msg("records %zu and %zu: key says %d, sw_bind_match %d", i, j,
					 same_key, !same_key);
		}
		urcu_qsbr_quiescent_state();
		sw_bind_free(t);
		sw_src_free(src);
	}
}

static void test_upsert(void **state)
{
	char path[128];
	struct sw_bind_rec a =
		rec("e@example.com", "sip:e@192.0.2.5:5060", "urn:uuid:e", SW_PN_RFC8599, "fcm",
		    "tok1", "proj", v4(192, 0, 2, 5), 5060, 2000);
	struct sw_bind_rec b = a;
	struct cp_store *s;
	struct loaded l;

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "upsert.db"), false);
	assert_int_equal(cp_store_put(s, &a), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* Same instance, moved and with a new token: one row, replaced. */
	b.contact = "sip:e@198.51.100.9:7000";
	b.contact_len = (uint16_t)strlen(b.contact);
	b.src = v4(198, 51, 100, 9);
	b.sport = 7000;
	b.pn_prid = "tok2";
	b.expires_at = 3000;
	assert_int_equal(cp_store_put(s, &b), 0);
	/* Twice in one batch is fine too. */
	assert_int_equal(cp_store_put(s, &b), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(count_rows(path), 1);
	assert_int_equal(reload(path, 1000, &l), 1);
	assert_same(&l.c[0].r, &b);

	/* Another instance of the AOR is another row. */
	s = open_ok(path, false);
	a.instance = "urn:uuid:e2";
	a.instance_len = 11;
	assert_int_equal(cp_store_put(s, &a), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(reload(path, 1000, &l), 2);
}

static void test_delete(void **state)
{
	char path[128];
	struct sw_bind_rec r[4] = {
		rec("f@example.com", "sip:f@192.0.2.1", "urn:uuid:1", SW_PN_NONE, NULL, NULL, NULL,
		    v4(192, 0, 2, 1), 5060, 2000),
		rec("f@example.com", "sip:f@192.0.2.2", NULL, SW_PN_RFC8599, "apns", "t", "p",
		    v4(192, 0, 2, 2), 5060, 2000),
		rec("f@example.com", "sip:f@192.0.2.3", NULL, SW_PN_NONE, NULL, NULL, NULL,
		    v4(192, 0, 2, 3), 5060, 2000),
		rec("g@example.com", "sip:g@192.0.2.4", NULL, SW_PN_NONE, NULL, NULL, NULL,
		    v4(192, 0, 2, 4), 5060, 2000),
	};
	struct cp_store_stats st;
	struct cp_store *s;
	struct loaded l;

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "delete.db"), false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cp_store_put(s, &r[i]), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* The device the record identifies goes, whatever else changed. */
	r[1].contact = "sip:f@elsewhere";
	r[1].contact_len = 15;
	assert_int_equal(cp_store_del(s, &r[1]), 0);
	assert_int_equal(cp_store_del(s, &r[1]), 0); /* gone already: fine */
	assert_int_equal(cp_store_commit(s), 0);
	assert_int_equal(count_rows(path), 3);
	assert_int_equal(cp_store_del_aor(s, "f@example.com", 13), 2);
	assert_int_equal(cp_store_del_aor(s, "f@example.com", 13), 0);
	assert_int_equal(cp_store_del_aor(s, "f@example.com", 0), -EINVAL);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.deletes, 3);
	assert_int_equal(st.commits, 3);
	cp_store_close(s);
	assert_int_equal(reload(path, 0, &l), 1);
	assert_same(&l.c[0].r, &r[3]);
}

static void test_expired(void **state)
{
	char path[128];
	char contact[32];
	struct cp_store_stats st;
	struct cp_store *s;
	struct loaded l = {0};

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "expired.db"), false);
	for (int i = 1; i <= 3; i++) {
		struct sw_bind_rec r;

		snprintf(contact, sizeof(contact), "sip:h@192.0.2.%d", i);
		r = rec("h@example.com", contact, NULL, SW_PN_NONE, NULL, NULL, NULL,
			v4(192, 0, 2, (uint8_t)i), 5060, 100 * i);
		assert_int_equal(cp_store_put(s, &r), 0);
	}
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);

	s = open_ok(path, false);
	/* expires_at <= now is expired, as for sw_bind_expire(). */
	assert_int_equal(cp_store_load(s, 200, on_load, &l), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c[0].r.expires_at, 300);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(st.load_expired, 2);
	assert_int_equal(st.load_skipped, 0);
	cp_store_close(s);
	/* Gone from the file, not just skipped. */
	assert_int_equal(count_rows(path), 1);
	assert_int_equal(reload(path, 0, &l), 1);
}

static void test_uncommitted_close(void **state)
{
	char path[128];
	struct sw_bind_rec a = rec("i@example.com", "sip:i@192.0.2.1", NULL, SW_PN_NONE, NULL, NULL,
				   NULL, v4(192, 0, 2, 1), 5060, 2000);
	struct sw_bind_rec b = rec("i@example.com", "sip:i@192.0.2.2", NULL, SW_PN_NONE, NULL, NULL,
				   NULL, v4(192, 0, 2, 2), 5060, 2000);
	struct cp_store *s;
	struct loaded l;

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "uncommitted.db"), false);
	assert_int_equal(cp_store_put(s, &a), 0);
	assert_int_equal(cp_store_commit(s), 0);
	assert_int_equal(cp_store_put(s, &b), 0);
	assert_int_equal(cp_store_del(s, &a), 0);
	/* A load in the middle of a batch would read the batch's own writes. */
	assert_int_equal(cp_store_load(s, 0, on_load, &l), -EBUSY);
	cp_store_close(s); /* rolls back */
	assert_int_equal(reload(path, 0, &l), 1);
	assert_same(&l.c[0].r, &a);
}

struct seen {
	uint8_t hits[1024];
	unsigned other;
};

/* Contacts "sip:k<i>@...": count each i. */
static int on_seen(const struct sw_bind_rec *r, void *arg)
{
	struct seen *s = arg;
	char buf[64];
	unsigned i;

	snprintf(buf, sizeof(buf), "%.*s", r->contact_len, r->contact);
	if (sscanf(buf, "sip:k%u@", &i) == 1 && i < 1024)
		s->hits[i]++;
	else
		s->other++;
	return 0;
}

/* kill -9 in the middle of a batch: exactly the committed rows survive. */
static void test_kill9(void **state)
{
	enum { N = 300, M = 400 };
	char path[128];
	int p[2];
	char c;
	pid_t pid;
	int wst;

	(void)state;
	tpath(path, sizeof(path), "kill9/bindings.db");
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Child: no cmocka here; any failure is an exit code. */
		char contact[64];
		struct cp_store *s = cp_store_open(path, false, NULL, 0);

		close(p[0]);
		if (s == NULL)
			_exit(2);
		for (int i = 0; i < N + M; i++) {
			struct sw_bind_rec r;

			if (i == N) {
				if (cp_store_commit(s) != 0 || write(p[1], "c", 1) != 1)
					_exit(3);
				/* A small page cache: the open batch spills into the
				 * WAL before the kill, uncommitted frames and all. */
				sqlite3_exec(cp_store_sqlite_db(s), "PRAGMA cache_size=8", NULL,
					     NULL, NULL);
			}
			snprintf(contact, sizeof(contact), "sip:k%d@10.0.%d.%d", i, i / 250,
				 i % 250 + 1);
			r = rec("k@example.com", contact, NULL, SW_PN_NONE, NULL, NULL, NULL,
				v4(10, 0, (uint8_t)(i / 250), (uint8_t)(i % 250 + 1)), 5060,
				INT64_MAX);
			if (cp_store_put(s, &r) != 0)
				_exit(4);
			/* ... and deletes of committed rows, not committed either. */
			if (i >= N && i - N < 50) {
				snprintf(contact, sizeof(contact), "sip:k%d@10.0.%d.%d", i - N,
					 (i - N) / 250, (i - N) % 250 + 1);
				r.contact_len = (uint16_t)strlen(contact);
				if (cp_store_del(s, &r) != 0)
					_exit(5);
			}
		}
		if (write(p[1], "u", 1) != 1)
			_exit(6);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'c');
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'u');
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
	close(p[0]);

	{
		struct cp_store *s = open_ok(path, false);
		struct seen seen = {0};

		assert_int_equal(cp_store_load(s, 0, on_seen, &seen), N);
		cp_store_close(s);
		for (int i = 0; i < N; i++)
			assert_int_equal(seen.hits[i], 1);
		assert_int_equal(seen.other, 0);
	}
	assert_int_equal(count_rows(path), N);
}

/* A write fails (the file may not grow): the whole batch is rolled back,
 * later writes of it are refused, the next batch works. */
static void test_failed_batch(void **state)
{
	char path[128], contact[64];
	static char big[900];
	struct cp_store_stats st;
	struct cp_store *s;
	struct sw_bind_rec r;
	struct loaded l;
	int rc = 0, i;

	(void)state;
	memset(big, 'x', sizeof(big));
	s = open_ok(tpath(path, sizeof(path), "full.db"), false);
	r = rec("m@example.com", "sip:m@192.0.2.1", NULL, SW_PN_NONE, NULL, NULL, NULL,
		v4(192, 0, 2, 1), 5060, 2000);
	assert_int_equal(cp_store_put(s, &r), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* An invalid record is refused before it touches the batch. */
	r.aor_len = 0;
	assert_int_equal(cp_store_put(s, &r), -EINVAL);
	r.aor_len = 13;

	assert_int_equal(
		sqlite3_exec(cp_store_sqlite_db(s), "PRAGMA max_page_count=8", NULL, NULL, NULL),
		SQLITE_OK);
	r.instance = big;
	r.instance_len = SW_INSTANCE_MAX - 1;
	for (i = 0; i < 1000 && rc == 0; i++) {
		snprintf(contact, sizeof(contact), "sip:m%d@192.0.2.1", i);
		r.contact = contact;
		r.contact_len = (uint16_t)strlen(contact);
		r.instance = big + i % 2; /* distinct keys */
		snprintf(big, 8, "%07d", i);
		rc = cp_store_put(s, &r);
	}
	assert_int_equal(rc, -EIO);
	assert_non_null(strstr(cp_store_error(s), path));
	assert_non_null(strstr(cp_store_error(s), "full"));
	assert_int_equal(cp_store_put(s, &r), -EIO);
	assert_int_equal(cp_store_del_aor(s, "m@example.com", 13), -EIO);
	assert_int_equal(cp_store_commit(s), -EIO);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.commit_errors, 1);
	assert_int_equal(st.commits, 1);
	assert_int_equal(count_rows(path), 1);

	/* Room again: a new batch commits. */
	assert_int_equal(sqlite3_exec(cp_store_sqlite_db(s), "PRAGMA max_page_count=100000", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(cp_store_put(s, &r), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(reload(path, 0, &l), 2);
}

static void test_load_stops(void **state)
{
	char path[128], contact[32];
	struct cp_store *s;
	struct loaded l = {.fail_after = 2};

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "stops.db"), false);
	for (int i = 0; i < 5; i++) {
		struct sw_bind_rec r;

		snprintf(contact, sizeof(contact), "sip:n@192.0.2.%d", i + 1);
		r = rec("n@example.com", contact, NULL, SW_PN_NONE, NULL, NULL, NULL,
			v4(192, 0, 2, (uint8_t)(i + 1)), 5060, 2000);
		assert_int_equal(cp_store_put(s, &r), 0);
	}
	assert_int_equal(cp_store_commit(s), 0);
	assert_int_equal(cp_store_load(s, 0, on_load, &l), -ENOSPC);
	assert_int_equal(l.n, 2);
	/* The store is usable after: nothing left open. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(cp_store_load(s, 0, on_load, &l), 5);
	cp_store_close(s);
}

static void test_bad_paths(void **state)
{
	char path[128], file[128], err[512];
	int fd;

	(void)state;
	/* A path under a regular file. */
	tpath(file, sizeof(file), "plain");
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	tpath(path, sizeof(path), "plain/sub/b.db");
	err[0] = '\0';
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, "bindings.store "));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "Not a directory"));
	tpath(path, sizeof(path), "plain/b.db");
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "plain is not a directory"));
	/* A directory where the file should be. */
	tpath(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	/* No err buffer: still NULL, no crash. */
	assert_null(cp_store_open(path, false, NULL, 0));
}

static void test_not_a_database(void **state)
{
	char path[128], err[512];
	char junk[4096];
	int fd;

	(void)state;
	tpath(path, sizeof(path), "junk.db");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a database"));
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cp_store.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_device_key),
		cmocka_unit_test(test_device_key_matches_sw_bind),
		cmocka_unit_test(test_upsert),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_uncommitted_close),
		cmocka_unit_test(test_kill9),
		cmocka_unit_test(test_failed_batch),
		cmocka_unit_test(test_load_stops),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_not_a_database),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, setup, teardown);
	urcu_qsbr_unregister_thread();
	return rc;
}
