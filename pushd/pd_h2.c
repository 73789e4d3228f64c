/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/2 session of a connection (pd_conn.c makes the connection):
 * nghttp2's client session as in nghttp2's examples/libevent-client.c,
 * one stream per job, the answer's status, headers and body gathered into
 * the job, and the job handed up (pd->up.answered, failed) when its stream
 * closes.
 *
 * Frames are not written from inside nghttp2 callbacks (nghttp2 forbids
 * re-entering nghttp2_session_send()): submitting a stream activates the
 * connection's flush event, which runs once per loop iteration and so
 * coalesces every stream submitted meanwhile into one write.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <string.h>

#include "common/sw_log.h"
#include "pushd/pd_internal.h"

static void schedule_flush(struct pd_conn *cn)
{
	event_active(cn->flush_ev, EV_WRITE, 0);
}

static ssize_t send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct pd_conn *cn = ud;

	(void)ng;
	(void)flags;
	if (bufferevent_write(cn->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
		     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	struct pd_job *j = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);

	(void)flags;
	(void)ud;
	if (!j || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	pd_answer_header(j, name, nl, v, vl);
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct pd_job *j = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)ud;
	if (!j)
		return 0;
	pd_answer_data(j, data, len);
	return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct pd_conn *cn = ud;
	struct pd_job *j;

	cn->last_rx_ms = sw_mono_ms();
	switch (f->hd.type) {
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
			break;
		j = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
		if (j)
			j->end_stream = true;
		break;
	case NGHTTP2_PING:
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			cn->ping_outstanding = false;
		break;
	case NGHTTP2_SETTINGS:
		cn->max_streams = nghttp2_session_get_remote_settings(
			ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
		cn->cred->pd->up.kick(cn->cred);
		break;
	case NGHTTP2_GOAWAY:
		/* Streams above last-stream-id are closed by nghttp2 with
		 * REFUSED_STREAM after this returns: pd->up.failed() retries them
		 * on the fresh connection drain() has put in this one's place. */
		PD_LOG(INFO, "%s: GOAWAY (last stream %d, error %u)", cn->cred->name,
		       f->goaway.last_stream_id, f->goaway.error_code);
		cn->cred->pd->up.drain(cn);
		break;
	default:
		break;
	}
	return 0;
}

/* A request is written when its last frame (END_STREAM) has gone to TLS:
 * the first time is what pd_result.written_us reports (bench/bench_wake.c). */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct pd_job *j;

	(void)ud;
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	j = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (j && j->written_us == 0)
		j->written_us = sw_mono_us();
	return 0;
}

/* @j leaves @cn: its stream closed, was cancelled, or the connection went. */
void pd_h2_detach(struct pd_conn *cn, struct pd_job *j)
{
	TAILQ_REMOVE(&cn->streams, j, link);
	j->on_list = false;
	j->conn = NULL;
	cn->n_streams--;
}

/*
 * Apple, "Establishing a token-based connection to APNs": on a new
 * connection with token-based auth, send one request until one succeeds,
 * then up to the server's SETTINGS_MAX_CONCURRENT_STREAMS. An answer about
 * the device or the payload (400 BadDeviceToken, 410 Unregistered, 413) is
 * only given once the provider token passed, so it proves it as well as a
 * 200. 403 (the token refused or expired), 429 (TooManyProviderTokenUpdates
 * among others), 404/405 (the request's path or method, which a server may
 * check first) and 5xx prove nothing: the connection stays at one stream.
 */
static bool token_accepted(int status)
{
	return status == 200 || status == 400 || status == 410 || status == 413;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t err, void *ud)
{
	struct pd_conn *cn = ud;
	struct pd_job *j = nghttp2_session_get_stream_user_data(ng, id);

	if (!j) {
		/* A stream we reset (pd_conn_cancel(), its job gone): the slot
		 * it held is free now. Jobs may be waiting for it, more so on a
		 * connection held to one stream whose only request timed out. */
		if (cn->state == PD_CONN_UP)
			cn->cred->pd->up.kick(cn->cred);
		return 0;
	}
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	pd_h2_detach(cn, j);
	if (cn->probing && j->end_stream && token_accepted(j->status)) {
		cn->probing = false;
		PD_LOG(DEBUG, "%s: provider token accepted (HTTP %d): up to %u streams",
		       cn->cred->name, j->status, cn->max_streams);
	}
	if (j->end_stream && j->status)
		j->pd->up.answered(j);
	else
		j->pd->up.failed(j,
				 err == NGHTTP2_REFUSED_STREAM ? "refused stream" : "stream reset",
				 err == NGHTTP2_REFUSED_STREAM);
	if (cn->state == PD_CONN_DRAINING)
		schedule_flush(cn); /* reaps it once empty */
	else
		cn->cred->pd->up.kick(cn->cred); /* a stream is free */
	return 0;
}

static ssize_t body_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct pd_job *j = src->ptr;
	size_t n = j->body_len - j->body_off;

	(void)ng;
	(void)id;
	(void)ud;
	if (n > len)
		n = len;
	memcpy(buf, j->body + j->body_off, n);
	j->body_off += n;
	if (j->body_off == j->body_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* TLS is up: the client session, our SETTINGS queued. */
void pd_h2_open(struct pd_conn *cn)
{
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
				       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};

	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_client_new(&cn->ng, cb, cn);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(cn->ng, NGHTTP2_FLAG_NONE, iv, 2);
	/* Until the server's SETTINGS arrive, assume the RFC 9113 minimum
	 * recommendation rather than unlimited. */
	cn->max_streams = 100;
	/* Each new session with a provider token starts at one stream. */
	cn->probing = !cn->token_endpoint && cn->cred->apns && cn->cred->apns->key_file[0];
}

/* Feeds nghttp2 chunk by chunk: evbuffer_pullup() would copy everything
 * buffered into one block on every read. */
const char *pd_h2_recv(struct pd_conn *cn, struct evbuffer *in)
{
	struct evbuffer_iovec v[16];
	int nv;

	while ((nv = evbuffer_peek(in, -1, NULL, v, 16)) > 0) {
		size_t used = 0;

		for (int i = 0; i < nv && i < 16; i++) {
			ssize_t n = nghttp2_session_mem_recv(cn->ng, v[i].iov_base, v[i].iov_len);

			if (n < 0)
				return nghttp2_strerror((int)n);
			used += (size_t)n;
		}
		evbuffer_drain(in, used);
		if (nv <= 16)
			break;
	}
	return NULL;
}

/* NULL, or why the connection must go. */
const char *pd_h2_send(struct pd_conn *cn)
{
	if (!cn->ng)
		return NULL;
	if (nghttp2_session_send(cn->ng) != 0)
		return "nghttp2 send failed";
	if (!nghttp2_session_want_read(cn->ng) && !nghttp2_session_want_write(cn->ng) &&
	    evbuffer_get_length(bufferevent_get_output(cn->bev)) == 0)
		return "session finished";
	return NULL;
}

bool pd_conn_can_send(const struct pd_conn *cn)
{
	return cn && cn->state == PD_CONN_UP && cn->n_streams < (cn->probing ? 1 : cn->max_streams);
}

bool pd_conn_probing(const struct pd_conn *cn)
{
	return cn && cn->state == PD_CONN_UP && cn->probing;
}

int pd_conn_submit(struct pd_conn *cn, struct pd_job *j)
{
	nghttp2_nv nva[16];
	char bufs[1024];
	size_t n = 0;
	nghttp2_data_provider prd = {.source.ptr = j, .read_callback = body_read_cb};
	int32_t id;
	int rc;

	rc = pd_build_request(j, nva, &n, bufs, sizeof(bufs));
	if (rc)
		return rc;
	j->body_off = 0;
	j->status = 0;
	j->retry_after_s = 0;
	j->resp_len = 0;
	j->resp[0] = '\0';
	j->hdrs_len = 0;
	j->hdrs[0] = '\0';
	j->end_stream = false;
	id = nghttp2_submit_request(cn->ng, NULL, nva, n, &prd, j);
	if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
		/* 2^30 client streams used up (about 6 h at 50k pushes/s): this
		 * connection drains and a fresh one takes over (RFC 9113 §5.1.1). */
		cn->cred->pd->up.drain(cn);
		return -EAGAIN;
	}
	if (id < 0)
		return -EIO;
	j->conn = cn;
	j->stream_id = id;
	j->on_list = true;
	TAILQ_INSERT_TAIL(&cn->streams, j, link);
	cn->n_streams++;
	schedule_flush(cn);
	return 0;
}

void pd_conn_cancel(struct pd_job *j)
{
	struct pd_conn *cn = j->conn;

	if (!cn)
		return;
	if (cn->ng) {
		nghttp2_session_set_stream_user_data(cn->ng, j->stream_id, NULL);
		nghttp2_submit_rst_stream(cn->ng, NGHTTP2_FLAG_NONE, j->stream_id, NGHTTP2_CANCEL);
		schedule_flush(cn);
	}
	pd_h2_detach(cn, j);
}
