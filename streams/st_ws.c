/* SPDX-License-Identifier: BSD-3-Clause */
/* WebSocket: not built yet (docs/streams.md, Status); st_new() refuses WS / WSS listeners. */
#include <errno.h>

#include "streams/st_internal.h"

int st_ws_new(struct st_conn *c)
{
	(void)c;
	return -ENOTSUP;
}

void st_ws_free(struct st_conn *c)
{
	(void)c;
}

int st_ws_read(struct st_conn *c)
{
	(void)c;
	return 0;
}

int st_ws_send(struct st_conn *c, const uint8_t *data, size_t len)
{
	(void)c;
	(void)data;
	(void)len;
	return -ENOTSUP;
}

size_t st_ws_mem(const struct st_conn *c)
{
	(void)c;
	return 0;
}
