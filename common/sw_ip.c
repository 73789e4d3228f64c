/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP addresses as text (common/sw_ip.h): both ways, for URIs, Vias and logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/sw_ip.h"

const char *sw_ip_str(const struct sw_ip *ip, char *buf, unsigned len)
{
	if (sw_ip_is_v4(ip))
		inet_ntop(AF_INET, &ip->a[12], buf, len);
	else
		inet_ntop(AF_INET6, ip->a, buf, len);
	return buf;
}

const char *sw_ip_port_str(const struct sw_ip *ip, uint16_t port, char *buf, unsigned len)
{
	char a[48];

	sw_ip_str(ip, a, sizeof(a));
	snprintf(buf, len, sw_ip_is_v4(ip) ? "%s:%u" : "[%s]:%u", a, port);
	return buf;
}

/* Dotted-decimal IPv4 filling [p, p + n) exactly; no inet_pton() on the
 * workers' path (it wants a NUL-terminated copy). */
static bool parse_v4(const char *p, size_t n, uint32_t *be)
{
	uint32_t v = 0, octet = 0, digits = 0, dots = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			octet = octet * 10 + (uint32_t)(p[i] - '0');
			if (++digits > 3 || octet > 255)
				return false;
		} else if (p[i] == '.' && digits != 0 && dots < 3) {
			v = v << 8 | octet;
			octet = digits = 0;
			dots++;
		} else {
			return false;
		}
	}
	if (dots != 3 || digits == 0)
		return false;
	*be = htonl(v << 8 | octet);
	return true;
}

int sw_ip_parse(const char *text, size_t len, struct sw_ip *ip)
{
	char buf[48];
	uint32_t v4;

	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (parse_v4(text, len, &v4)) {
		*ip = sw_ip_from_v4(v4);
		return 0;
	}
	if (len == 0 || len >= sizeof(buf) || memchr(text, ':', len) == NULL)
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, ip->a) == 1 ? 0 : -EINVAL;
}
