/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * SIP transports (RFC 3261 §18, RFC 7118): what a device registered over,
 * what a Via's sent-protocol and a URI's transport= name. UDP is the
 * workers'; the others are the streams thread's (docs/streams.md).
 */
#ifndef SW_TP_H
#define SW_TP_H

#include <stdint.h>

enum sw_tp { SW_TP_UDP = 0, SW_TP_TCP, SW_TP_TLS, SW_TP_WS, SW_TP_WSS, SW_TP_N };

/** Via sent-protocol's transport ("UDP", "TCP", "TLS", "WS", "WSS"). */
static inline const char *sw_tp_via(uint8_t tp)
{
	static const char *const n[SW_TP_N] = {"UDP", "TCP", "TLS", "WS", "WSS"};
	return tp < SW_TP_N ? n[tp] : "UDP";
}

/** Lower-case name, as in a URI's transport= and in telemetry ("udp", "tls"). */
static inline const char *sw_tp_name(uint8_t tp)
{
	static const char *const n[SW_TP_N] = {"udp", "tcp", "tls", "ws", "wss"};
	return tp < SW_TP_N ? n[tp] : "udp";
}

/** Does @p tp run over a connection (every transport but UDP)? */
static inline int sw_tp_is_stream(uint8_t tp)
{
	return tp != SW_TP_UDP && tp < SW_TP_N;
}

#endif /* SW_TP_H */
