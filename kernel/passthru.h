// SPDX-License-Identifier: Apache-2.0
// Describing a physical PCI function for a partition's virtual bus (kernel/vpci.h): its IDs,
// class and interrupt pin, its BARs (sized with the PCI protocol: decode off, all ones written,
// the mask read back, the value restored), and its capability list with the ones the
// hypervisor owns hidden (MSI and MSI-X: there is no virtual interrupt controller yet). Pure:
// config space is reached through the callbacks, so the unit test runs it on a fake device.
#ifndef KERNEL_PASSTHRU_H
#define KERNEL_PASSTHRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/vpci.h"

struct passthru_cfg {
    uint32_t (*read)(void *ctx, uint16_t reg, unsigned size);
    void (*write)(void *ctx, uint16_t reg, unsigned size, uint32_t val);
    void *ctx;
};

/* Fill *desc for the function behind cfg (its ops and ctx are left for the caller), and the
 * host address of each BAR in host_addr (0 for unused ones). Returns NULL, or a sentence
 * saying why the function cannot be assigned: absent, not a type-0 header (a bridge), a BAR
 * the model cannot describe. The function's command register is left as it was found. */
const char *passthru_describe(const struct passthru_cfg *cfg, struct vpci_device_desc *desc,
                              uint64_t host_addr[VPCI_MAX_BARS]);
#endif
