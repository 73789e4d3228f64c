/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the control plane's messages to apps go: a datagram out of a DPDK
 * port (cp_tx.c), or down the app's connection through the streams thread
 * (streams/st.h, docs/streams.md). One choice, made from the destination
 * alone, so that every sender (answers to REGISTERs, the wake path, the
 * stream relay) reaches a device the same way.
 */
#include <errno.h>

#include "controlplane/cp_internal.h"
#include "streams/st.h"

int cp_dest_send(struct cp_ctx *cp, const struct cp_dest *to, const void *payload, uint16_t len)
{
	int rc;

	if (!sw_tp_is_stream(to->tp))
		return cp_udp_send_as(cp, &to->ip, to->port, payload, len, to->stranger);
	if (cp->st == NULL || to->conn == 0) {
		/* Closed: the device is asleep already (cp_stream.c); a late
		 * answer to an app that went away has nowhere to go. */
		cp_count_drop(cp, CP_D_STREAM_NO_CONN, 1);
		return -ENOTCONN;
	}
	rc = st_send(cp->st, to->conn, payload, len);
	if (rc == -ENOBUFS)
		cp_count_drop(cp, CP_D_STREAM_RING_FULL, 1);
	else if (rc == 0)
		cp_count(cp, CP_C_STREAM_MSGS_OUT, 1);
	return rc;
}

uint16_t cp_tp_port(const struct cp_ctx *cp, uint8_t tp)
{
	const struct st_config *sc = &cp->cfg.streams;

	for (unsigned i = 0; tp != SW_TP_UDP && i < sc->n_listeners; i++)
		if (sc->listeners[i].tp == tp)
			return sc->listeners[i].port;
	return cp->dp->ports.sip_port;
}
