/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd's tests drive pd_testsrv through this: start it as a child with
 * fresh keys and certificates, read its PORT line, send control commands
 * and wait for their OK, read its event lines, stop it.
 */
#include "tests/pushd/ts_harness.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

int ts_keys_make(struct ts_keys *k)
{
	static const char *const names[] = {"tls.crt", "tls.key", "AuthKey.p8",	 "apns.pub",
					    "sa.key",  "sa.pub",  "sa.json",	 "cli.crt",
					    "cli.key", "ca.crt",  "cli_ca2.crt", "cli_topic.crt"};
	json_t *sa;
	FILE *f;
	char pem[8192];
	size_t n;

	snprintf(k->dir, sizeof(k->dir), "/tmp/pd_test.XXXXXX");
	if (!mkdtemp(k->dir))
		return -errno;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		snprintf(k->path[i], sizeof(k->path[i]), "%s/%s", k->dir, names[i]);
	if (run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout tls.key -out tls.crt -days 2 -subj /CN=localhost "
		"-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null"
		" && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "
		"AuthKey.p8 && openssl pkey -in AuthKey.p8 -pubout -out apns.pub"
		" && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key "
		"2>/dev/null && openssl pkey -in sa.key -pubout -out sa.pub",
		k->dir))
		return -EIO;
	/* APNs client certificates as Apple issues them: the bundle id in the
	 * subject's UID, signed by a CA (here one of ours, the test server's
	 * --client-ca); the same subject from another CA; another bundle's. */
	if (run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout ca.key -out ca.crt -days 2 -subj '/CN=Test APNs CA' 2>/dev/null"
		" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout ca2.key -out ca2.crt -days 2 -subj '/CN=Another CA' 2>/dev/null"
		" && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out cli.key"
		" && printf 'extendedKeyUsage=clientAuth\\n' > cli.ext"
		" && openssl req -new -key cli.key -out cli.csr -subj "
		"'/UID=" TS_BUNDLE "/CN=Apple Push Services: " TS_BUNDLE "/OU=CERTTEAM01'"
		" && openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -set_serial 1"
		" -days 2 -extfile cli.ext -out cli.crt 2>/dev/null"
		" && openssl x509 -req -in cli.csr -CA ca2.crt -CAkey ca2.key -set_serial 2"
		" -days 2 -extfile cli.ext -out cli_ca2.crt 2>/dev/null"
		" && openssl req -new -key cli.key -out other.csr -subj "
		"'/UID=com.other.app/CN=Apple Push Services: com.other.app/OU=CERTTEAM01'"
		" && openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key -set_serial 3"
		" -days 2 -extfile cli.ext -out cli_topic.crt 2>/dev/null",
		k->dir))
		return -EIO;
	f = fopen(k->path[K_RSA], "r");
	if (!f)
		return -EIO;
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	sa = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "service_account", "project_id",
		       TS_PROJECT, "private_key", pem, "client_email", TS_EMAIL, "token_uri",
		       "https://oauth2.googleapis.com/token");
	if (!sa || json_dump_file(sa, k->path[K_SA_JSON], 0) != 0)
		return -EIO;
	json_decref(sa);
	return 0;
}

void ts_keys_remove(struct ts_keys *k)
{
	if (k->dir[0])
		run("rm -rf %s", k->dir);
}

static void add_line(struct ts_srv *s, const char *l, size_t len)
{
	if (s->n_lines == s->cap_lines) {
		s->cap_lines = s->cap_lines ? s->cap_lines * 2 : 256;
		s->lines = realloc(s->lines, s->cap_lines * sizeof(*s->lines));
	}
	s->lines[s->n_lines++] = strndup(l, len);
}

/* Reads what is there within @timeout_ms; returns false on timeout or EOF. */
static bool pump(struct ts_srv *s, int timeout_ms)
{
	struct pollfd p = {.fd = s->out, .events = POLLIN};
	ssize_t n;
	char *nl;

	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	n = read(s->out, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
	if (n <= 0)
		return false;
	s->len += (size_t)n;
	while ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
		add_line(s, s->buf, (size_t)(nl - s->buf));
		s->len -= (size_t)(nl + 1 - s->buf);
		memmove(s->buf, nl + 1, s->len);
	}
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *ts_srv_wait(struct ts_srv *s, const char *needle, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		for (size_t i = s->cursor; i < s->n_lines; i++)
			if (strstr(s->lines[i], needle)) {
				s->cursor = i + 1;
				return s->lines[i];
			}
		if (now_ms() >= end)
			return NULL;
		pump(s, (int)(end - now_ms()));
	}
}

unsigned ts_srv_count(struct ts_srv *s, const char *needle)
{
	unsigned n = 0;

	while (pump(s, 0))
		;
	for (size_t i = 0; i < s->n_lines; i++)
		n += strstr(s->lines[i], needle) != NULL;
	return n;
}

int ts_srv_cmd(struct ts_srv *s, const char *fmt, ...)
{
	char line[512], ok[64], cmd[32] = "";
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	sscanf(line, "%31s", cmd);
	line[n++] = '\n';
	if (write(s->in, line, (size_t)n) != n)
		return -EIO;
	snprintf(ok, sizeof(ok), "OK %s", cmd);
	return ts_srv_wait(s, ok, 5000) ? 0 : -ETIMEDOUT;
}

int ts_srv_start(struct ts_srv *s, const char *bin, const struct ts_keys *k, unsigned port,
		 const char *extra)
{
	int in[2], out[2];
	char portstr[16], ex[512] = "";
	char *argv[48];
	int argc = 0;
	const char *l;

	memset(s, 0, sizeof(*s));
	if (pipe(in) || pipe(out))
		return -errno;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (extra)
		snprintf(ex, sizeof(ex), "%s", extra);
	argv[argc++] = (char *)bin;
#define A(n, v)                           \
	do {                              \
		argv[argc++] = (char *)n; \
		argv[argc++] = (char *)v; \
	} while (0)
	A("--cert", k->path[K_TLS_CRT]);
	A("--key", k->path[K_TLS_KEY]);
	A("--port", portstr);
	A("--apns-key", k->path[K_P8_PUB]);
	A("--apns-kid", TS_KID);
	A("--apns-team", TS_TEAM);
	A("--apns-bundle", TS_BUNDLE);
	A("--fcm-key", k->path[K_RSA_PUB]);
	A("--fcm-email", TS_EMAIL);
	A("--fcm-project", TS_PROJECT);
	A("--client-ca", k->path[K_CA_CRT]);
#undef A
	for (char *save = NULL, *t = strtok_r(ex, " ", &save); t && argc < 46;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(bin, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in = in[1];
	s->out = out[0];
	l = ts_srv_wait(s, "PORT ", 5000);
	if (!l)
		return -ETIMEDOUT;
	s->port = (unsigned)atoi(l + 5);
	return 0;
}

int ts_srv_stop(struct ts_srv *s)
{
	int status = 0, rc = 0;

	if (s->pid > 0) {
		/* EOF on its stdin ends the server cleanly (so ASan can check it). */
		close(s->in);
		for (int i = 0; i < 500 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
			usleep(10 * 1000);
		if (waitpid(s->pid, &status, WNOHANG) == 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
		}
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		close(s->out);
		s->pid = 0;
	}
	for (size_t i = 0; i < s->n_lines; i++)
		free(s->lines[i]);
	free(s->lines);
	s->lines = NULL;
	s->n_lines = s->cap_lines = s->cursor = 0;
	return rc;
}

int ts_srv_wpsub(struct ts_srv *s, const char *id, char *endpoint, size_t ecap, char *keys,
		 size_t kcap)
{
	char want[160], e[512] = "", k[200] = "";
	const char *l;

	if (ts_srv_cmd(s, "wpsub %s", id) != 0)
		return -ETIMEDOUT;
	snprintf(want, sizeof(want), "OK wpsub %s ", id);
	l = s->lines[s->cursor - 1]; /* the line ts_srv_cmd() matched */
	if (strncmp(l, want, strlen(want)) != 0 ||
	    sscanf(l + strlen(want), "%511s %199s", e, k) != 2)
		return -EINVAL;
	snprintf(endpoint, ecap, "%s", e);
	snprintf(keys, kcap, "%s", k);
	return 0;
}

void ts_pd_webpush(struct pd_config *cfg, const struct ts_keys *k)
{
	struct pd_webpush_cfg *w = &cfg->webpush[cfg->n_webpush++];

	memset(w, 0, sizeof(*w));
	snprintf(w->vapid_key, sizeof(w->vapid_key), "%s", k->path[K_P8]);
	snprintf(w->subject, sizeof(w->subject), "mailto:ops@example.com");
	snprintf(w->ca_file, sizeof(w->ca_file), "%s", k->path[K_TLS_CRT]);
	w->max_origins = 64;
	w->origin_idle_s = 120;
}

void ts_pd_config(struct pd_config *cfg, const struct ts_keys *k, unsigned port)
{
	struct pd_apns_cfg *a;
	struct pd_fcm_cfg *f;

	pd_config_defaults(cfg);
	cfg->retry_base_ms = 50;
	cfg->retry_max_ms = 400;
	cfg->n_apns = 2;
	a = &cfg->apns[0];
	snprintf(a->team_id, sizeof(a->team_id), TS_TEAM);
	snprintf(a->key_id, sizeof(a->key_id), TS_KID);
	snprintf(a->bundle_id, sizeof(a->bundle_id), TS_BUNDLE);
	snprintf(a->key_file, sizeof(a->key_file), "%s", k->path[K_P8]);
	snprintf(a->host, sizeof(a->host), "127.0.0.1");
	a->port = (uint16_t)port;
	snprintf(a->ca_file, sizeof(a->ca_file), "%s", k->path[K_TLS_CRT]);
	cfg->apns[1] = *a;
	a = &cfg->apns[1];
	snprintf(a->team_id, sizeof(a->team_id), "CERTTEAM01");
	a->key_file[0] = a->key_id[0] = '\0';
	snprintf(a->cert_file, sizeof(a->cert_file), "%s", k->path[K_CLI_CRT]);
	snprintf(a->cert_key_file, sizeof(a->cert_key_file), "%s", k->path[K_CLI_KEY]);
	cfg->n_fcm = 1;
	f = &cfg->fcm[0];
	snprintf(f->project, sizeof(f->project), TS_PROJECT);
	snprintf(f->service_account_file, sizeof(f->service_account_file), "%s",
		 k->path[K_SA_JSON]);
	snprintf(f->token_url, sizeof(f->token_url), "https://127.0.0.1:%u/token", port);
	snprintf(f->host, sizeof(f->host), "127.0.0.1");
	f->port = (uint16_t)port;
	snprintf(f->ca_file, sizeof(f->ca_file), "%s", k->path[K_TLS_CRT]);
}

void ts_request(struct pd_request *r, enum pd_provider p, const char *token, uint64_t id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	snprintf(r->device_key, sizeof(r->device_key), "dev-%llu", (unsigned long long)id);
	r->provider = p;
	snprintf(r->token, sizeof(r->token), "%s", token);
	snprintf(r->param, sizeof(r->param), "%s",
		 p == PD_APNS ? TS_TEAM "." TS_BUNDLE ".voip" : TS_PROJECT);
	r->kind = PD_KIND_CALL;
	snprintf(r->call_id, sizeof(r->call_id), "call-%llu@pbx", (unsigned long long)id);
	snprintf(r->caller_number, sizeof(r->caller_number), "+15551230000");
	snprintf(r->caller_name, sizeof(r->caller_name), "Alice");
	snprintf(r->aor, sizeof(r->aor), "sip:bob@example.com");
	r->deadline_ms = sw_mono_ms() + 5000;
}

struct pd_result *ts_wait_result(struct pd *pd, uint64_t id, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	struct pd_result *r;

	for (;;) {
		struct pollfd p = {.fd = pd_result_fd(pd), .events = POLLIN};
		uint64_t v;

		while (pd_poll_results(pd, &r, 1) == 1) {
			if (r->id == id)
				return r;
			free(r);
		}
		if (now_ms() >= end)
			return NULL;
		if (poll(&p, 1, (int)(end - now_ms())) > 0 && read(p.fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: someone else drained it */
		}
	}
}

int ts_wait_n(struct pd *pd, unsigned n, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	unsigned got = 0;
	int ok = 0;
	struct pd_result *r;

	while (got < n) {
		struct pollfd p = {.fd = pd_result_fd(pd), .events = POLLIN};
		uint64_t v;

		while (got < n && pd_poll_results(pd, &r, 1) == 1) {
			got++;
			ok += r->status == PD_DELIVERED;
			free(r);
		}
		if (got == n)
			break;
		if (now_ms() >= end)
			return -1;
		if (poll(&p, 1, (int)(end - now_ms())) > 0 && read(p.fd, &v, sizeof(v)) < 0) {
			/* EAGAIN */
		}
	}
	return ok;
}
