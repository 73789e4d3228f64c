/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path's ports (docs/streams.md, "Where the bytes go"): when
 * streams.ports is not empty, one net_tap port per sipwake interface
 * (sw-tap<N> in sipwake's network namespace), one RX and one TX queue that
 * only the control plane polls, its kernel side set up by dp_tap_nl.c; and
 * the MP/SC ring on which workers put the TCP segments for it. Made after
 * the DPDK ports, whose MTU the taps take; removed again at stop.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "common/sw_log.h"
#include "dataplane/dp_internal.h"

#define TAP_DESC 512

static void tap_names(unsigned ifx, char *vdev, size_t vlen, char *ifname, size_t ilen)
{
	snprintf(vdev, vlen, "net_tap_sw%u", ifx);
	snprintf(ifname, ilen, "sw-tap%u", ifx);
}

static int tap_one(struct dp_ctx *ctx, unsigned ifx)
{
	const struct sw_iface *ifc = &ctx->p.ports.ifaces[ifx];
	struct rte_ether_addr mac = DP_TAP_KERNEL_MAC(ifx);
	struct rte_eth_conf conf = {0};
	char vdev[32], ifname[16], args[96], err[256];
	uint16_t port, rxd = TAP_DESC, txd = TAP_DESC;
	int rc;

	tap_names(ifx, vdev, sizeof(vdev), ifname, sizeof(ifname));
	snprintf(args, sizeof(args), "iface=%s,mac=" RTE_ETHER_ADDR_PRT_FMT, ifname,
		 RTE_ETHER_ADDR_BYTES(&mac));
	rc = rte_vdev_init(vdev, args);
	if (rc != 0) {
		DP_LOG(ERR,
		       "streams.ports: cannot create %s (%s): %s (is the net_tap driver built, "
		       "/dev/net/tun there, CAP_NET_ADMIN given?)",
		       ifname, vdev, rte_strerror(-rc));
		return rc;
	}
	ctx->tap_made[ifx] = true;
	rc = rte_eth_dev_get_port_by_name(vdev, &port);
	if (rc != 0) {
		DP_LOG(ERR, "streams.ports: %s made but not found: %s", vdev, rte_strerror(-rc));
		return rc;
	}
	ctx->tap_port[ifx] = port;
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, rxd, (unsigned)rte_socket_id(), NULL,
					    ctx->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, txd, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		DP_LOG(ERR, "streams.ports: %s: port set-up failed: %s", ifname, rte_strerror(-rc));
		return rc;
	}
	ctx->tap_started[ifx] = true;
	rc = dp_tap_kernel_setup(ifname, ifx, ifc, err, sizeof(err));
	if (rc != 0) {
		DP_LOG(ERR, "streams.ports: %s: kernel side: %s", ifname, err);
		return rc;
	}
	DP_LOG(INFO, "%s: exception path of interface %u up (port %u, MTU %u)", ifname, ifx, port,
	       ifc->mtu);
	return 0;
}

int dp_tap_init(struct dp_ctx *ctx, uint32_t ring_size)
{
	int rc;

	if (ctx->p.n_stream_ports == 0)
		return 0;
	/* MP: every worker enqueues; SC: the control plane alone takes. */
	ctx->to_kernel =
		rte_ring_create("sw_to_kernel", ring_size, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (ctx->to_kernel == NULL) {
		DP_LOG(ERR, "cannot create the to-kernel ring of %u: %s", ring_size,
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ctx->p.ports.n_ifaces; i++) {
		rc = tap_one(ctx, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void dp_tap_fini(struct dp_ctx *ctx)
{
	char vdev[32], ifname[16];
	void *m;

	for (unsigned i = 0; i < SW_MAX_IFACES; i++) {
		if (ctx->tap_started[i]) {
			rte_eth_dev_stop(ctx->tap_port[i]);
			rte_eth_dev_close(ctx->tap_port[i]);
			ctx->tap_started[i] = false;
		}
		if (ctx->tap_made[i]) {
			tap_names(i, vdev, sizeof(vdev), ifname, sizeof(ifname));
			rte_vdev_uninit(vdev);
			ctx->tap_made[i] = false;
		}
	}
	if (ctx->to_kernel != NULL) {
		while (rte_ring_dequeue(ctx->to_kernel, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(ctx->to_kernel);
		ctx->to_kernel = NULL;
	}
}
