/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding store (controlplane/store/cp_store.h): what is not committed is
 * not there. A store closed in the middle of a batch, a writer killed with
 * -9 in the middle of one (its uncommitted frames already in the WAL), a
 * batch whose write fails (rolled back whole, the next one commits), and a
 * load whose callback stops it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "controlplane/store/cp_store_internal.h"
#include "tests/controlplane/cp_store_test.h"

void test_uncommitted_close(void **state)
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
void test_kill9(void **state)
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
void test_failed_batch(void **state)
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

void test_load_stops(void **state)
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
