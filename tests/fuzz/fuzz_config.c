/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the config loader (controlplane/config/cp_config.h).
 *
 * Each input is a config file: written to a memfd and loaded through its
 * /proc/self/fd path with cp_config_load(), the call `sipwake
 * --check-config`, the start and a SIGHUP reload make (app/main.c,
 * controlplane/config/cp_reload.c), so the file reading (size cap, NUL
 * bytes) runs too, and nothing is written to disk. The promise checked:
 *   - the input loads (0) or is refused (-EINVAL), nothing else;
 *   - a refusal's message is one NUL-terminated line of printable bytes,
 *     "<file>:<line>: ..." with a line of the input (1 .. its lines + 1),
 *     or "<file>: expected a text file ..." for a NUL byte;
 *   - a loaded config keeps what the loader promises: 1..CP_MAX_IFACES
 *     interfaces with a device and an address each, counts within their
 *     arrays, every string NUL-terminated in its field, powers of 2 where
 *     the table asks for them, the wake timeouts in order;
 *   - the same text through cp_config_load_string() (what the unit tests
 *     use) gives the same answer: the same config, or the same refusal;
 * and, from the sanitizers, no crash, leak or undefined behaviour; run.sh
 * caps memory (-rss_limit_mb, -malloc_limit_mb) so an unbounded
 * allocation fails too. A broken promise aborts.
 *
 * @include is skipped: it names other files, and a fuzzed name would read
 * whatever this machine holds instead of the input, and block on a FIFO or
 * /dev/stdin. What an included file may be is the operator's business
 * (/dev/zero, tried by hand, is refused at once as a syntax error).
 *
 * Built with clang by tests/fuzz/build.sh; tests/fuzz/replay.c runs the same
 * checks over tests/fuzz/corpus_config/ with gcc, as a meson unit test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "controlplane/config/cp_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_config: invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                          \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* The loader's cap (cp_config_load.c, MAX_FILE_SIZE). */
#define FILE_CAP (1u << 20)

#define TERMINATED(field) CHECK(memchr((field), '\0', sizeof(field)) != NULL)

static bool pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static void check_push(const struct pd_config *p)
{
	CHECK(p->n_apns <= PD_MAX_CREDS && p->n_fcm <= PD_MAX_CREDS &&
	      p->n_webpush <= PD_MAX_CREDS);
	CHECK(pow2(p->ring_size));
	for (unsigned i = 0; i < p->n_apns; i++) {
		const struct pd_apns_cfg *a = &p->apns[i];

		TERMINATED(a->team_id);
		TERMINATED(a->bundle_id);
		TERMINATED(a->key_id);
		TERMINATED(a->key_file);
		TERMINATED(a->cert_file);
		TERMINATED(a->cert_key_file);
		TERMINATED(a->host);
		TERMINATED(a->ca_file);
		/* Token or certificate auth, exactly one, whole; an endpoint. */
		CHECK(a->team_id[0] && a->bundle_id[0] && a->host[0] && a->port != 0);
		CHECK(!!a->key_file[0] == !!a->key_id[0]);
		CHECK(!!a->cert_file[0] == !!a->cert_key_file[0]);
		CHECK(!!a->key_file[0] != !!a->cert_file[0]);
	}
	for (unsigned i = 0; i < p->n_fcm; i++) {
		const struct pd_fcm_cfg *f = &p->fcm[i];

		TERMINATED(f->project);
		TERMINATED(f->package);
		TERMINATED(f->service_account_file);
		TERMINATED(f->token_url);
		TERMINATED(f->host);
		TERMINATED(f->ca_file);
		CHECK(f->project[0] && f->service_account_file[0] && f->host[0] && f->port != 0);
	}
	for (unsigned i = 0; i < p->n_webpush; i++) {
		const struct pd_webpush_cfg *w = &p->webpush[i];

		TERMINATED(w->vapid_key);
		TERMINATED(w->subject);
		TERMINATED(w->ca_file);
		CHECK(w->vapid_key[0]);
		CHECK(!strncmp(w->subject, "mailto:", 7) || !strncmp(w->subject, "https://", 8));
	}
}

static void check_config(const struct cp_config *c)
{
	CHECK(c->n_ifaces >= 1 && c->n_ifaces <= CP_MAX_IFACES);
	for (unsigned i = 0; i < c->n_ifaces; i++) {
		const struct cp_iface_cfg *f = &c->ifaces[i];

		TERMINATED(f->device);
		CHECK(f->device[0] != '\0');
		CHECK(f->has_ipv4 || f->has_ipv6);
		CHECK(!f->has_gw4 || f->has_ipv4);
		CHECK(!f->has_gw6 || f->has_ipv6);
		CHECK(f->prefix4 <= 32 && f->prefix6 <= 128);
		CHECK(f->vlan <= 4094);
	}
	CHECK(c->sip_port >= 1);
	CHECK(c->n_names <= CP_MAX_NAMES);
	for (unsigned i = 0; i < c->n_names; i++) {
		TERMINATED(c->names[i]);
		CHECK(c->names[i][0] != '\0');
	}
	CHECK(c->n_pbx_sources <= CP_MAX_PREFIXES && c->n_pbx_servers <= CP_MAX_SERVERS);
	for (unsigned i = 0; i < c->n_pbx_sources; i++)
		CHECK(c->pbx_sources[i].plen <= 128);
	CHECK(c->n_scanner_uas <= CP_MAX_PATTERNS);
	for (unsigned i = 0; i < c->n_scanner_uas; i++)
		TERMINATED(c->scanner_uas[i]);
	CHECK(pow2(c->rx_desc) && pow2(c->tx_desc) && pow2(c->ring_size));
	CHECK(pow2(c->streams.ring_size));
	TERMINATED(c->store);
	CHECK(c->wake_device_timeout_min_s <= c->wake_device_timeout_max_s);
	CHECK(c->n_stream_ports <= CP_MAX_STREAM_PORTS);
	CHECK(c->streams.n_listeners <= ST_MAX_LISTENERS);
	CHECK(c->n_peers <= CP_MAX_PEERS);
	for (unsigned i = 0; i < c->n_peers; i++)
		TERMINATED(c->peers[i].edge);
	TERMINATED(c->cl_path);
	TERMINATED(c->cl.edge);
	TERMINATED(c->cl.master);
	TERMINATED(c->cl.password);
	TERMINATED(c->cl.prefix);
	CHECK(c->cl.n_sentinels <= CL_MAX_SENTINELS);
	CHECK(!c->cluster || c->cl.edge[0] != '\0');
	CHECK(c->log_level >= CP_LOG_ERR && c->log_level <= CP_LOG_DEBUG);
	check_push(&c->push);
}

/* One line of printable bytes: "<file>:<line>: ..." with a line of the input,
 * or "<file>: ..." (cannot read, NUL byte). */
static void check_error(const char *err, size_t cap, const char *file, const uint8_t *data,
			size_t size)
{
	size_t fl = strlen(file), lines = 1;
	const char *p;
	char *end;
	unsigned long line;

	CHECK(memchr(err, '\0', cap) != NULL);
	for (p = err; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	CHECK(!strncmp(err, file, fl) && err[fl] == ':');
	if (err[fl + 1] == ' ') {
		CHECK(memchr(data, '\0', size) != NULL || size > FILE_CAP);
		return;
	}
	line = strtoul(err + fl + 1, &end, 10);
	CHECK(end != err + fl + 1 && *end == ':');
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	CHECK(line >= 1 && line <= lines + 1);
}

static int memfd = -1;
static char path[64];

static struct cp_config cfg, cfg_str;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], err_str[512];
	char *text;
	int rc, rc_str;

	if (memmem(data, size, "@include", 8) != NULL || size > FILE_CAP)
		return 0;
	if (memfd < 0) {
		memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
		CHECK(memfd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	CHECK(ftruncate(memfd, 0) == 0);
	CHECK(size == 0 || pwrite(memfd, data, size, 0) == (ssize_t)size);

	memset(err, 'x', sizeof(err));
	rc = cp_config_load(path, &cfg, err, sizeof(err));
	CHECK(rc == 0 || rc == -EINVAL);
	if (rc != 0)
		check_error(err, sizeof(err), path, data, size);
	else
		check_config(&cfg);

	/* The string loader: the same answer for a text without NUL. */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err_str, 'x', sizeof(err_str));
	rc_str = cp_config_load_string(text, &cfg_str, err_str, sizeof(err_str));
	free(text);
	CHECK(rc_str == rc);
	if (rc == 0) {
		CHECK(memcmp(&cfg, &cfg_str, sizeof(cfg)) == 0);
	} else {
		/* The same message after the file name (both cut at the buffer). */
		const char *a = err + strlen(path), *b = err_str + strlen("<string>");
		size_t n = strlen(a) < strlen(b) ? strlen(a) : strlen(b);

		check_error(err_str, sizeof(err_str), "<string>", data, size);
		CHECK(!strncmp(a, b, n));
	}
	return 0;
}
