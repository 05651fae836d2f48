// SPDX-License-Identifier: Apache-2.0
// What a guest sees from CPUID: the host's answer, edited so the guest knows it runs under
// Moat, cannot see or use VMX/SVM or devices Moat does not emulate, and sees a topology that
// matches its own vCPUs. Pure: the host's registers come in, the guest's go out.
#ifndef KERNEL_CPUID_POLICY_H
#define KERNEL_CPUID_POLICY_H
#include <stdint.h>

struct cpuid_regs4 {
    uint32_t eax, ebx, ecx, edx;
};

#define CPUID_HV_BASE      0x40000000u
#define CPUID_HV_INTERFACE_LEAF 0x40000001u
#define CPUID_HV_PCI_LEAF  0x40000002u /* EAX/EBX: ECAM base 31:0 / 63:32, ECX: buses */
#define CPUID_HV_MAX_LEAF  CPUID_HV_PCI_LEAF
#define CPUID_HV_SIGNATURE "MoatMoatMoat" /* EBX, ECX, EDX of leaf 0x40000000 */
#define CPUID_HV_SIG_EBX 0x74616f4du     /* "Moat" as little-endian bytes */
#define CPUID_HV_SIG_ECX 0x74616f4du
#define CPUID_HV_SIG_EDX 0x74616f4du
#define CPUID_HV_INTERFACE 0x3174614du    /* leaf 0x40000001 EAX: "Mat1", ABI version 1 */

/* The guest's view of (leaf, subleaf) for vCPU `vcpu_id` of a partition with `vcpu_count`
 * vCPUs, given `host` = the host CPU's answer for the same leaf (ignored for the hypervisor
 * leaves 0x40000000-0x400000ff). */
struct cpuid_regs4 cpuid_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs4 host,
                                uint32_t vcpu_id, uint32_t vcpu_count);
#endif
