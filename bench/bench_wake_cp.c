/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane bench_wake drives: made anew for each part, sized as
 * sipwake sizes it, with its own SQLite store and the one pushd; and what
 * its counters say when a part goes wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_wake_cp.h"
#include "common/sw_callset.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"

struct wake wake;
static char db_dir[] = "/var/tmp/bench_wake.XXXXXX";
static unsigned n_inst;

void wake_dump_counters(void)
{
	for (unsigned i = 0; i < CP_C_MAX; i++)
		if (cp_counter(wake.cp, i))
			fprintf(stderr, "  %s %" PRIu64 "\n", cp_counter_names[i],
				cp_counter(wake.cp, i));
	for (unsigned i = 0; i < CP_D_MAX; i++)
		if (cp_drop_count(wake.cp, i))
			fprintf(stderr, "  drop_%s %" PRIu64 "\n", cp_drop_names[i],
				cp_drop_count(wake.cp, i));
	for (unsigned i = 0; i < DP_D_MAX; i++)
		if (dph_drop(&wake.h, i))
			fprintf(stderr, "  dp drop_%s %" PRIu64 "\n", dp_drop_name(i),
				dph_drop(&wake.h, i));
}

void wake_cp_free(void)
{
	cp_free(wake.cp); /* closes its store */
	wake.cp = NULL;
	sw_bind_free(wake.h.ctx->bind);
	wake.h.ctx->bind = NULL;
	sw_callset_free(wake.h.ctx->held);
	wake.h.ctx->held = NULL;
}

int wake_cp_new(unsigned devices, unsigned held)
{
	char db[96], err[256];
	struct cp_config cfg;
	struct cp_store *st;

	cp_config_defaults(&cfg);
	cfg.max_devices = devices + 16;
	cfg.max_held = held + 16;
	cfg.max_pending = 4096;
	cfg.ping_interval_s = 0;
	cfg.wake_timeout_s = 3600; /* no timer runs here anyway */
	/* The control plane's copy of the PBX the harness's policy has. */
	cfg.n_pbx_servers = wake.h.ctx->p.n_servers;
	for (unsigned i = 0; i < wake.h.ctx->p.n_servers; i++) {
		memcpy(cfg.pbx_servers[i].addr, wake.h.ctx->p.servers[i].ip.a, 16);
		cfg.pbx_servers[i].port = wake.h.ctx->p.servers[i].port;
	}
	/* The source table sized as sipwake sizes it for so many devices. */
	sw_src_free(wake.h.ctx->src);
	/* A woken device's old socket stays bound while its branch is open
	 * (cp_call.c): room for one per call (no branch ends here). */
	wake.h.ctx->src = sw_src_create(devices + held + 1024);
	wake.h.ctx->bind =
		wake.h.ctx->src ? sw_bind_create(cfg.max_devices, wake.h.ctx->src) : NULL;
	sw_callset_free(wake.h.ctx->held); /* the harness's, sized for tests */
	wake.h.ctx->held = sw_callset_create(cfg.max_held);
	if (wake.h.ctx->bind == NULL || wake.h.ctx->held == NULL)
		return -ENOMEM;
	wake.cp = cp_create(dph_link(&wake.h), &cfg);
	snprintf(db, sizeof(db), "%s/bindings%u.db", db_dir, n_inst++);
	st = cp_store_open(db, false, err, sizeof(err));
	if (wake.cp == NULL || st == NULL) {
		fprintf(stderr, "bench_wake: set-up failed: %s\n", st ? "" : err);
		cp_store_close(st);
		return -EIO;
	}
	if (wake.no_store)
		cp_store_close(st);
	else
		cp_set_store(wake.cp, st);
	cp_set_pushd(wake.cp, wake.pd);
	return 0;
}

int wake_stores_make(void)
{
	return mkdtemp(db_dir) != NULL ? 0 : -errno;
}

void wake_stores_remove(void)
{
	char db[96];

	for (unsigned i = 0; i < n_inst; i++) {
		static const char *const sfx[] = {"", "-wal", "-shm"};

		for (unsigned k = 0; k < RTE_DIM(sfx); k++) {
			snprintf(db, sizeof(db), "%s/bindings%u.db%s", db_dir, i, sfx[k]);
			unlink(db);
		}
	}
	rmdir(db_dir);
}
