// SPDX-License-Identifier: Apache-2.0
// CPUID policy. Bit positions: Intel SDM vol. 2A "CPUID" (tables 3-8, 3-10, 3-11), AMD APM
// vol. 3 appendix E. The hypervisor leaves follow the convention every OS probes: leaf
// 0x40000000 returns the highest hypervisor leaf in EAX and a 12-byte vendor signature.
#include "kernel/cpuid_policy.h"
#include "kernel/guest_layout.h"

#define L1_ECX_MONITOR    (1u << 3)  /* MONITOR/MWAIT: not intercepted, so hidden */
#define L1_ECX_VMX        (1u << 5)
#define L1_ECX_X2APIC     (1u << 21) /* no virtual local APIC yet */
#define L1_ECX_TSC_DEADLINE (1u << 24)
/* XSAVE and what depends on it: XSETBV is not emulated yet (it always exits on VT-x), so
 * guests must not see XSAVE, and AVX and its descendants need XSAVE-managed state. */
#define L1_ECX_FMA     (1u << 12)
#define L1_ECX_XSAVE   (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX     (1u << 28)
#define L1_ECX_F16C    (1u << 29)
#define L7_EBX_AVX2_AVX512 ((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | \
                            (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
#define L7_ECX_AVX512  ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define L7_EDX_AVX512_AMX ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24))
#define L1_ECX_HYPERVISOR (1u << 31) /* reserved for hypervisors to announce themselves */
#define L1_EDX_APIC       (1u << 9)
#define L1_EDX_HTT        (1u << 28)
#define L1_EBX_APIC_ID_SHIFT 24
#define L1_EBX_LOGICAL_SHIFT 16
#define L6_EAX_ARAT       (1u << 2)
#define EXT1_ECX_SVM      (1u << 2)
#define EXT1_ECX_EXTAPIC  (1u << 3)
#define EXT1_ECX_TOPOEXT  (1u << 22)
#define L0B_TYPE_SMT  1u
#define L0B_TYPE_CORE 2u

/* Bits needed to hold ids 0..count-1 (the topology shift for count logical CPUs). */
static uint32_t id_bits(uint32_t count)
{
    uint32_t bits = 0;
    while ((1u << bits) < count)
        bits++;
    return bits;
}

struct cpuid_regs4 cpuid_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs4 host,
                                uint32_t vcpu_id, uint32_t vcpu_count)
{
    struct cpuid_regs4 r = host;
    if (vcpu_count == 0)
        vcpu_count = 1;

    static const struct cpuid_regs4 zero;
    if (leaf >= CPUID_HV_BASE && leaf <= CPUID_HV_BASE + 0xff) {
        /* Plain assignments, no memcpy: this is on the CPUID exit's hot path. */
        r = zero;
        if (leaf == CPUID_HV_BASE) {
            r.eax = CPUID_HV_MAX_LEAF;
            r.ebx = CPUID_HV_SIG_EBX;
            r.ecx = CPUID_HV_SIG_ECX;
            r.edx = CPUID_HV_SIG_EDX;
        } else if (leaf == CPUID_HV_INTERFACE_LEAF) {
            r.eax = CPUID_HV_INTERFACE;
        } else if (leaf == CPUID_HV_PCI_LEAF) {
            r.eax = (uint32_t)GUEST_ECAM_GPA;
            r.ebx = (uint32_t)(GUEST_ECAM_GPA >> 32);
            r.ecx = GUEST_ECAM_BUSES;
        }
        return r;
    }

    switch (leaf) {
    case 1:
        r.ecx &= ~(L1_ECX_VMX | L1_ECX_MONITOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE | L1_ECX_FMA |
                   L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX | L1_ECX_F16C);
        r.ecx |= L1_ECX_HYPERVISOR;
        r.edx &= ~L1_EDX_APIC;
        r.ebx = (r.ebx & 0xffffu) | (vcpu_id << L1_EBX_APIC_ID_SHIFT) |
                ((vcpu_count > 0xff ? 0xff : vcpu_count) << L1_EBX_LOGICAL_SHIFT);
        if (vcpu_count > 1)
            r.edx |= L1_EDX_HTT;
        else
            r.edx &= ~L1_EDX_HTT;
        break;
    case 4:
        /* Cores per package - 1 in EAX[31:26]; threads sharing this cache in EAX[25:14]. */
        if ((r.eax & 0x1f) != 0) {
            r.eax &= ~(0x3fu << 26 | 0xfffu << 14);
            r.eax |= ((vcpu_count - 1) & 0x3f) << 26;
        }
        break;
    case 5:   /* MONITOR/MWAIT parameters: hidden with the feature */
    case 0xd: /* XSAVE state components: hidden with XSAVE */
        r = zero;
        break;
    case 7:
        if (subleaf == 0) {
            r.ebx &= ~L7_EBX_AVX2_AVX512;
            r.ecx &= ~L7_ECX_AVX512;
            r.edx &= ~L7_EDX_AVX512_AMX;
        }
        break;
    case 6:
        r.eax &= L6_EAX_ARAT;
        r.ebx = r.ecx = r.edx = 0;
        break;
    case 0xb:
    case 0x1f:
        /* One thread per core, vcpu_count cores in one package. */
        r.edx = vcpu_id;
        if (subleaf == 0) {
            r.eax = 0;
            r.ebx = 1;
            r.ecx = (L0B_TYPE_SMT << 8) | subleaf;
        } else if (subleaf == 1) {
            r.eax = id_bits(vcpu_count);
            r.ebx = vcpu_count;
            r.ecx = (L0B_TYPE_CORE << 8) | subleaf;
        } else {
            r.eax = r.ebx = 0;
            r.ecx = subleaf;
        }
        break;
    case 0x80000001:
        r.ecx &= ~(EXT1_ECX_SVM | EXT1_ECX_EXTAPIC | EXT1_ECX_TOPOEXT);
        break;
    case 0x80000008:
        /* AMD: ECX[7:0] = logical processors - 1, ECX[15:12] = APIC ID size. */
        r.ecx = (r.ecx & ~0xf0ffu) | ((vcpu_count - 1) & 0xff) | (id_bits(vcpu_count) << 12);
        break;
    case 0x8000000a: /* SVM features: hidden with SVM */
    case 0x8000001e: /* AMD extended topology: hidden with TOPOEXT */
        r = zero;
        break;
    default:
        break;
    }
    return r;
}
