/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of bench_cluster share (bench/bench_cluster.c says what
 * it measures): options, realistic changes ready to send, links driven as
 * the control plane drives them, percentiles.
 */
#ifndef BENCH_CLUSTER_H
#define BENCH_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench_gen.h"
#include "bench/bench_redis.h"
#include "cluster/cl.h"
#include "controlplane/store/cp_store.h"

#define BC_MAX_RUNS    15
#define BC_MAX_READERS 8
#define BC_VAL_MAX     1024

/** Options (bench_cluster.c). */
struct bc_opts {
	struct bench_redis rd;
	unsigned runs;
	unsigned changes; /**< feed lag: changes per batch size and run */
	unsigned wakes;	  /**< wake across edges: REGISTERs per run */
	unsigned tput;	  /**< write throughput: changes per run */
	unsigned readers; /**< write throughput: feed readers (edges), 2..8 */
	unsigned mem;	  /**< Redis memory: bindings per run */
	unsigned load;	  /**< restart: bindings loaded */
	unsigned idle_us; /**< the loop's sleep when a pass did nothing (0: spin) */
	char dir[64];	  /**< temporary directory (journals) */
	uint64_t next_id; /**< binding numbers not used yet (bench_gen()) */
};

/** One binding as the link sends it: its record encoded (cp_codec_encode()). */
struct bc_item {
	struct bench_gen g;
	char key[CP_STORE_KEY_MAX];
	char val[BC_VAL_MAX];
	size_t key_len, val_len;
};

/** Binding number @p i registered now (wall) for an hour, encoded into @p it.
 *  @return 0, or -1 (does not encode: a bug). */
int bc_item(uint64_t i, struct bc_item *it);

/** @p it as a change for a batch (strings point into @p it). */
struct cl_binding bc_binding(const struct bc_item *it);

/** A link's config for edge @p edge, keys under @p prefix. */
void bc_cfg(const struct bc_opts *o, struct cl_config *c, const char *edge, const char *prefix);

/** Monotonic nanoseconds. */
uint64_t bc_ns(void);

/** One pass of the control plane's loop over @p n links: cl_run() on each,
 *  then, when none did anything, sleep idle_us. @return callbacks made. */
unsigned bc_pump(const struct bc_opts *o, struct cl *const *l, unsigned n);

/** The same over shared stores (cp_store_poll()). */
unsigned bc_pump_stores(const struct bc_opts *o, struct cp_store *const *s, unsigned n);

/** Redis's CPU time so far (INFO cpu: used_cpu_user + used_cpu_sys), s; -1. */
double bc_redis_cpu(const struct bc_opts *o);

/** The @p p-th percentile (0..100) of @p v (@p n values; sorted here). */
double bc_pct(double *v, size_t n, double p);

/** The median of @p n values (sorted here). */
double bc_median(double *v, unsigned n);

/** The binding number in AOR "u<i>@..." (@p len bytes), or UINT64_MAX. */
uint64_t bc_aor_id(const char *aor, size_t len);

/* The parts: each run fills one value per figure it measures. */

/** Feed lag per batch size (1, 8, 64): p50 / p99 in us. */
struct bc_lag {
	double p50[3], p99[3];
	double val_bytes; /**< mean encoded binding */
};
int bc_run_lag(struct bc_opts *o, struct bc_lag *out);

/** Write throughput through one link with @p readers edges tailing the feed. */
struct bc_tput {
	double changes_s;	 /**< acknowledged by Redis, per second */
	double lag_p50, lag_p99; /**< feed lag at that load, us */
	double redis_us;	 /**< Redis CPU (user + sys) per change, us */
};
int bc_run_tput(struct bc_opts *o, unsigned readers, struct bc_tput *out);

/** cp_codec_encode() / cp_codec_decode() of one realistic binding, us. */
struct bc_codec {
	double encode_us, decode_us;
};
int bc_run_codec(struct bc_opts *o, struct bc_codec *out);

/** Wake across edges: A's REGISTER written -> B's table, us. */
struct bc_wake {
	double p50, p99;	 /**< to the device in B's table */
	double ack_p50, ack_p99; /**< to A's done(): its 200 may leave */
};
int bc_run_wake(struct bc_opts *o, struct bc_wake *out);

/** Redis memory per binding. */
struct bc_mem {
	double with_feed, without_feed; /**< bytes per binding */
	double feed_entry;		/**< bytes per feed entry */
	double listpack;		/**< without the feed, hash-max-listpack-value 1024 */
	unsigned feed_len;		/**< entries in the feed before the trim */
};
int bc_run_mem(struct bc_opts *o, struct bc_mem *out);

/** A restarted edge loading the bindings: written once (bc_load_write()),
 *  loaded once per run. */
struct bc_load {
	double seconds, per_s;
	unsigned loaded;
	double at_return; /**< in the table when cp_store_load() returned */
	double return_s;  /**< when it returned */
	double redis_us;  /**< Redis CPU per binding loaded */
	bool waited_out;  /**< cp_store_load() gave up waiting (10 s): the rest came later */
};
int bc_load_write(struct bc_opts *o, double *write_s, double *bytes_per_binding);
int bc_run_load(struct bc_opts *o, struct bc_load *out);
void bc_load_drop(struct bc_opts *o);

#endif /* BENCH_CLUSTER_H */
