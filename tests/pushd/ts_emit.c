/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, event lines: what the server tells its driver on stdout
 * (PORT, each request it checked and how it answered, connections); the
 * lowest step, every other part of the server calls it.
 */
#include "tests/pushd/ts_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdarg.h>

void ts_emit(struct ts_server *srv, const char *fmt, ...)
{
	struct evbuffer *o = bufferevent_get_output(srv->out_bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
	evbuffer_add(o, "\n", 1);
}
