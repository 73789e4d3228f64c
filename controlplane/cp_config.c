/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: libconfig parses, this file validates. Every group is
 * walked member by member in file order against one table of known keys,
 * so the first error reported is the first one in the file, and a key the
 * table does not know is an error rather than something quietly ignored.
 */
#include "controlplane/cp_config.h"
#include "controlplane/cp_config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A sane config is a few KiB; the cap keeps a wrong path (a disk image,
 * /dev/zero) from being read into memory. */
#define MAX_FILE_SIZE (1u << 20)

#define EXPECT_DEVICE \
	"expected a DPDK device name string (e.g. \"net_af_packet0\" or \"0000:01:00.0\")"
#define EXPECT_IFACES                                                                             \
	"expected a list of 1..%d interface groups like ( { device = \"net_af_packet0\"; ipv4 = " \
	"\"198.18.0.1/24\"; } ), got "

/* Values come from the user and may hold "\n" escapes; the contract is one
 * line per error. */
static void one_line(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

__attribute__((format(printf, 3, 4))) static void put_err(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	one_line(err);
}

/* "<file>:<line>: <path>: " + message. Always returns -EINVAL. */
__attribute__((format(printf, 4, 5))) int cp_cfg_fail(const struct loader *ld,
						      const config_setting_t *s, const char *path,
						      const char *fmt, ...)
{
	const char *file = config_setting_source_file(s) ? config_setting_source_file(s) : ld->file;
	/* The root group has line 0; a key missing at top level is "line 1". */
	unsigned line = config_setting_source_line(s) ? config_setting_source_line(s) : 1;
	va_list ap;
	int n;

	if (!ld->err || !ld->errlen)
		return -EINVAL;
	n = snprintf(ld->err, ld->errlen, "%s:%u: %s: ", file, line, path);
	if (n >= 0 && (size_t)n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	one_line(ld->err);
	return -EINVAL;
}

const char *cp_cfg_type_name(const config_setting_t *s)
{
	static const char *const names[] = {
		[CONFIG_TYPE_INT] = "an integer",     [CONFIG_TYPE_INT64] = "an integer",
		[CONFIG_TYPE_FLOAT] = "a float",      [CONFIG_TYPE_STRING] = "a string",
		[CONFIG_TYPE_BOOL] = "a boolean",     [CONFIG_TYPE_GROUP] = "a group { }",
		[CONFIG_TYPE_ARRAY] = "an array [ ]", [CONFIG_TYPE_LIST] = "a list ( )",
	};
	unsigned t = (unsigned)config_setting_type(s);

	return t < ARRAY_LEN(names) && names[t] ? names[t] : "nothing";
}

/* What a message says was found: the quoted string plus @why, or the type. */
const char *cp_cfg_found(struct loader *ld, const config_setting_t *s, const char *why)
{
	const char *text = config_setting_get_string(s);

	if (!text)
		return cp_cfg_type_name(s);
	if (!*text)
		return "an empty string";
	snprintf(ld->found, sizeof(ld->found), "\"%.120s\"%s", text, why ? why : "");
	return ld->found;
}

/* ---- schema ---------------------------------------------------------- */

static key_parser parse_group, parse_interfaces, parse_int, parse_names, parse_log_level,
	parse_device, parse_address, defer_gateway, parse_push;

/* clang-format off */
#define ROW(g, n, fn, ...) {.group = g, .name = n, .parse = fn, __VA_ARGS__}
#define INT_KEY(g, n, lo, hi, p2, field) ROW(g, n, parse_int, .min = lo, .max = hi, .pow2 = p2, \
	.off = offsetof(struct cp_config, field), .size = sizeof(((struct cp_config *)0)->field))
#define BOOL_KEY(g, n, field) ROW(g, n, cp_cfg_parse_bool, .off = offsetof(struct cp_config, field))

static const struct key keys[] = {
	ROW("", "sip", parse_group),
	ROW("", "interfaces", parse_interfaces),
	ROW("", "dataplane", parse_group),
	ROW("", "neighbours", parse_group),
	ROW("", "pbx", parse_group),
	ROW("", "filter", parse_group),
	ROW("", "bindings", parse_group),
	ROW("", "wake", parse_group),
	ROW("", "log", parse_group),
	ROW("", "push", parse_push),
	INT_KEY("sip", "port", 1, 65535, false, sip_port),
	ROW("sip", "names", parse_names),
	ROW("interface", "device", parse_device),
	ROW("interface", "ipv4", parse_address, .af = AF_INET),
	ROW("interface", "gateway4", defer_gateway, .af = AF_INET),
	ROW("interface", "ipv6", parse_address, .af = AF_INET6),
	ROW("interface", "gateway6", defer_gateway, .af = AF_INET6),
	ROW("interface", "vlan", cp_cfg_parse_vlan, .min = 1, .max = 4094),
	/* 2^n - 1 mbufs is the mempool's sweet spot, hence the odd maximum. */
	INT_KEY("dataplane", "mbufs", 1024, 1048575, false, mbufs),
	/* NICs and rte_ring index with a mask: powers of 2 only. */
	INT_KEY("dataplane", "rx_desc", 64, 16384, true, rx_desc),
	INT_KEY("dataplane", "tx_desc", 64, 16384, true, tx_desc),
	INT_KEY("dataplane", "ring_size", 64, 65536, true, ring_size),
	INT_KEY("dataplane", "idle_sleep_us", 0, 100000, false, idle_sleep_us),
	INT_KEY("dataplane", "reassembly_flows", 64, 1048576, false, frag_flows),
	INT_KEY("dataplane", "reassembly_timeout_ms", 100, 60000, false, frag_timeout_ms),
	INT_KEY("dataplane", "reassembly_buffers", 63, 65535, false, frag_buffers),
	INT_KEY("neighbours", "max", 16, 1048576, false, neigh_max),
	INT_KEY("neighbours", "queue", 1, 64, false, neigh_queue),
	INT_KEY("neighbours", "retry_ms", 10, 60000, false, neigh_retry_ms),
	INT_KEY("neighbours", "probes", 1, 10, false, neigh_probes),
	INT_KEY("neighbours", "lifetime_s", 10, 86400, false, neigh_lifetime_s),
	ROW("pbx", "sources", cp_cfg_parse_prefixes),
	ROW("pbx", "servers", cp_cfg_parse_servers),
	INT_KEY("pbx", "timeout_ms", 100, 60000, false, pbx_timeout_ms),
	INT_KEY("pbx", "check_interval_s", 1, 3600, false, pbx_check_s),
	INT_KEY("pbx", "auth_ban_failures", 1, 1000, false, auth_ban_failures),
	INT_KEY("pbx", "auth_ban_window_s", 1, 86400, false, auth_ban_window_s),
	INT_KEY("pbx", "auth_ban_s", 1, 604800, false, auth_ban_s),
	ROW("filter", "scanner_user_agents", cp_cfg_parse_patterns),
	INT_KEY("filter", "unknown_rate", 1, 1000000, false, unknown_rate),
	INT_KEY("filter", "unknown_burst", 1, 1000000, false, unknown_burst),
	INT_KEY("filter", "unknown_prefix_rate", 1, 100000000, false, unknown_prefix_rate),
	INT_KEY("filter", "unknown_prefix_burst", 1, 100000000, false, unknown_prefix_burst),
	INT_KEY("filter", "unknown_global_rate", 1, 100000000, false, unknown_global_rate),
	INT_KEY("filter", "unknown_global_burst", 1, 100000000, false, unknown_global_burst),
	INT_KEY("filter", "expected_rate", 1, 1000000, false, expected_rate),
	INT_KEY("filter", "expected_burst", 1, 1000000, false, expected_burst),
	INT_KEY("filter", "answer_rate", 1, 100000000, false, answer_rate),
	INT_KEY("filter", "answer_burst", 1, 100000000, false, answer_burst),
	INT_KEY("filter", "rate_sources", 256, 16777216, false, rate_sources),
	INT_KEY("filter", "rate_keys", 256, 16777216, false, rate_keys),
	BOOL_KEY("filter", "reply_403", reply_403),
	BOOL_KEY("filter", "reply_503", reply_503),
	INT_KEY("bindings", "max_sources", 16, 16777216, false, max_sources),
	INT_KEY("bindings", "max_devices", 16, 16777216, false, max_devices),
	ROW("bindings", "store", cp_cfg_parse_path, .off = offsetof(struct cp_config, store)),
	ROW("bindings", "store_sync", cp_cfg_parse_choice),
	INT_KEY("bindings", "ping_interval_s", 0, 86400, false, ping_interval_s),
	INT_KEY("bindings", "alive_window_s", 1, 86400, false, alive_window_s),
	INT_KEY("bindings", "max_pending", 16, 1048576, false, max_pending),
	ROW("wake", "policy", cp_cfg_parse_choice),
	INT_KEY("wake", "timeout_s", 1, 600, false, wake_timeout_s),
	ROW("wake", "provisional", cp_cfg_parse_choice),
	ROW("wake", "cancelled_call", cp_cfg_parse_choice),
	INT_KEY("wake", "max_held", 16, 1048576, false, max_held),
	INT_KEY("wake", "refresh_before_s", 0, 86400, false, refresh_before_s),
	ROW("log", "level", parse_log_level),
};
/* clang-format on */

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

/* Walks @g in file order; members are @group's rows, paths start @prefix. */
static int parse_members(struct loader *ld, const config_setting_t *g, const char *group,
			 const char *prefix)
{
	char path[96], known[256];
	int i, rc;
	size_t j, used;

	for (i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k = NULL;

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		for (j = 0; j < ARRAY_LEN(keys) && !k; j++)
			if (!strcmp(keys[j].group, group) && !strcmp(keys[j].name, name))
				k = &keys[j];
		if (!k) {
			for (j = 0, used = 0, known[0] = '\0'; j < ARRAY_LEN(keys); j++)
				if (!strcmp(keys[j].group, group) && used < sizeof(known))
					used += (size_t)snprintf(known + used, sizeof(known) - used,
								 "%s%s", used ? ", " : "",
								 keys[j].name);
			return cp_cfg_fail(ld, s, path, "unknown key (known: %s)", known);
		}
		rc = k->parse(ld, s, path, k);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_group(struct loader *ld, const config_setting_t *s, const char *path,
		       const struct key *k)
{
	if (!config_setting_is_group(s))
		return cp_cfg_fail(ld, s, path, "expected a group like %s: { ... }, got %s",
				   k->name, cp_cfg_type_name(s));
	return parse_members(ld, s, k->name, path);
}

/*
 * libconfig 1.5 reads an integer literal without an L suffix into an int
 * and drops the high bits, so "mbufs = 4294983679;" arrives as a valid
 * 16383. Re-read the literal from its source line to catch that: returns
 * its length (and @lit) if it is not @v, else 0. Only the main file's text
 * is at hand: values in @include'd files or split across lines are not
 * re-checked.
 */
static int wrapped_literal(const struct loader *ld, const config_setting_t *s, long long v,
			   const char **lit)
{
	const char *name = config_setting_name(s), *line = ld->text, *p, *q, *eol;
	size_t nlen = strlen(name);
	long long parsed;
	unsigned n;
	char *end;

	if (!line || config_setting_source_file(s) || config_setting_type(s) != CONFIG_TYPE_INT)
		return 0;
	for (n = 1; n < config_setting_source_line(s) && line; n++)
		if ((line = strchr(line, '\n')))
			line++;
	if (!line)
		return 0;
	eol = strchr(line, '\n');
	for (p = line; (p = strstr(p, name)) && (!eol || p < eol); p += nlen) {
		if (p > line && (isalnum((unsigned char)p[-1]) || strchr("_-*", p[-1])))
			continue; /* "max" inside "neigh_max" */
		q = p + nlen + strspn(p + nlen, " \t");
		if (*q != '=' && *q != ':')
			continue;
		*lit = q + 1 + strspn(q + 1, " \t");
		q = *lit + (**lit == '-' || **lit == '+');
		errno = 0;
		parsed = strtoll(*lit, &end, q[0] == '0' && (q[1] | 0x20) == 'x' ? 16 : 10);
		if (end == *lit || (errno != ERANGE && parsed == v))
			return 0;
		return (int)strspn(*lit, "-+0123456789abcdefxABCDEFX");
	}
	return 0;
}

static int parse_int(struct loader *ld, const config_setting_t *s, const char *path,
		     const struct key *k)
{
	const char *what = k->pow2 ? "a power of 2 in" : "an integer", *lit;
	long long v;
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return cp_cfg_fail(ld, s, path, "expected %s %lld..%lld, got %s", what, k->min,
				   k->max, cp_cfg_type_name(s));
	v = config_setting_get_int64(s);
	n = wrapped_literal(ld, s, v, &lit);
	if (n)
		return cp_cfg_fail(ld, s, path, "expected %s %lld..%lld, got %.*s", what, k->min,
				   k->max, n, lit);
	if (v < k->min || v > k->max || (k->pow2 && (v & (v - 1))))
		return cp_cfg_fail(ld, s, path, "expected %s %lld..%lld, got %lld", what, k->min,
				   k->max, v);
	/* The row's offset and size come from the field itself, so these casts are exact. */
	if (k->size == sizeof(uint16_t))
		*(uint16_t *)((char *)ld->cfg + k->off) = (uint16_t)v;
	else
		*(uint32_t *)((char *)ld->cfg + k->off) = (uint32_t)v;
	return 0;
}

/* RFC 1123 host names: labels of 1..63 letters, digits and inner hyphens.
 * A trailing dot is refused: the SIP URIs compared against it carry none. */
static bool valid_hostname(const char *h)
{
	size_t label = 0;

	if (!h || !*h || strlen(h) >= CP_NAME_LEN)
		return false;
	for (; *h; h++) {
		if (*h == '.' && label && h[-1] != '-')
			label = 0;
		else if (!isalnum((unsigned char)*h) && (*h != '-' || !label))
			return false;
		else if (++label > 63)
			return false;
	}
	return label && h[-1] != '-';
}

static int parse_names(struct loader *ld, const config_setting_t *s, const char *path,
		       const struct key *k)
{
	int i, n = config_setting_length(s);
	char epath[112];

	(void)k;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cp_cfg_fail(
			ld, s, path,
			"expected a list of host names like [ \"edge.example.net\" ], got %s",
			cp_cfg_type_name(s));
	if (n > CP_MAX_NAMES)
		return cp_cfg_fail(ld, s, path, "expected at most %d names, got %d", CP_MAX_NAMES,
				   n);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *h = config_setting_get_string(e);

		snprintf(epath, sizeof(epath), "%s.[%d]", path, i);
		if (!valid_hostname(h))
			return cp_cfg_fail(
				ld, e, epath,
				"expected a host name string like \"edge.example.net\" (letters, "
				"digits, '-', '.'; labels of 1..63; under %d characters), got %s",
				CP_NAME_LEN, cp_cfg_found(ld, e, NULL));
		memcpy(ld->cfg->names[i], h, strlen(h) + 1);
	}
	ld->cfg->n_names = (unsigned)n;
	return 0;
}

static int parse_log_level(struct loader *ld, const config_setting_t *s, const char *path,
			   const struct key *k)
{
	const char *text = config_setting_get_string(s);
	size_t i;

	(void)k;
	for (i = 0; text && i < ARRAY_LEN(level_names); i++)
		if (!strcmp(text, level_names[i])) {
			ld->cfg->log_level = (enum cp_log_level)(CP_LOG_ERR + (int)i);
			return 0;
		}
	return cp_cfg_fail(
		ld, s, path,
		"expected one of \"error\", \"warning\", \"notice\", \"info\", \"debug\", got %s",
		cp_cfg_found(ld, s, NULL));
}

/* push { } belongs to pushd, which validates it with the same message style. */
static int parse_push(struct loader *ld, const config_setting_t *s, const char *path,
		      const struct key *k)
{
	(void)path;
	(void)k;
	return pd_config_parse(s, ld->file, &ld->cfg->push, ld->err, ld->errlen);
}

/* ---- interfaces -------------------------------------------------------- */

static int parse_device(struct loader *ld, const config_setting_t *s, const char *path,
			const struct key *k)
{
	const char *dev = config_setting_get_string(s);
	size_t len = dev ? strlen(dev) : 0, i;
	unsigned j;

	(void)k;
	/* A stray space would only surface later as "no such device". */
	for (i = 0; i < len && (unsigned char)dev[i] > ' ' && dev[i] != 0x7f; i++)
		;
	if (!len || len >= CP_DEVICE_LEN || i < len)
		return cp_cfg_fail(ld, s, path,
				   EXPECT_DEVICE " of 1..%d characters without spaces, got %s",
				   CP_DEVICE_LEN - 1, cp_cfg_found(ld, s, NULL));
	for (j = 0; j < ld->idx; j++)
		if (!strcmp(ld->cfg->ifaces[j].device, dev))
			return cp_cfg_fail(
				ld, s, path,
				"expected a device no other interface uses, got \"%s\" again "
				"(also interfaces.[%u].device)",
				dev, j);
	memcpy(ld->cfg->ifaces[ld->idx].device, dev, len + 1);
	return 0;
}

/* "addr/len" into @addr and @plen. NULL when valid, else why not. */
static const char *parse_cidr(int af, const char *text, void *addr, uint8_t *plen)
{
	const char *slash = strchr(text, '/'), *d;
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max = af == AF_INET ? 32 : 128, len = 0;
	char buf[INET6_ADDRSTRLEN];

	if (alen >= sizeof(buf))
		return "";
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		return "";
	if (!slash)
		return " (no prefix length)";
	for (d = slash + 1; *d >= '0' && *d <= '9' && len <= max; d++)
		len = len * 10 + (unsigned)(*d - '0');
	if (d == slash + 1 || *d || len > max)
		return af == AF_INET ? " (prefix length not in 0..32)"
				     : " (prefix length not in 0..128)";
	*plen = (uint8_t)len;
	return NULL;
}

static uint32_t mask4(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0; /* a shift by 32 is undefined */
}

/* Why @a (host order) cannot be a host on @a/@plen, or NULL. */
static const char *ipv4_host_problem(uint32_t a, unsigned plen)
{
	uint32_t host = a & ~mask4(plen);

	if (a >> 24 == 0)
		return " (0.0.0.0/8 means \"this network\", RFC 1122 3.2.1.3)";
	if (a >> 24 == 127)
		return " (loopback)";
	if (a >> 28 == 0xe)
		return " (multicast)";
	if (a == 0xffffffff)
		return " (broadcast)";
	/* /31 (RFC 3021) and /32 have no network or broadcast address. */
	if (plen <= 30 && host == 0)
		return " (the subnet's network address, not a host)";
	if (plen <= 30 && host == ~mask4(plen))
		return " (the subnet's broadcast address)";
	return NULL;
}

static const char *ipv6_host_problem(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_MULTICAST(a))
		return " (multicast)";
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return " (the unspecified address)";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return " (loopback)";
	return NULL;
}

static struct in6_addr net6(const struct in6_addr *a, unsigned plen)
{
	struct in6_addr n = *a;
	unsigned i;

	for (i = 0; i<16; i++, plen = plen> 8 ? plen - 8 : 0)
		n.s6_addr[i] &= (uint8_t)(0xff00 >> (plen > 8 ? 8 : plen));
	return n;
}

static bool in_prefix6(const struct in6_addr *a, const struct in6_addr *net, unsigned plen)
{
	struct in6_addr x = net6(a, plen), y = net6(net, plen);

	return IN6_ARE_ADDR_EQUAL(&x, &y);
}

static int parse_address(struct loader *ld, const config_setting_t *s, const char *path,
			 const struct key *k)
{
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[ld->idx];
	const char *text = config_setting_get_string(s), *why = "";
	bool v4 = k->af == AF_INET;

	if (text && v4) {
		why = parse_cidr(AF_INET, text, &ifc->ipv4, &ifc->prefix4);
		if (!why)
			why = ipv4_host_problem(ntohl(ifc->ipv4.s_addr), ifc->prefix4);
		ifc->has_ipv4 = !why;
	} else if (text) {
		why = parse_cidr(AF_INET6, text, &ifc->ipv6, &ifc->prefix6);
		if (!why)
			why = ipv6_host_problem(&ifc->ipv6);
		ifc->has_ipv6 = !why;
	}
	if (!why)
		return 0;
	return cp_cfg_fail(ld, s, path,
			   "expected an %s address with prefix length like \"%s\", got %s",
			   v4 ? "IPv4" : "IPv6", v4 ? "192.0.2.10/24" : "2001:db8::10/64",
			   cp_cfg_found(ld, s, why));
}

static int defer_gateway(struct loader *ld, const config_setting_t *s, const char *path,
			 const struct key *k)
{
	(void)path;
	ld->gw[k->af == AF_INET6] = s;
	return 0;
}

static int check_gateway4(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[ld->idx];
	const char *text = config_setting_get_string(s), *why = "";
	uint32_t ip = ntohl(ifc->ipv4.s_addr), m = mask4(ifc->prefix4), gw;
	struct in_addr n = {htonl(ip & m)};
	char net[INET_ADDRSTRLEN];

	if (!ifc->has_ipv4)
		return cp_cfg_fail(
			ld, s, path,
			"expected ipv4 = \"a.b.c.d/len\" as well (the gateway must lie in its "
			"subnet), got gateway4 alone");
	if (text && inet_pton(AF_INET, text, &ifc->gateway4) == 1) {
		gw = ntohl(ifc->gateway4.s_addr);
		why = ipv4_host_problem(gw, ifc->prefix4);
		if (!why && (gw & m) != (ip & m))
			why = " (outside it)";
		else if (!why && gw == ip)
			why = " (the interface's own address)";
	}
	ifc->has_gw4 = !why;
	if (!why)
		return 0;
	inet_ntop(AF_INET, &n, net, sizeof(net));
	return cp_cfg_fail(ld, s, path,
			   "expected a router's IPv4 address inside ipv4's subnet %s/%u, got %s",
			   net, ifc->prefix4, cp_cfg_found(ld, s, why));
}

static int check_gateway6(struct loader *ld, const config_setting_t *s, const char *path)
{
	static const struct in6_addr link_local = {{{0xfe, 0x80}}};
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[ld->idx];
	const char *text = config_setting_get_string(s), *why = "";
	struct in6_addr n = net6(&ifc->ipv6, ifc->prefix6);
	char net[INET6_ADDRSTRLEN];

	if (!ifc->has_ipv6)
		return cp_cfg_fail(
			ld, s, path,
			"expected ipv6 = \"addr/len\" as well (the gateway must lie in its "
			"prefix or fe80::/10), got gateway6 alone");
	if (text && inet_pton(AF_INET6, text, &ifc->gateway6) == 1) {
		why = ipv6_host_problem(&ifc->gateway6);
		/* Routers usually advertise themselves from their link-local address. */
		if (!why && !in_prefix6(&ifc->gateway6, &ifc->ipv6, ifc->prefix6) &&
		    !in_prefix6(&ifc->gateway6, &link_local, 10))
			why = " (outside both)";
		else if (!why && IN6_ARE_ADDR_EQUAL(&ifc->gateway6, &ifc->ipv6))
			why = " (the interface's own address)";
	}
	ifc->has_gw6 = !why;
	if (!why)
		return 0;
	inet_ntop(AF_INET6, &n, net, sizeof(net));
	return cp_cfg_fail(
		ld, s, path,
		"expected a router's IPv6 address inside ipv6's prefix %s/%u or fe80::/10, "
		"got %s",
		net, ifc->prefix6, cp_cfg_found(ld, s, why));
}

static int parse_iface(struct loader *ld, const config_setting_t *g, unsigned idx)
{
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[idx];
	char path[32], kpath[48];
	int rc;

	snprintf(path, sizeof(path), "interfaces.[%u]", idx);
	if (!config_setting_is_group(g))
		return cp_cfg_fail(
			ld, g, path,
			"expected an interface group { device = \"...\"; ipv4 = \"...\"; }, "
			"got %s",
			cp_cfg_type_name(g));
	memset(ifc, 0, sizeof(*ifc));
	ld->idx = idx;
	ld->gw[0] = ld->gw[1] = NULL;
	rc = parse_members(ld, g, "interface", path);
	if (rc)
		return rc;
	snprintf(kpath, sizeof(kpath), "%s.device", path);
	if (!ifc->device[0])
		return cp_cfg_fail(ld, g, kpath, EXPECT_DEVICE ", got nothing (key missing)");
	if (!ifc->has_ipv4 && !ifc->has_ipv6)
		return cp_cfg_fail(
			ld, g, path,
			"expected ipv4 = \"a.b.c.d/len\" or ipv6 = \"addr/len\" (or both), got "
			"neither");
	/* Gateways last: each is checked against its address wherever either is written. */
	snprintf(kpath, sizeof(kpath), "%s.gateway4", path);
	if (ld->gw[0] && (rc = check_gateway4(ld, ld->gw[0], kpath)))
		return rc;
	snprintf(kpath, sizeof(kpath), "%s.gateway6", path);
	if (ld->gw[1] && (rc = check_gateway6(ld, ld->gw[1], kpath)))
		return rc;
	return 0;
}

static int parse_interfaces(struct loader *ld, const config_setting_t *s, const char *path,
			    const struct key *k)
{
	int i, rc, n = config_setting_length(s);

	(void)k;
	if (!config_setting_is_list(s))
		return cp_cfg_fail(ld, s, path, EXPECT_IFACES "%s", CP_MAX_IFACES,
				   cp_cfg_type_name(s));
	if (n < 1 || n > CP_MAX_IFACES)
		return cp_cfg_fail(ld, s, path, EXPECT_IFACES "%d", CP_MAX_IFACES, n);
	for (i = 0; i < n; i++) {
		rc = parse_iface(ld, config_setting_get_elem(s, (unsigned)i), (unsigned)i);
		if (rc)
			return rc;
	}
	ld->cfg->n_ifaces = (unsigned)n;
	return 0;
}

/* ---- entry points ------------------------------------------------------ */

void cp_config_defaults(struct cp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sip_port = 5060;
	cfg->mbufs = 16383;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->ring_size = 1024;
	cfg->idle_sleep_us = 0;
	cfg->frag_flows = 4096;
	cfg->frag_timeout_ms = 2000;
	cfg->frag_buffers = 511;
	cfg->neigh_max = 4096;
	cfg->neigh_queue = 4;
	cfg->neigh_retry_ms = 1000;
	cfg->neigh_probes = 3;
	cfg->neigh_lifetime_s = 300;
	cfg->log_level = CP_LOG_INFO;
	cp_config_filter_defaults(cfg);
	cfg->max_sources = 65536;
	cp_config_proxy_defaults(cfg);
	pd_config_defaults(&cfg->push);
}

const char *cp_log_level_name(enum cp_log_level l)
{
	if (l < CP_LOG_ERR || l > CP_LOG_DEBUG)
		return "unknown";
	return level_names[l - CP_LOG_ERR];
}

static int load_text(struct loader *ld, const char *include_dir)
{
	config_t c;
	int rc;

	config_init(&c);
	if (include_dir)
		config_set_include_dir(&c, include_dir);
	if (!config_read_string(&c, ld->text)) {
		const char *msg = config_error_text(&c);

		put_err(ld->err, ld->errlen, "%s:%d: %s%s",
			config_error_file(&c) ? config_error_file(&c) : ld->file,
			config_error_line(&c), msg,
			strcmp(msg, "syntax error") ? ""
						    : " (settings look like name = value; groups "
						      "{ ... }, lists ( ... ), arrays [ ... ])");
		rc = -EINVAL;
		goto out;
	}
	cp_config_defaults(ld->cfg);
	rc = parse_members(ld, config_root_setting(&c), "", "");
	if (!rc && !ld->cfg->n_ifaces)
		rc = cp_cfg_fail(ld, config_root_setting(&c), "interfaces",
				 EXPECT_IFACES "nothing (key missing)", CP_MAX_IFACES);
out:
	config_destroy(&c);
	return rc;
}

int cp_config_load_string(const char *text, struct cp_config *cfg, char *err, size_t errlen)
{
	struct loader ld = {
		.file = "<string>", .text = text, .cfg = cfg, .err = err, .errlen = errlen};

	return load_text(&ld, NULL);
}

/*
 * The file is read here rather than by config_read_file() so that the errno
 * of a failed open reaches the caller, a directory or a huge file is refused
 * before the parser sees it (flex exit()s on a read error), and
 * wrapped_literal() has the text. Open errors other than -ENOENT/-EACCES
 * (-EISDIR, -ENAMETOOLONG, ...) are returned as they are.
 */
int cp_config_load(const char *path, struct cp_config *cfg, char *err, size_t errlen)
{
	struct loader ld = {.file = path, .cfg = cfg, .err = err, .errlen = errlen};
	char *buf = NULL, dir[PATH_MAX], *slash;
	size_t len = 0, got;
	struct stat st;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		goto fail;
	}
	rc = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode) ? -EISDIR : 0;
	if (!rc && !(buf = malloc(MAX_FILE_SIZE + 1)))
		rc = -ENOMEM;
	while (!rc && (got = fread(buf + len, 1, MAX_FILE_SIZE + 1 - len, f)) > 0)
		len += got;
	if (!rc && ferror(f))
		rc = -EIO;
	fclose(f);
	if (rc)
		goto fail;
	if (len > MAX_FILE_SIZE || memchr(buf, '\0', len)) {
		put_err(err, errlen, "%s: expected a text file under %u bytes, got %s", path,
			MAX_FILE_SIZE, len > MAX_FILE_SIZE ? "a larger one" : "a NUL byte");
		free(buf);
		return -EINVAL;
	}
	buf[len] = '\0';
	/* @include paths are relative to the including file, not to the cwd. */
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	ld.text = buf;
	rc = load_text(&ld, slash ? dir : NULL);
	free(buf);
	return rc;
fail:
	free(buf);
	put_err(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	return rc;
}
