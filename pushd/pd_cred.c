/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credential sets: loading every credential of a config (pd_new(),
 * pd_reload()), their fingerprints, and applying a reload on the pushd
 * thread. An unchanged credential is kept with its connections, a new one
 * connects, a replaced one is retired: it takes no new push and is freed
 * with its last job (docs/operations.md, "Reload": reload without losing what is in flight).
 * Also, on the pushd thread, what belongs to one credential: its
 * connections, its FCM access token, and picking the credential for a push.
 */
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/sw_log.h"
#include "pushd/pd_internal.h"

static void fp_str(EVP_MD_CTX *m, const char *s)
{
	EVP_DigestUpdate(m, s, strlen(s) + 1); /* the NUL separates fields */
}

/* The path and the bytes of the file: a key replaced under the same name
 * is a new credential. */
static int fp_file(EVP_MD_CTX *m, const char *path)
{
	unsigned char buf[4096];
	size_t k;
	FILE *f;

	fp_str(m, path);
	if (!path[0])
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(m, buf, k);
	fclose(f);
	return 0;
}

int pd_cred_fingerprint(struct pd_cred *c)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char prov = (unsigned char)c->provider;
	unsigned char port[2];
	int rc = 0;

	if (!m || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		return -ENOMEM;
	}
	EVP_DigestUpdate(m, &prov, 1);
	if (c->apns) {
		const struct pd_apns_cfg *a = c->apns;

		fp_str(m, a->team_id);
		fp_str(m, a->bundle_id);
		fp_str(m, a->key_id);
		fp_str(m, a->host);
		port[0] = (unsigned char)(a->port >> 8);
		port[1] = (unsigned char)a->port;
		EVP_DigestUpdate(m, port, 2);
		rc = fp_file(m, a->key_file);
		rc = rc ? rc : fp_file(m, a->cert_file);
		rc = rc ? rc : fp_file(m, a->cert_key_file);
		rc = rc ? rc : fp_file(m, a->ca_file);
	} else if (c->wp) {
		const struct pd_webpush_cfg *w = c->wp;
		uint32_t bounds[2] = {w->max_origins, w->origin_idle_s};

		fp_str(m, w->subject);
		EVP_DigestUpdate(m, bounds, sizeof(bounds));
		rc = fp_file(m, w->vapid_key);
		rc = rc ? rc : fp_file(m, w->ca_file);
	} else {
		const struct pd_fcm_cfg *f = c->fcm;

		fp_str(m, f->project);
		fp_str(m, f->package);
		fp_str(m, f->token_url);
		fp_str(m, f->host);
		port[0] = (unsigned char)(f->port >> 8);
		port[1] = (unsigned char)f->port;
		EVP_DigestUpdate(m, port, 2);
		rc = fp_file(m, f->service_account_file);
		rc = rc ? rc : fp_file(m, f->ca_file);
	}
	if (EVP_DigestFinal_ex(m, c->fp, NULL) != 1 && rc == 0)
		rc = -EINVAL;
	EVP_MD_CTX_free(m);
	return rc;
}

void pd_cred_release(struct pd_cred *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl);
	EVP_PKEY_free(c->key);
	free(c->jwt);
	free(c->access_token);
	free(c);
}

void pd_creds_release(struct pd_cred **v, unsigned n)
{
	if (!v)
		return;
	for (unsigned i = 0; i < n; i++)
		pd_cred_release(v[i]);
	free(v);
}

static void name_cred(struct pd_cred *c, unsigned index)
{
	c->index = index;
	snprintf(c->name, sizeof(c->name), "%s.[%u]", pd_provider_name(c->provider), index);
}

struct pd_cred **pd_creds_load(struct pd *pd, const struct pd_config *cfg, unsigned *n, char *err,
			       size_t errlen)
{
	unsigned total = cfg->n_apns + cfg->n_fcm + cfg->n_webpush;
	struct pd_cred **v = calloc(total ? total : 1, sizeof(*v));

	*n = 0;
	if (!v)
		goto oom;
	for (unsigned i = 0; i < total; i++) {
		struct pd_cred *c = calloc(1, sizeof(*c));

		if (!c)
			goto oom;
		v[(*n)++] = c;
		c->pd = pd;
		TAILQ_INIT(&c->waiting);
		LIST_INIT(&c->draining);
		LIST_INIT(&c->origins);
		if (i < cfg->n_apns) {
			c->provider = PD_APNS;
			c->apns_cfg = cfg->apns[i];
			c->apns = &c->apns_cfg;
			name_cred(c, i);
			snprintf(c->param, sizeof(c->param), "%s.%s", c->apns->team_id,
				 c->apns->bundle_id);
		} else if (i >= cfg->n_apns + cfg->n_fcm) {
			/* Web Push: one VAPID key for every push service; no match key. */
			c->provider = PD_WEBPUSH;
			c->wp_cfg = cfg->webpush[i - cfg->n_apns - cfg->n_fcm];
			c->wp = &c->wp_cfg;
			name_cred(c, i - cfg->n_apns - cfg->n_fcm);
		} else {
			c->provider = PD_FCM;
			c->fcm_cfg = cfg->fcm[i - cfg->n_apns];
			c->fcm = &c->fcm_cfg;
			name_cred(c, i - cfg->n_apns);
			snprintf(c->param, sizeof(c->param), "%s", c->fcm->project);
		}
		if (pd_cred_load(c, err, errlen) != 0 ||
		    (c->wp && pd_vapid_load(c, err, errlen) != 0))
			goto fail;
		if (pd_cred_fingerprint(c) != 0) {
			snprintf(err, errlen, "push.%s: a file changed while it was read", c->name);
			goto fail;
		}
	}
	return v;
oom:
	snprintf(err, errlen, "pushd: out of memory");
fail:
	pd_creds_release(v, *n);
	*n = 0;
	return NULL;
}

int pd_reload(struct pd *pd, const struct pd_config *cfg, char *err, size_t errlen)
{
	struct pd_cred **v, **stale = NULL;
	unsigned n, n_stale = 0;
	uint64_t one = 1;
	bool started;

	/* Under the lock: pd_cred_load() reads pd->cfg (JWT renewal), which
	 * the pushd thread rewrites when it applies a reload. */
	pthread_mutex_lock(&pd->cred_lock);
	v = pd_creds_load(pd, cfg, &n, err, errlen);
	if (!v) {
		pthread_mutex_unlock(&pd->cred_lock);
		return -EINVAL;
	}
	if (pd->reload_pending) {
		stale = pd->pending; /* never applied: the newer one wins */
		n_stale = pd->n_pending;
	}
	pd->pending = v;
	pd->n_pending = n;
	pd->pending_cfg = *cfg;
	__atomic_store_n(&pd->reload_pending, true, __ATOMIC_RELEASE);
	started = pd->started;
	pthread_mutex_unlock(&pd->cred_lock);
	pd_creds_release(stale, n_stale);
	if (!started)
		pd_reload_apply(pd); /* no thread yet: this one is the pushd thread */
	else if (write(pd->req_fd, &one, sizeof(one)) < 0) {
		/* counter saturated: the loop is awake anyway */
	}
	return 0;
}

unsigned pd_reloads_applied(const struct pd *pd)
{
	return __atomic_load_n(&pd->reloads, __ATOMIC_RELAXED);
}

void pd_reload_apply(struct pd *pd)
{
	struct pd_cred **v, **old;
	struct pd_config *cfg = &pd->pending_cfg;
	unsigned n, old_n, kept = 0, added = 0, retired = 0;
	uint32_t per_provider[PD_N_PROVIDERS] = {0};

	pthread_mutex_lock(&pd->cred_lock);
	if (!pd->reload_pending) {
		pthread_mutex_unlock(&pd->cred_lock);
		return;
	}
	v = pd->pending;
	n = pd->n_pending;
	pd->pending = NULL;
	pd->n_pending = 0;
	__atomic_store_n(&pd->reload_pending, false, __ATOMIC_RELAXED);
	old = pd->creds;
	old_n = pd->n_creds;
	/* Unchanged (same settings, same file bytes): keep the running one,
	 * connections and tokens included, under its new position's name. */
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < old_n; k++) {
			if (!old[k] || old[k]->provider != v[i]->provider ||
			    memcmp(old[k]->fp, v[i]->fp, sizeof(v[i]->fp)) != 0)
				continue;
			struct pd_cred *fresh = v[i];

			v[i] = old[k];
			old[k] = NULL;
			name_cred(v[i], fresh->index);
			pd_cred_release(fresh);
			kept++;
			break;
		}
	pd->creds = v;
	pd->n_creds = n;
	cfg->ring_size = pd->cfg.ring_size; /* the rings are made once */
	cfg->test_jwt_renew_s = pd->cfg.test_jwt_renew_s;
	pd->cfg = *cfg;
	for (unsigned i = 0; i < n; i++)
		per_provider[v[i]->provider]++;
	for (unsigned p = 0; p < PD_N_PROVIDERS; p++)
		__atomic_store_n(&pd->st[p].connections_cfg, per_provider[p], __ATOMIC_RELAXED);
	__atomic_store_n(&pd->reloads, pd->reloads + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&pd->cred_lock);

	for (unsigned i = 0; i < n; i++)
		if (!v[i]->opened && pd->started) {
			pd_cred_open(v[i]);
			added++;
		}
	for (unsigned k = 0; k < old_n; k++) {
		if (!old[k])
			continue;
		retired++;
		if (old[k]->opened) {
			PD_LOG(INFO,
			       "%s (pn-param %s): replaced by a reload, closing after its last "
			       "push",
			       old[k]->name, old[k]->param);
			pd_cred_retire(old[k]);
		} else {
			pd_cred_release(old[k]); /* never used: before pd_start() */
		}
	}
	free(old);
	PD_LOG(NOTICE, "push credentials reloaded: %u kept, %u new, %u replaced or removed", kept,
	       added, retired);
	pd_retired_sweep(pd);
}

void pd_retired_sweep(struct pd *pd)
{
	struct pd_cred *c, *next;

	for (c = LIST_FIRST(&pd->retired); c; c = next) {
		next = LIST_NEXT(c, retired_link);
		if (c->refs != 0)
			continue;
		LIST_REMOVE(c, retired_link);
		PD_LOG(INFO, "%s (pn-param %s): last push done, closed", c->name, c->param);
		pd_cred_close(c);
		pd_cred_release(c);
	}
}

/* ---- on the pushd thread: connections, FCM access tokens, selection ---- */

bool pd_cred_token_ok(struct pd_cred *c)
{
	return c->access_token && sw_mono_ms() < c->access_refresh_ms;
}

struct pd_conn *pd_cred_pick_conn(struct pd_cred *c)
{
	bool all_full = true;
	struct pd_conn *cn;

	for (unsigned i = 0; i < c->n_conns; i++) {
		if (pd_conn_can_send(c->conns[i]))
			return c->conns[i];
		/* One is (re)connecting, or held to one stream until its provider
		 * token is accepted: wait for it rather than open another that
		 * would have to prove the same token. */
		if (!c->conns[i] || c->conns[i]->state != PD_CONN_UP ||
		    pd_conn_probing(c->conns[i]))
			all_full = false;
	}
	/* Every connection is at the server's stream cap: open one more. */
	if (all_full && c->n_conns < c->pd->cfg.max_connections && c->n_conns < PD_MAX_CONNS) {
		cn = pd_conn_new(c, false);
		if (cn) {
			c->conns[c->n_conns++] = cn;
			PD_LOG(INFO, "%s: all %u connection(s) at the stream cap, opening another",
			       c->name, c->n_conns - 1);
		}
	}
	return NULL;
}

void pd_cred_kick(struct pd_cred *c)
{
	struct pd_job *j;

	if (c->retired)
		return; /* its waiting jobs moved; in-flight ones finish on their own */
	if (c->provider == PD_WEBPUSH) {
		pd_origin_kick(c);
		return;
	}
	if (c->provider == PD_FCM) {
		if (c->token_job && !c->token_job->conn && pd_conn_can_send(c->tconn)) {
			if (pd_conn_submit(c->tconn, c->token_job) != 0)
				return;
		}
		if (!pd_cred_token_ok(c)) {
			pd_cred_fetch_token(c);
			return;
		}
	}
	while ((j = TAILQ_FIRST(&c->waiting)) != NULL && pd_cred_pick_conn(c)) {
		TAILQ_REMOVE(&c->waiting, j, link);
		j->on_list = false;
		if (!j->pd->up.dispatch(j, true))
			break;
	}
}

static void token_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pd_cred_fetch_token(arg);
}

void pd_cred_fetch_token(struct pd_cred *c)
{
	struct pd_job *j;

	if (c->retired || c->token_job || evtimer_pending(c->token_retry, NULL))
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->op = PD_OP_FCM_TOKEN;
	j->pd = c->pd;
	pd_job_set_cred(j, c);
	j->req.provider = PD_FCM;
	j->body = pd_fcm_token_request(c, &j->body_len);
	if (!j->body) {
		pd_job_free(j);
		return;
	}
	c->token_job = j;
	if (pd_conn_can_send(c->tconn) && pd_conn_submit(c->tconn, j) != 0)
		return;
}

/* Fails the FCM pushes waiting for an access token that will not come; each
 * carries the token endpoint's @http status (the alarm and log show it). */
static void fail_waiting(struct pd_cred *c, enum pd_status st, const char *reason, int http)
{
	struct pd_job *j;

	while ((j = TAILQ_FIRST(&c->waiting)) != NULL) {
		j->status = http;
		j->pd->up.finish(j, st, reason, 0);
	}
}

void pd_token_done(struct pd_job *j, bool ok)
{
	struct pd_cred *c = j->cred;
	struct timeval tv;
	json_t *root;
	const char *tok;
	json_int_t exp;

	c->token_job = NULL;
	if (!ok) {
		pd_ms_to_tv(c->pd->cfg.retry_base_ms, &tv);
		evtimer_add(c->token_retry, &tv);
		pd_job_free(j);
		return;
	}
	root = json_loads(j->resp, 0, NULL);
	tok = json_string_value(json_object_get(root, "access_token"));
	exp = json_integer_value(json_object_get(root, "expires_in"));
	if (j->status == 200 && tok && exp > 0) {
		free(c->access_token);
		c->access_token = strdup(tok);
		snprintf(c->auth, sizeof(c->auth), "Bearer %s", tok);
		c->token_gen++;
		/* Refresh well before expiry: 5 min early, or halfway for short lives. */
		c->access_refresh_ms = sw_mono_ms() + (uint64_t)(exp > 600 ? exp - 300
								 : exp / 2 ? exp / 2
									   : 1) *
							      1000;
		PD_STAT_ADD(c->pd, PD_FCM, token_renewals, 1);
		json_decref(root);
		pd_job_free(j);
		pd_cred_kick(c);
		return;
	}
	json_decref(root);
	if (j->status >= 500 || j->status == 429) {
		pd_job_free(j);
		pd_ms_to_tv(c->pd->cfg.retry_base_ms, &tv);
		evtimer_add(c->token_retry, &tv);
		return;
	}
	PD_LOG(ERR, "%s: token endpoint answered %d %s", c->name, j->status, j->resp);
	/* The alarm goes up now, not at the first push that fails. */
	pthread_mutex_lock(&c->pd->alarm_lock);
	snprintf(c->pd->st[PD_FCM].alarm, sizeof(c->pd->st[PD_FCM].alarm),
		 "%.24s: token endpoint refused the service account (HTTP %d)", c->name, j->status);
	c->pd->st[PD_FCM].alarm_ms = (int64_t)time(NULL) * 1000;
	pthread_mutex_unlock(&c->pd->alarm_lock);
	fail_waiting(c, PD_CONFIG_ERROR, "token endpoint refused the service account", j->status);
	pd_job_free(j);
	pd_ms_to_tv(c->pd->cfg.retry_max_ms, &tv);
	evtimer_add(c->token_retry, &tv);
}

/* @key followed by nothing or, for APNs, ".voip" (RFC 8599 pn-param). */
static bool key_matches(const struct pd_cred *c, const char *key, const char *param)
{
	size_t n = strlen(key);

	if (strncmp(param, key, n) != 0)
		return false;
	return param[n] == '\0' || (c->provider == PD_APNS && !strcmp(param + n, ".voip"));
}

/* APNs: "<team id>.<bundle id>" as RFC 8599 has it, or the bundle id alone
 * (apps that leave the team out, X-Push headers): the first credential for
 * that bundle then. FCM: the project id, or the Android package name
 * (PortSIP's app-id) when the credential names one. */
static bool param_matches(const struct pd_cred *c, const char *param)
{
	return key_matches(c, c->param, param) ||
	       (c->provider == PD_APNS && key_matches(c, c->apns->bundle_id, param)) ||
	       (c->provider == PD_FCM && c->fcm->package[0] && !strcmp(c->fcm->package, param));
}

/* The credential in force for @req: exact "<team>.<bundle>" first, so a
 * bundle-only match never shadows it. */
struct pd_cred *pd_cred_pick(const struct pd *pd, const struct pd_request *req)
{
	/* Web Push: the first credential; its VAPID key signs for every service. */
	for (unsigned i = 0; req->provider == PD_WEBPUSH && i < pd->n_creds; i++)
		if (pd->creds[i]->provider == PD_WEBPUSH)
			return pd->creds[i];
	for (unsigned i = 0; i < pd->n_creds; i++)
		if (pd->creds[i]->provider == req->provider &&
		    key_matches(pd->creds[i], pd->creds[i]->param, req->param))
			return pd->creds[i];
	for (unsigned i = 0; i < pd->n_creds; i++)
		if (pd->creds[i]->provider == req->provider &&
		    param_matches(pd->creds[i], req->param))
			return pd->creds[i];
	return NULL;
}

bool pd_job_rehome(struct pd_job *j)
{
	struct pd_cred *c = pd_cred_pick(j->pd, &j->req);

	if (!c) {
		j->pd->up.finish(j, PD_NO_CREDENTIAL, "its credential was removed by a reload", 0);
		return false;
	}
	pd_job_set_cred(j, c);
	return true;
}

void pd_cred_open(struct pd_cred *c)
{
	struct pd *pd = c->pd;

	c->opened = true;
	c->token_retry = evtimer_new(pd->base, token_retry_cb, c);
	if (c->wp) {
		PD_LOG(INFO, "%s: VAPID key %s (sub %s), up to %u push-service origins", c->name,
		       c->wp->vapid_key, c->wp->subject, c->wp->max_origins);
		pd_origins_open(c); /* connections per origin, on first use */
		return;
	}
	if (c->apns)
		PD_LOG(INFO, "%s: %s auth for pn-param %s, %s:%u", c->name,
		       c->apns->key_file[0] ? "token" : "certificate", c->param, c->apns->host,
		       c->apns->port);
	else
		PD_LOG(INFO, "%s: project %s as %s, %s:%u, tokens from %s:%u%s", c->name,
		       c->fcm->project, c->client_email, c->fcm->host, c->fcm->port, c->token_host,
		       c->token_port, c->token_path);
	c->conns[0] = pd_conn_new(c, false);
	c->n_conns = 1;
	if (c->provider == PD_FCM) {
		c->tconn = pd_conn_new(c, true);
		pd_cred_fetch_token(c);
	}
}

void pd_cred_close(struct pd_cred *c)
{
	struct pd_job *j;

	if (!c->opened)
		return;
	c->opened = false;
	while ((j = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, j, link);
		pd_job_free(j);
	}
	while (!LIST_EMPTY(&c->draining))
		pd_conn_free(LIST_FIRST(&c->draining));
	pd_origins_close(c);
	for (unsigned k = 0; k < c->n_conns; k++)
		pd_conn_free(c->conns[k]);
	c->n_conns = 0;
	pd_conn_free(c->tconn);
	c->tconn = NULL;
	if (c->token_job) {
		pd_job_free(c->token_job);
		c->token_job = NULL;
	}
	if (c->token_retry)
		event_free(c->token_retry);
	c->token_retry = NULL;
}

void pd_cred_retire(struct pd_cred *c)
{
	struct pd_job *j;

	c->retired = true;
	LIST_INSERT_HEAD(&c->pd->retired, c, retired_link);
	if (c->token_retry)
		evtimer_del(c->token_retry);
	if (c->token_job && !c->token_job->conn) {
		pd_job_free(c->token_job); /* not sent yet: nobody needs it now */
		c->token_job = NULL;
	}
	/* Waiting pushes go to the credential now in force for them. */
	while ((j = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, j, link);
		j->on_list = false;
		if (pd_job_rehome(j))
			j->pd->up.dispatch(j, false);
	}
	if (c->refs == 0)
		event_active(c->pd->retire_ev, EV_TIMEOUT, 0);
}
