/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SW_PARAMS_H
#define SW_PARAMS_H

#include <stddef.h>

#include "controlplane/config/cp_config.h"
#include "dataplane/dp.h"

/**
 * Fill the dataplane's parameters from a validated config, resolving each
 * interfaces.[N].device to a DPDK port (EAL must be initialised).
 * @return 0, or -ENODEV with @p err naming the key and the ports that exist.
 */
int sw_params_from_config(const struct cp_config *cfg, struct dp_params *p, char *err,
			  size_t errlen);

#endif /* SW_PARAMS_H */
