// SPDX-License-Identifier: Apache-2.0
// The VMX instructions as static inline wrappers (SDM vol. 2 "VMX Instruction Reference" and
// vol. 3C 31 "VMX Instruction Reference"), and the width-checked VMCS accessors generated from
// vmx/vmcs_fields.h: vmcs_read32(EXIT_REASON) does not compile if EXIT_REASON is not 32-bit.
#ifndef VMX_VMX_INSN_H
#define VMX_VMX_INSN_H

#include <stdbool.h>
#include <stdint.h>
#include "vmx/vmcs_fields.h"

/* Every VMX instruction reports VMfailInvalid with CF=1 and VMfailValid with ZF=1 (SDM vol. 3C
 * 31.2 "Conventions"); "na" (CF or ZF) is therefore "failed". Each returns true on success. */

static inline bool vmx_on(uint64_t vmxon_pa)
{
    bool fail;
    __asm__ volatile("vmxon %[pa]" : "=@ccna"(fail) : [pa] "m"(vmxon_pa) : "memory");
    return !fail;
}

static inline bool vmx_clear(uint64_t vmcs_pa)
{
    bool fail;
    __asm__ volatile("vmclear %[pa]" : "=@ccna"(fail) : [pa] "m"(vmcs_pa) : "memory");
    return !fail;
}

static inline bool vmx_ptrld(uint64_t vmcs_pa)
{
    bool fail;
    __asm__ volatile("vmptrld %[pa]" : "=@ccna"(fail) : [pa] "m"(vmcs_pa) : "memory");
    return !fail;
}

/* Volatile: a field's value changes across every VM entry, so two reads must never merge. */
static inline uint64_t vmx_vmread(uint64_t field)
{
    uint64_t v;
    __asm__ volatile("vmread %[f], %[v]" : [v] "=r"(v) : [f] "r"(field) : "cc");
    return v;
}

static inline bool vmx_vmwrite(uint64_t field, uint64_t value)
{
    bool fail;
    __asm__ volatile("vmwrite %[v], %[f]" : "=@ccna"(fail) : [v] "r"(value), [f] "r"(field)
                     : "memory");
    return !fail;
}

/* INVEPT / INVVPID descriptors (SDM vol. 2 "INVEPT", "INVVPID"): 128 bits. */
static inline bool vmx_invept(uint64_t type, uint64_t eptp)
{
    struct { uint64_t eptp, rsvd; } desc = { eptp, 0 };
    bool fail;
    __asm__ volatile("invept %[d], %[t]" : "=@ccna"(fail) : [d] "m"(desc), [t] "r"(type)
                     : "memory");
    return !fail;
}

static inline bool vmx_invvpid(uint64_t type, uint16_t vpid)
{
    struct { uint64_t vpid, gla; } desc = { vpid, 0 };
    bool fail;
    __asm__ volatile("invvpid %[d], %[t]" : "=@ccna"(fail) : [d] "m"(desc), [t] "r"(type)
                     : "memory");
    return !fail;
}

/* Width-checked accessors: the field is named without its VMCS_ prefix. Reads of 16- and 32-bit
 * fields come back zero-extended to 64 bits, as VMREAD leaves them (SDM vol. 2 "VMREAD"), so
 * no conversion instruction is spent on them. A write returns true on success (hot paths
 * ignore it; vcpu_init checks every write). */
#define VMCS_WIDTH_IS(name, w)                                                                 \
    _Static_assert(VMCS_WIDTH_##name == VMCS_##w, "VMCS field " #name " is not " #w)
#define vmcs_read16(name)                                                                      \
    ({ VMCS_WIDTH_IS(name, W16); vmx_vmread(VMCS_##name); })
#define vmcs_read32(name)                                                                      \
    ({ VMCS_WIDTH_IS(name, W32); vmx_vmread(VMCS_##name); })
#define vmcs_read64(name)                                                                      \
    ({ VMCS_WIDTH_IS(name, W64); vmx_vmread(VMCS_##name); })
#define vmcs_readnat(name)                                                                     \
    ({ VMCS_WIDTH_IS(name, WNAT); vmx_vmread(VMCS_##name); })
#define vmcs_write16(name, v)                                                                  \
    ({ VMCS_WIDTH_IS(name, W16); vmx_vmwrite(VMCS_##name, (uint16_t)(v)); })
#define vmcs_write32(name, v)                                                                  \
    ({ VMCS_WIDTH_IS(name, W32); vmx_vmwrite(VMCS_##name, (uint32_t)(v)); })
#define vmcs_write64(name, v)                                                                  \
    ({ VMCS_WIDTH_IS(name, W64); vmx_vmwrite(VMCS_##name, (uint64_t)(v)); })
#define vmcs_writenat(name, v)                                                                 \
    ({ VMCS_WIDTH_IS(name, WNAT); vmx_vmwrite(VMCS_##name, (uint64_t)(v)); })

#endif
