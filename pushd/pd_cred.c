/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credential sets: loading every credential of a config (pd_new(),
 * pd_reload()), their fingerprints, and applying a reload on the pushd
 * thread. An unchanged credential is kept with its connections, a new one
 * connects, a replaced one is retired: it takes no new push and is freed
 * with its last job (issue 7 §6: reload without losing what is in flight).
 */
#include <errno.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	} else {
		const struct pd_fcm_cfg *f = c->fcm;

		fp_str(m, f->project);
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
	snprintf(c->name, sizeof(c->name), "%s.[%u]", c->provider == PD_APNS ? "apns" : "fcm",
		 index);
}

struct pd_cred **pd_creds_load(struct pd *pd, const struct pd_config *cfg, unsigned *n, char *err,
			       size_t errlen)
{
	unsigned total = cfg->n_apns + cfg->n_fcm;
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
		if (i < cfg->n_apns) {
			c->provider = PD_APNS;
			c->apns_cfg = cfg->apns[i];
			c->apns = &c->apns_cfg;
			name_cred(c, i);
			snprintf(c->param, sizeof(c->param), "%s.%s", c->apns->team_id,
				 c->apns->bundle_id);
		} else {
			c->provider = PD_FCM;
			c->fcm_cfg = cfg->fcm[i - cfg->n_apns];
			c->fcm = &c->fcm_cfg;
			name_cred(c, i - cfg->n_apns);
			snprintf(c->param, sizeof(c->param), "%s", c->fcm->project);
		}
		if (pd_cred_load(c, err, errlen) != 0)
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
