// SPDX-License-Identifier: Apache-2.0
// The MSR allow-list. Indices: Intel SDM vol. 4 (model-specific registers), AMD APM vol. 2
// appendix A. The guest's copies of the architectural state MSRs live in the VMCS/VMCB;
// anything that would reach real hardware state shared with the host or other partitions
// (APIC base, feature control, VMX/SVM control, microcode, power, MTRRs) is refused.
#include "kernel/msr_policy.h"

struct msr_rule {
    uint32_t index;
    uint8_t read, write; /* enum msr_class */
};

static const struct msr_rule rules[] = {
    { 0x00000010, MSR_HOST_TSC, MSR_REFUSE },      /* IA32_TSC */
    { 0x00000174, MSR_BACKEND, MSR_BACKEND },      /* IA32_SYSENTER_CS */
    { 0x00000175, MSR_BACKEND, MSR_BACKEND },      /* IA32_SYSENTER_ESP */
    { 0x00000176, MSR_BACKEND, MSR_BACKEND },      /* IA32_SYSENTER_EIP */
    { 0x00000277, MSR_BACKEND, MSR_BACKEND },      /* IA32_PAT */
    { 0x0000008b, MSR_READS_ZERO, MSR_WRITE_IGNORED }, /* IA32_BIOS_SIGN_ID: no microcode info */
    { 0x00000079, MSR_REFUSE, MSR_WRITE_IGNORED },     /* IA32_BIOS_UPDT_TRIG: no microcode load */
    { 0xc0000080, MSR_BACKEND, MSR_BACKEND },      /* IA32_EFER */
    { 0xc0000081, MSR_BACKEND, MSR_BACKEND },      /* STAR */
    { 0xc0000082, MSR_BACKEND, MSR_BACKEND },      /* LSTAR */
    { 0xc0000083, MSR_BACKEND, MSR_BACKEND },      /* CSTAR */
    { 0xc0000084, MSR_BACKEND, MSR_BACKEND },      /* SFMASK */
    { 0xc0000100, MSR_BACKEND, MSR_BACKEND },      /* FS.base */
    { 0xc0000101, MSR_BACKEND, MSR_BACKEND },      /* GS.base */
    { 0xc0000102, MSR_BACKEND, MSR_BACKEND },      /* KernelGSbase */
};

enum msr_class msr_policy(uint32_t index, bool write)
{
    for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (rules[i].index == index)
            return (enum msr_class)(write ? rules[i].write : rules[i].read);
    return MSR_REFUSE;
}
