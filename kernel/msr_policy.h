// SPDX-License-Identifier: Apache-2.0
// Which MSRs a guest may read or write, and how each is served. Everything not listed here
// raises #GP in the guest (and is counted). Pure: a table lookup, unit-tested on the host.
#ifndef KERNEL_MSR_POLICY_H
#define KERNEL_MSR_POLICY_H
#include <stdint.h>
#include <stdbool.h>

enum msr_class {
    MSR_REFUSE = 0,    /* #GP */
    MSR_BACKEND,       /* the guest's own value, held in the VMCS/VMCB (virt_ops msr_get/set) */
    MSR_HOST_TSC,      /* read: the TSC as the guest sees it */
    MSR_READS_ZERO,    /* read as 0 (a feature Moat does not offer, probed by common OSes) */
    MSR_WRITE_IGNORED, /* write accepted and dropped */
};

enum msr_class msr_policy(uint32_t index, bool write);
#endif
