// SPDX-License-Identifier: Apache-2.0
// Host unit tests of the VT-x backend's pure parts: every field of vmx/vmcs_fields.h against
// the encoding rules of SDM vol. 3C 25.11.2 (width and access-type bits, type bits, reserved
// bits, no encoding twice), control fitting against real capability MSRs, and the segment
// attribute conversion between kernel/virt.h and VMCS access rights.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/virt.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_arch.h"

struct field {
    const char *name;
    uint32_t enc;
    unsigned width;
};

static const struct field fields[] = {
#define X(name, enc, width) { #name, enc, VMCS_##width },
    VMCS_FIELDS(X)
#undef X
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static void test_width_bits(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIELDS; i++) {
        unsigned w = (fields[i].enc >> VMCS_ENC_WIDTH_SHIFT) & 3;
        if (w != fields[i].width)
            fail_msg("%s (0x%04x): width bits say %u, declared %u", fields[i].name, fields[i].enc, w,
                     fields[i].width);
    }
}

static void test_access_type_and_reserved(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIELDS; i++) {
        uint32_t e = fields[i].enc;
        /* Bit 0: full access. Only 64-bit fields have a "high" (bit 0 = 1) form at all. */
        if (e & 1)
            fail_msg("%s (0x%04x): access type is 'high'", fields[i].name, e);
        if (e & (1u << 12))
            fail_msg("%s (0x%04x): reserved bit 12 set", fields[i].name, e);
        if (e >> 15)
            fail_msg("%s (0x%04x): reserved bits 31:15 set", fields[i].name, e);
    }
}

static void test_type_matches_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIELDS; i++) {
        unsigned type = (fields[i].enc >> VMCS_ENC_TYPE_SHIFT) & 3;
        if (strncmp(fields[i].name, "GUEST_", 6) == 0 && type != VMCS_TYPE_GUEST)
            fail_msg("%s (0x%04x): a GUEST_ field of type %u", fields[i].name, fields[i].enc, type);
        if (strncmp(fields[i].name, "HOST_", 5) == 0 && type != VMCS_TYPE_HOST)
            fail_msg("%s (0x%04x): a HOST_ field of type %u", fields[i].name, fields[i].enc, type);
        if ((strncmp(fields[i].name, "EXIT_", 5) == 0 && strcmp(fields[i].name, "EXIT_CONTROLS") &&
             strncmp(fields[i].name, "EXIT_MSR_", 9)) && type != VMCS_TYPE_EXIT_INFO)
            fail_msg("%s (0x%04x): an exit-information field of type %u", fields[i].name,
                     fields[i].enc, type);
    }
}

static void test_no_encoding_twice(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIELDS; i++)
        for (size_t j = i + 1; j < NFIELDS; j++)
            if (fields[i].enc == fields[j].enc)
                fail_msg("%s and %s share encoding 0x%04x", fields[i].name, fields[j].name,
                         fields[i].enc);
}

/* Values typed from the tables of SDM vol. 3D appendix B, independently of the list. */
static void test_spot_encodings(void **state)
{
    (void)state;
    assert_int_equal(VMCS_VPID, 0x0000);
    assert_int_equal(VMCS_GUEST_TR_SEL, 0x080e);
    assert_int_equal(VMCS_HOST_TR_SEL, 0x0c0c);
    assert_int_equal(VMCS_EPT_POINTER, 0x201a);
    assert_int_equal(VMCS_EXIT_GPA, 0x2400);
    assert_int_equal(VMCS_GUEST_VMCS_LINK_PTR, 0x2800);
    assert_int_equal(VMCS_GUEST_IA32_EFER, 0x2806);
    assert_int_equal(VMCS_HOST_IA32_EFER, 0x2c02);
    assert_int_equal(VMCS_PIN_CONTROLS, 0x4000);
    assert_int_equal(VMCS_PROC_CONTROLS2, 0x401e);
    assert_int_equal(VMCS_EXIT_REASON, 0x4402);
    assert_int_equal(VMCS_EXIT_INSTRUCTION_LEN, 0x440c);
    assert_int_equal(VMCS_GUEST_INTERRUPTIBILITY, 0x4824);
    assert_int_equal(VMCS_GUEST_PREEMPTION_TIMER, 0x482e);
    assert_int_equal(VMCS_HOST_IA32_SYSENTER_CS, 0x4c00);
    assert_int_equal(VMCS_CR4_READ_SHADOW, 0x6006);
    assert_int_equal(VMCS_EXIT_QUALIFICATION, 0x6400);
    assert_int_equal(VMCS_EXIT_GLA, 0x640a);
    assert_int_equal(VMCS_GUEST_RIP, 0x681e);
    assert_int_equal(VMCS_HOST_RIP, 0x6c16);
    /* The segment fields are in the same order in every group: ES CS SS DS FS GS LDTR TR. */
    assert_int_equal(VMCS_GUEST_TR_AR - VMCS_GUEST_ES_AR, 14);
    assert_int_equal(VMCS_GUEST_TR_BASE - VMCS_GUEST_ES_BASE, 14);
    assert_int_equal(VMCS_GUEST_TR_LIMIT - VMCS_GUEST_ES_LIMIT, 14);
}

/* Capability MSRs of a Sandy Bridge (Core i7-2600K), as Bochs 2.7 models them. */
#define SNB_PROCBASED      UINT64_C(0xfff9fffe0401e172)
#define SNB_TRUE_PROCBASED UINT64_C(0xfff9fffe04006172)
#define SNB_TRUE_PINBASED  UINT64_C(0x0000007f00000016)
#define SNB_PROCBASED2     UINT64_C(0x000000ff00000000)

static void test_ctl_adjust_adds_forced_bits(void **state)
{
    (void)state;
    uint32_t out = 0, bad = 1;
    assert_true(vmx_ctl_adjust(SNB_TRUE_PINBASED, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING, 0, &out, &bad));
    assert_int_equal(bad, 0);
    /* Bits 1, 2 and 4 are default-1 (A.3.1). */
    assert_int_equal(out, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | BIT(1) | BIT(2) | BIT(4));
}

static void test_ctl_adjust_true_msrs_clear_cr3_exits(void **state)
{
    (void)state;
    uint32_t want = PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_SECONDARY;
    uint32_t forbid = PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING;
    uint32_t out = 0, bad = 0;
    /* The legacy MSR forces CR3 exits on ... */
    assert_false(vmx_ctl_adjust(SNB_PROCBASED, want, forbid, &out, &bad));
    assert_int_equal(bad, forbid);
    assert_int_equal(out, 0); /* untouched on failure */
    /* ... the TRUE one lets them be 0 (A.3.2). */
    assert_true(vmx_ctl_adjust(SNB_TRUE_PROCBASED, want, forbid, &out, &bad));
    assert_int_equal(out & forbid, 0);
    assert_int_equal(out & want, want);
    assert_int_equal(out & vmx_ctl_must1(SNB_TRUE_PROCBASED), vmx_ctl_must1(SNB_TRUE_PROCBASED));
    assert_int_equal(out & ~vmx_ctl_may1(SNB_TRUE_PROCBASED), 0);
}

static void test_ctl_adjust_refuses_missing_feature(void **state)
{
    (void)state;
    uint32_t out = 0x1234, bad = 0;
    /* No secondary controls beyond bit 7 on this CPU: bit 12 (INVPCID) cannot be 1. */
    assert_false(vmx_ctl_adjust(SNB_PROCBASED2, PROC2_EPT | PROC2_INVPCID, 0, &out, &bad));
    assert_int_equal(bad, PROC2_INVPCID);
    assert_int_equal(vmx_lowest_bit(bad), 12);
    assert_int_equal(out, 0x1234);
    assert_true(vmx_ctl_allowed(SNB_PROCBASED2, PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID));
    assert_false(vmx_ctl_allowed(SNB_PROCBASED2, PROC2_INVPCID));
    /* A CPU without secondary controls reads as 0: nothing allowed. */
    assert_false(vmx_ctl_allowed(0, PROC2_EPT));
}

static void test_segment_attr_conversion(void **state)
{
    (void)state;
    assert_int_equal(vmx_ar_from_attr(SEG_ATTR_CODE64), 0xa09b);
    assert_int_equal(vmx_ar_from_attr(SEG_ATTR_CODE32), 0xc09b);
    assert_int_equal(vmx_ar_from_attr(SEG_ATTR_DATA16), 0x0093);
    assert_int_equal(vmx_ar_from_attr(SEG_ATTR_TSS64), 0x008b);
    assert_int_equal(vmx_ar_from_attr(0), AR_UNUSABLE);
    const uint16_t attrs[] = { SEG_ATTR_CODE64, SEG_ATTR_CODE32, SEG_ATTR_DATA32, SEG_ATTR_CODE16,
                               SEG_ATTR_DATA16, SEG_ATTR_TSS64, SEG_ATTR_LDT, 0, 0xfff };
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        assert_int_equal(vmx_attr_from_ar(vmx_ar_from_attr(attrs[i])), attrs[i]);
    /* An unusable segment reads back as attr 0 whatever else the CPU left in the field. */
    assert_int_equal(vmx_attr_from_ar(AR_UNUSABLE | 0xc093), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_bits),
        cmocka_unit_test(test_access_type_and_reserved),
        cmocka_unit_test(test_type_matches_name),
        cmocka_unit_test(test_no_encoding_twice),
        cmocka_unit_test(test_spot_encodings),
        cmocka_unit_test(test_ctl_adjust_adds_forced_bits),
        cmocka_unit_test(test_ctl_adjust_true_msrs_clear_cr3_exits),
        cmocka_unit_test(test_ctl_adjust_refuses_missing_feature),
        cmocka_unit_test(test_segment_attr_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
