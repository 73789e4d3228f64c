/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asking Redis Sentinel where the master is: one short connection to one
 * sentinel, SENTINEL get-master-addr-by-name, the answer kept in cl->host
 * and cl->port. Which sentinel, and when to ask the next, is cl_link.c's.
 * What a sentinel says is checked once connected (ROLE, cl_write.c): a
 * sentinel that has not seen a failover yet names the old master.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cl_internal.h"

static void on_master(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);
	struct cl *cl;
	long port;

	(void)priv;
	if (!c)
		return;
	cl = c->cl;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING && r->element[0]->len > 0 &&
	    r->element[0]->len < sizeof(cl->host)) {
		port = strtol(r->element[1]->str, NULL, 10);
		if (port > 0 && port < 65536) {
			snprintf(cl->host, sizeof(cl->host), "%s", r->element[0]->str);
			cl->port = (uint16_t)port;
			cl->s.answered = true;
			cl_conn_close(c);
			return;
		}
	}
	cl_conn_fail(c, "master \"%s\": %s", cl->cfg.master, cl_reply_what(r));
}

/* Ask sentinel cl->s.idx. @return 0 (asked), -1 (cannot connect: the
 * last error says why). */
int cl_sentinel_ask(struct cl *cl)
{
	struct cl_sentinel *s = &cl->s;
	const struct cl_addr *a = &cl->cfg.sentinels[s->idx];

	s->conn.cl = cl;
	s->conn.name = "sentinel";
	s->answered = false;
	if (cl_conn_open(&s->conn, a->host, a->port) < 0)
		return -1;
	CL_INC(cl, sentinel_lookups, 1);
	return cl_conn_cmd(&s->conn, on_master, NULL, 0, "SENTINEL", "get-master-addr-by-name",
			   cl->cfg.master, NULL);
}
