/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The field-by-field comparison of the SIP scanner's view of a message
 * (struct sip_msg) with libosip2's (osip_message_t), without cmocka, so the
 * unit differential test (tests/unit/osip_diff.c) and the differential fuzz
 * target (tests/fuzz/fuzz_sip_osip.c) share it.
 */
#ifndef OSIP_CMP_H
#define OSIP_CMP_H

#include <stdint.h>

/* osip2/osip.h uses time_t and struct timeval without including their headers. */
#include <sys/time.h>
#include <time.h>

#include <osip2/osip.h>
#include <osipparser2/osip_parser.h>

#include "sip/sip_scan.h"

/*
 * Called once per field that differs. @p field names it ("Via branch",
 * "R-URI host", "CSeq number", ...: the names are in osip_cmp.c); @p what
 * shows both values. Both strings are borrowed for the call only.
 */
typedef void (*osip_cmp_fn)(void *user, const char *field, const char *what);

/*
 * Compare @p m, what sip_scan() made of @p buf (borrowed; its slices point
 * into it), with @p msg, what osip_message_parse() made of the same message
 * (borrowed). Calls @p fn with @p user for each field that differs.
 * Returns the number of fields that differ (0: they agree).
 */
int osip_cmp_msg(const uint8_t *buf, const struct sip_msg *m, osip_message_t *msg, osip_cmp_fn fn,
		 void *user);

#endif /* OSIP_CMP_H */
