/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwake <EAL args> -- <sipwake args>
 *
 * Thin wiring: read and validate the config (before EAL, so --check-config
 * and config errors need no hugepages or ports), initialise EAL, start the
 * dataplane on the worker lcores, run the control plane on the main lcore
 * until SIGINT/SIGTERM, then take everything down in reverse order.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_version.h>

#include "app/params.h"
#include "common/sw_log.h"
#include "controlplane/cp.h"
#include "controlplane/store/cp_store.h"
#include "controlplane/config/cp_config.h"
#include "dataplane/dp.h"
#include "pushd/pd.h"
#include "streams/st.h"

#define DEFAULT_CONFIG "/etc/sipwake/sipwake.conf"

static bool stop_requested;

/* SIGHUP: re-read the config (cp_request_reload() is async-signal-safe). */
static void on_hup(int sig)
{
	(void)sig;
	cp_request_reload();
}

static void on_signal(int sig)
{
	(void)sig;
	/* Lock-free atomic store: async-signal-safe. */
	__atomic_store_n(&stop_requested, true, __ATOMIC_RELEASE);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sipwake <EAL options> -- [options]\n"
		"       sipwake --version | --help\n"
		"\n"
		"A kernel-bypass SIP edge that wakes sleeping mobile softphones.\n"
		"\n"
		"Options (after --):\n"
		"  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
		"      --check-config   validate the configuration, print OK and exit;\n"
		"                       needs no EAL options (device names are checked at start)\n"
		"  -V, --version        print versions and exit\n"
		"  -h, --help           print this help and exit\n"
		"\n"
		"EAL options are DPDK's (see dpdk.org EAL parameters); without hugepages or NICs:\n"
		"  sipwake -l 0,1 --no-huge -m 256 --no-pci --file-prefix=sw \\\n"
		"          --vdev=net_af_packet0,iface=eth1 -- -c sipwake.conf\n"
		"lcore 0 (the main lcore) runs the control plane; every other lcore is a worker.\n"
		"\n"
		"Exit status: 0 after SIGINT/SIGTERM or a successful --check-config;\n"
		"64 usage error; 78 configuration error (the message names the key);\n"
		"69 DPDK could not start (EAL, ports, memory).\n");
}

static void version(void)
{
	printf("sipwake %s\n", SW_VERSION);
	printf("  %s, liburcu %s, libconfig %s, nghttp2 %s, %s\n", rte_version(), SW_URCU_VERSION,
	       SW_LIBCONFIG_VERSION, pd_nghttp2_version(), pd_openssl_version());
}

struct app_opts {
	const char *config;
	bool check_only;
};

/* Parse the arguments after "--" (or all of them when there is no "--",
 * so that `sipwake --version` works as people type it). */
static int parse_opts(int argc, char **argv, struct app_opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check_only = true;
			break;
		case 'V':
			version();
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sipwake: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* EAL leaves /var/run/dpdk/<prefix> behind; an operator's next start with
 * the same prefix is fine, but a test machine fills up. Remove what this
 * primary process created, after EAL has let go of it. */
static void remove_runtime_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX];

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The shared tables, below both planes: made here, borrowed by both. */
static int tables_create(const struct cp_config *cfg, struct dp_tables *t)
{
	t->neigh = sw_neigh_create(cfg->neigh_max);
	t->src = sw_src_create(cfg->max_sources);
	t->bind = t->src != NULL ? sw_bind_create(cfg->max_devices, t->src) : NULL;
	t->banned = sw_src_create(CP_MAX_BANS);
	/* One Call-ID per slot of the wake path's table (cp_call_init():
	 * held calls and MESSAGEs, and as many again lingering). */
	t->held = sw_callset_create((cfg->max_held + cfg->wake_max_messages) * 2);
	/* A held call waits for at most CP_CALL_MAX_DEVICES devices: each
	 * and its AOR. */
	t->waking = sw_callset_create((cfg->max_held + cfg->wake_max_messages) *
				      CP_CALL_MAX_DEVICES * 2);
	if (t->neigh == NULL || t->src == NULL || t->bind == NULL || t->banned == NULL ||
	    t->held == NULL || t->waking == NULL) {
		SW_LOG(ERR, "out of memory creating the tables");
		return -ENOMEM;
	}
	return 0;
}

static void tables_free(struct dp_tables *t)
{
	sw_bind_free(t->bind);
	sw_src_free(t->banned);
	sw_callset_free(t->held);
	sw_callset_free(t->waking);
	sw_src_free(t->src);
	sw_neigh_free(t->neigh);
}

/* The streams thread listens on every address of every interface. */
static void streams_addrs(struct cp_config *cfg)
{
	struct st_config *sc = &cfg->streams;

	sc->n_addrs = 0;
	for (unsigned i = 0; i < cfg->n_ifaces && sc->n_addrs + 2 <= ST_MAX_ADDRS; i++) {
		const struct cp_iface_cfg *ifc = &cfg->ifaces[i];

		if (ifc->has_ipv4)
			sc->addrs[sc->n_addrs++] = sw_ip_from_v4(ifc->ipv4.s_addr);
		if (ifc->has_ipv6)
			memcpy(sc->addrs[sc->n_addrs++].a, &ifc->ipv6, 16);
	}
}

static int run(struct cp_config *cfg, const char *cfg_path, struct pd *pd, struct st *st,
	       struct cp_store *store)
{
	struct dp_config *dc;
	struct dp_ctx *dp = NULL;
	struct cp_ctx *cp = NULL;
	char err[512];
	unsigned lcore;
	int rc = EX_UNAVAILABLE;

	sw_log_set_level((int)cfg->log_level);
	dc = calloc(1, sizeof(*dc));
	if (dc == NULL) {
		SW_LOG(ERR, "out of memory");
		goto out;
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
	dc->lcore[dc->n_workers++] = lcore;
	if (dc->n_workers == 0) {
		SW_LOG(ERR, "no worker lcore: give at least two with -l (e.g. -l 0,1): the main "
			    "lcore runs the control plane, the others poll the ports");
		rc = EX_USAGE;
		goto out;
	}
	if (sw_params_from_config(cfg, &dc->p, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipwake: config error: %s\n", err);
		rc = EX_CONFIG;
		goto out;
	}
	dc->policy = calloc(1, sizeof(*dc->policy));
	if (dc->policy == NULL) {
		SW_LOG(ERR, "out of memory");
		goto out;
	}
	cp_policy_from_config(cfg, dc->policy);
	dc->rate_sources = cfg->rate_sources;
	dc->rate_keys = cfg->rate_keys;
	dc->frag_flows = cfg->frag_flows;
	dc->frag_timeout_ms = cfg->frag_timeout_ms;
	dc->frag_buffers = cfg->frag_buffers;
	dc->n_mbufs = cfg->mbufs;
	dc->rx_desc = cfg->rx_desc;
	dc->tx_desc = cfg->tx_desc;
	dc->ring_size = cfg->ring_size;

	urcu_qsbr_register_thread();
	if (tables_create(cfg, &dc->t) != 0)
		goto fail_tables;
	dp = dp_create(dc);
	dc->policy = NULL; /* the dataplane's now, even if it failed */
	if (dp == NULL)
		goto fail_tables;
	cp = cp_create(dp_link(dp), cfg);
	if (cp == NULL)
		goto fail_dp;
	/* Bindings are back before the first packet is read (kill -9 included). */
	if (cp_set_store(cp, store) < 0)
		SW_LOG(ERR, "bindings.store %s: could not be read; starting without its bindings",
		       cfg->store);
	store = NULL; /* the control plane owns it now */
	cp_set_config_file(cp, cfg_path);
	cp_set_pushd(cp, pd);
	/* After the dataplane: the kernel side of its taps holds our
	 * addresses, which the listeners bind (docs/streams.md). */
	if (st != NULL) {
		if (st_start(st, err, sizeof(err)) != 0) {
			fprintf(stderr, "sipwake: cannot start the streams thread: %s\n", err);
			rc = EX_CONFIG;
			goto fail_cp;
		}
		cp_set_streams(cp, st);
		if (st_telemetry_register(st) != 0)
			SW_LOG(WARNING, "/sipwake/conns not registered (is telemetry disabled?)");
	}
	if (cp_telemetry_register(cp) != 0 || pd_telemetry_register(pd) != 0)
		SW_LOG(WARNING, "telemetry commands not registered (is telemetry disabled?)");
	/* After EAL: the push thread inherits the main lcore's affinity, never a
	 * worker's core. It connects to every configured push service now. */
	if (pd_start(pd) != 0) {
		SW_LOG(ERR, "cannot start the push thread");
		goto fail_cp;
	}
	if (dp_launch(dp) != 0)
		goto fail_cp;
	SW_LOG(NOTICE, "sipwake %s running: %u worker(s), SIP on UDP port %u", SW_VERSION,
	       dc->n_workers, cfg->sip_port);

	cp_run(cp, &stop_requested);

	SW_LOG(NOTICE, "stopping");
	dp_stop(dp);
	rte_eal_mp_wait_lcore();
	rc = EXIT_SUCCESS;

fail_cp:
	cp_free(cp);
fail_dp:
	dp_destroy(dp);
fail_tables:
	tables_free(&dc->t);
	urcu_qsbr_unregister_thread();
out:
	if (dc != NULL)
		free(dc->policy);
	free(dc);
	cp_store_close(store);
	return rc;
}

int main(int argc, char **argv)
{
	struct app_opts o = {.config = DEFAULT_CONFIG};
	struct cp_config cfg;
	struct pd *pd;
	struct st *st = NULL;
	struct cp_store *store;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[1024], runtime_dir[PATH_MAX] = "";
	int sep = -1, eal_argc, rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	if (sep >= 0) {
		argv[sep] = argv[0];
		rc = parse_opts(argc - sep, argv + sep, &o);
		argv[sep] = "--";
		eal_argc = sep;
	} else {
		/* No "--": only sipwake's own options, e.g. --version. */
		rc = parse_opts(argc, argv, &o);
		eal_argc = 1;
	}
	if (rc != 0)
		return EX_USAGE;

	rc = cp_config_load(o.config, &cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "sipwake: config error: %s\n", err);
		return EX_CONFIG;
	}
	/* Push credentials load now, before anything starts: a key that does
	 * not load is a config error, not a failure at the first call. */
	pd = pd_new(&cfg.push, err, sizeof(err));
	if (pd == NULL) {
		fprintf(stderr, "sipwake: config error: %s\n", err);
		return EX_CONFIG;
	}
	/* Certificates load now too: one that does not load is a config error. */
	if (cfg.streams.n_listeners > 0) {
		streams_addrs(&cfg);
		st = st_new(&cfg.streams, err, sizeof(err));
		if (st == NULL) {
			fprintf(stderr, "sipwake: config error: streams: %s\n", err);
			pd_free(pd);
			return EX_CONFIG;
		}
	}
	if (o.check_only) {
		printf("%s: OK (%u interface(s), SIP port %u, push credentials loaded%s)\n",
		       o.config, cfg.n_ifaces, cfg.sip_port,
		       st != NULL ? ", certificates loaded" : "");
		st_free(st);
		pd_free(pd);
		return EXIT_SUCCESS;
	}
	/* The binding store opens before DPDK too: an unusable path is a
	 * config error naming the key, not a surprise after start. */
	store = cfg.cluster ? cp_store_open_shared(cfg.store, cfg.store_sync_full, &cfg.cl, err,
						   sizeof(err))
			    : cp_store_open(cfg.store, cfg.store_sync_full, err, sizeof(err));
	if (store == NULL) {
		fprintf(stderr, "sipwake: config error: bindings.store: %s\n", err);
		st_free(st);
		pd_free(pd);
		return EX_CONFIG;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr, "sipwake: DPDK EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		st_free(st);
		pd_free(pd);
		cp_store_close(store);
		return EX_UNAVAILABLE;
	}
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());

	rc = run(&cfg, o.config, pd, st, store);
	/* The control plane is gone: nothing writes to connections any more. */
	st_free(st);
	pd_free(pd);

	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
	return rc;
}
