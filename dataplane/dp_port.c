/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK ports and what the workers share: the mbuf pool, each port set
 * up with one RX and one TX queue per worker (RSS over the IP pair when
 * there are several), its MAC, IPv6 link-local address and solicited-node
 * multicast groups, the up / down / trace rings, the exception path's taps
 * (dp_tap.c); and their teardown, which frees what is left in the rings.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "common/sw_log.h"
#include "dataplane/dp_internal.h"

/* Per-core mbuf cache; 256 keeps pool-lock contention away (DPDK guide §mempool). */
#define DP_POOL_CACHE 256

/*
 * net_af_packet (DPDK 22.11, drivers/net/af_packet/rte_eth_af_packet.c)
 * copies each frame of its TPACKET_V2 ring into one mbuf. A ring frame is
 * framesz bytes (devarg, default 2048) and the kernel writes the packet at
 * offset 66 in it (TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - 14, net/packet/
 * af_packet.c tpacket_rcv), cutting what does not fit: framesz 2048 takes
 * Ethernet frames of 1982 bytes whole. The PMD's queue setup also refuses
 * mbufs with less data room than framesz - 32.
 *
 * The PMD joins its sockets to a fanout group with PACKET_FANOUT_FLAG_DEFRAG
 * (always, to spread queues by flow), so the kernel reassembles IPv4
 * fragments (ip_check_defrag) before the ring: a fragmented IPv4 datagram
 * reaches us as one frame as long as the datagram, and dp_frag.c sees only
 * IPv6 fragments on this port. With the default framesz a 4 KB INVITE in
 * fragments was cut to 1982 bytes and dropped as ip_malformed.
 *
 * Decision: sipwake takes datagrams up to 16 KiB (DP_DGRAM_MAX, what
 * dp_frag.c reassembles itself on other ports; larger SIP belongs on TCP,
 * RFC 3261 §18.1.1). A port whose frames cannot hold that, or its
 * interface's MTU, gets a start-up warning naming the framesz / blocksz to
 * give (20480 for 16 KiB: 16384 + 14 + 66, in 4 KiB pages); 64 KiB frames
 * would need 64 KiB mbufs, over the 16-bit data room and a pool of
 * dataplane.mbufs x 64 KiB. sipwake sizes its mbufs to the framesz it is
 * given, and counts a frame the port cut as rx_truncated, not ip_malformed
 * (dp_net.c). It does not rewrite the vdev string (the operator's; the
 * labs' scripts/swlab.py sets framesz; docs/operations.md).
 */
#define DP_DGRAM_MAX	    16384
#define AFP_DEFAULT_FRAMESZ 2048
#define AFP_FRAME_OFFSET    66
#define AFP_MBUF_SLACK	    32

/* The framesz of an net_af_packet port; 0 for other devices. */
static unsigned afp_framesz(uint16_t port, struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da;
	const char *a;

	if (rte_eth_dev_info_get(port, info) != 0 || info->driver_name == NULL ||
	    strcmp(info->driver_name, "net_af_packet") != 0)
		return 0;
	da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	a = da != NULL && da->args != NULL ? strstr(da->args, "framesz=") : NULL;
	return a != NULL ? (unsigned)strtoul(a + strlen("framesz="), NULL, 0) : AFP_DEFAULT_FRAMESZ;
}

/* Data room of the RX mbufs: the default, or what each port's frames need. */
static uint16_t rx_data_room(const struct dp_ctx *ctx)
{
	unsigned room = RTE_MBUF_DEFAULT_DATAROOM;

	for (unsigned i = 0; i < ctx->p.ports.n_ifaces; i++) {
		struct rte_eth_dev_info info;
		unsigned f = afp_framesz(ctx->p.ports.ifaces[i].port_id, &info);

		if (f > AFP_MBUF_SLACK)
			room = RTE_MAX(room, f - AFP_MBUF_SLACK);
	}
	return (uint16_t)RTE_MIN(room, (unsigned)UINT16_MAX - RTE_PKTMBUF_HEADROOM);
}

/* The kernel's MTU of interface @p if_index; 0 if unknown. */
static unsigned kernel_mtu(uint32_t if_index)
{
	struct ifreq ifr = {0};
	int fd, rc;

	if (if_index == 0 || if_indextoname(if_index, ifr.ifr_name) == NULL)
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 0;
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	return rc == 0 && ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
}

/* Records the longest frame port @p ifx delivers whole (dp_net.c tells cut
 * frames by it) and warns when its interface's MTU takes longer ones. */
static void check_frames(struct dp_ctx *ctx, unsigned ifx, const char *dev)
{
	struct rte_eth_dev_info info;
	unsigned f = afp_framesz(ctx->p.ports.ifaces[ifx].port_id, &info), mtu, need;

	ctx->rx_cap[ifx] = 0;
	if (f <= AFP_FRAME_OFFSET)
		return;
	ctx->rx_cap[ifx] = (uint16_t)RTE_MIN(f - AFP_FRAME_OFFSET, (unsigned)UINT16_MAX);
	mtu = kernel_mtu(info.if_index);
	need = RTE_MAX(mtu, (unsigned)DP_DGRAM_MAX) + RTE_ETHER_HDR_LEN;
	if (need <= ctx->rx_cap[ifx])
		return;
	DP_LOG(WARNING,
	       "%s: the kernel hands it IPv4 datagrams reassembled (and frames of MTU %u) up to "
	       "%u bytes, but framesz=%u holds %u: longer ones are cut and dropped "
	       "(drop_rx_truncated). Give the vdev framesz=%u,blocksz=%u (docs/operations.md)",
	       dev, mtu, need, f, ctx->rx_cap[ifx], RTE_ALIGN_CEIL(need + AFP_FRAME_OFFSET, 4096),
	       RTE_ALIGN_CEIL(need + AFP_FRAME_OFFSET, 4096));
}

static void eui64_ll(const struct rte_ether_addr *mac, struct sw_ip *ll)
{
	const uint8_t *b = mac->addr_bytes;

	/* RFC 4291 §2.5.1 / Appendix A: modified EUI-64, U/L bit inverted. */
	memset(ll, 0, sizeof(*ll));
	ll->a[0] = 0xfe;
	ll->a[1] = 0x80;
	ll->a[8] = b[0] ^ 0x02;
	ll->a[9] = b[1];
	ll->a[10] = b[2];
	ll->a[11] = 0xff;
	ll->a[12] = 0xfe;
	ll->a[13] = b[3];
	ll->a[14] = b[4];
	ll->a[15] = b[5];
}

static void join_multicast(struct sw_iface *ifc, const char *dev)
{
	struct rte_ether_addr mc[3];
	uint32_t n = 0;
	int rc;

	if (!ifc->has_v6)
		return;
	mc[n++] = sw_ip_mcast_mac(&ifc->snm6[0]);
	if (memcmp(&ifc->snm6[0], &ifc->snm6[1], sizeof(ifc->snm6[0])) != 0)
		mc[n++] = sw_ip_mcast_mac(&ifc->snm6[1]);
	rc = rte_eth_dev_set_mc_addr_list(ifc->port_id, mc, n);
	if (rc == 0)
		return;
	/* Devices without a multicast filter table (most virtual ones)
	 * receive all multicast instead; ND still works. */
	rc = rte_eth_allmulticast_enable(ifc->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		DP_LOG(WARNING, "%s: cannot receive IPv6 ND multicast: %s", dev, rte_strerror(-rc));
}

static int port_init(struct dp_ctx *ctx, struct sw_iface *ifc, uint16_t rx_desc, uint16_t tx_desc)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char dev[RTE_ETH_NAME_MAX_LEN] = "?";
	uint16_t port = ifc->port_id, nq = (uint16_t)ctx->n_workers;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	rte_eth_dev_get_name_by_port(port, dev);
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		DP_LOG(ERR, "%s: cannot read device info: %s", dev, rte_strerror(-rc));
		return rc;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		DP_LOG(ERR,
		       "%s: %u workers need %u RX and TX queues, the device has %u RX / %u TX "
		       "(give fewer worker lcores with -l, or more queues: e.g. qpairs= for "
		       "net_af_packet)",
		       dev, nq, nq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	if (nq > 1) {
		/* RSS on the IP pair only: fragments of one datagram carry no
		 * ports, so hashing on L4 would split them over workers
		 * (docs/design.md §7). */
		uint64_t hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;

		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			DP_LOG(NOTICE, "%s: no RSS; the device spreads packets over queues itself",
			       dev);
		}
	}
	/* The forward stage leaves a one-frame datagram's IPv4 and UDP checksums
	 * to the NIC where it offers that (dp_fwd_msg.c); net_af_packet does
	 * not, and every checksum is then summed in software. */
	conf.txmode.offloads = info.tx_offload_capa &
			       (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc != 0) {
		DP_LOG(ERR, "%s: configure with %u queues failed: %s", dev, nq, rte_strerror(-rc));
		return rc;
	}
	ifc->tx_offload = conf.txmode.offloads;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
	if (rc != 0)
		return rc;
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rx_desc, (unsigned)socket, NULL, ctx->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, tx_desc, (unsigned)socket, NULL);
		if (rc != 0) {
			DP_LOG(ERR, "%s: queue %u setup failed: %s", dev, q, rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		DP_LOG(ERR, "%s: start failed: %s", dev, rte_strerror(-rc));
		return rc;
	}
	rte_eth_macaddr_get(port, &ifc->mac);
	if (rte_eth_dev_get_mtu(port, &ifc->mtu) != 0 || ifc->mtu < 1280)
		ifc->mtu = RTE_ETHER_MTU;
	eui64_ll(&ifc->mac, &ifc->ll6);
	ifc->snm6[0] = sw_ip_solicited_node(&ifc->ip6);
	ifc->snm6[1] = sw_ip_solicited_node(&ifc->ll6);
	join_multicast(ifc, dev);
	check_frames(ctx, (unsigned)(ifc - ctx->p.ports.ifaces), dev);
	ifc->started = true;
	DP_LOG(INFO,
	       "%s: port %u up, MAC " RTE_ETHER_ADDR_PRT_FMT ", %u queue(s), MTU %u, "
	       "TX checksums %s",
	       dev, port, RTE_ETHER_ADDR_BYTES(&ifc->mac), nq, ifc->mtu,
	       ifc->tx_offload & RTE_ETH_TX_OFFLOAD_UDP_CKSUM ? "by the NIC" : "in software");
	return 0;
}

int dp_init(struct dp_ctx *ctx, uint32_t n_mbufs, uint16_t rx_desc, uint16_t tx_desc,
	    uint32_t ring_size)
{
	char name[RTE_RING_NAMESIZE];
	int rc;

	ctx->pool = rte_pktmbuf_pool_create(
		DP_POOL_NAME, n_mbufs, DP_POOL_CACHE,
		(uint16_t)RTE_ALIGN(sizeof(struct dp_meta), RTE_MBUF_PRIV_ALIGN),
		(uint16_t)(rx_data_room(ctx) + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	if (ctx->pool == NULL) {
		DP_LOG(ERR,
		       "cannot create a pool of %u mbufs: %s (raise -m or lower dataplane.mbufs)",
		       n_mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		struct dp_worker *w = &ctx->workers[i];

		w->ctx = ctx;
		w->id = i;
		w->tsc_hz = rte_get_tsc_hz();
		snprintf(name, sizeof(name), "sw_up_%u", i);
		w->up = rte_ring_create(name, ring_size, (int)rte_socket_id(),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sw_down_%u", i);
		w->down = rte_ring_create(name, ring_size, (int)rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sw_trace_%u", i);
		w->trace =
			rte_ring_create_elem(name, sizeof(struct dp_trace_ev), DP_TRACE_RING,
					     (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		w->admit = dp_admit_create(RTE_MAX(ctx->rate_sources / ctx->n_workers, 64u),
					   RTE_MAX(ctx->rate_keys, 64u), ctx->n_workers,
					   (int)rte_socket_id());
		if (w->up == NULL || w->down == NULL || w->trace == NULL || w->admit == NULL) {
			DP_LOG(ERR, "cannot create rings of %u for worker %u: %s", ring_size, i,
			       rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	rc = dp_frag_init(ctx);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < ctx->p.ports.n_ifaces; i++) {
		rc = port_init(ctx, &ctx->p.ports.ifaces[i], rx_desc, tx_desc);
		if (rc != 0)
			return rc;
	}
	/* After the ports: each tap takes its port's MTU. */
	return dp_tap_init(ctx, ring_size);
}

static void ring_drain_free(struct rte_ring *r)
{
	void *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void dp_fini(struct dp_ctx *ctx)
{
	dp_tap_fini(ctx);
	for (unsigned i = 0; i < ctx->p.ports.n_ifaces; i++) {
		struct sw_iface *ifc = &ctx->p.ports.ifaces[i];

		if (!ifc->started)
			continue;
		rte_eth_dev_stop(ifc->port_id);
		rte_eth_dev_close(ifc->port_id);
		ifc->started = false;
	}
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		ring_drain_free(ctx->workers[i].up);
		ring_drain_free(ctx->workers[i].down);
		rte_ring_free(ctx->workers[i].trace);
		ctx->workers[i].up = ctx->workers[i].down = NULL;
		dp_admit_free(ctx->workers[i].admit);
		ctx->workers[i].admit = NULL;
	}
	dp_frag_fini(ctx);
	rte_mempool_free(ctx->pool);
	ctx->pool = NULL;
}
