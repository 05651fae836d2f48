// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/msr_policy.c: the allow-list and the default refusal.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "kernel/msr_policy.h"

static void test_state_msrs_go_to_the_backend(void **state)
{
    const uint32_t idx[] = { 0x174, 0x175, 0x176, 0x277, 0xc0000080, 0xc0000081, 0xc0000082,
                             0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102 };
    for (unsigned i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        assert_int_equal(msr_policy(idx[i], false), MSR_BACKEND);
        assert_int_equal(msr_policy(idx[i], true), MSR_BACKEND);
    }
}

static void test_tsc_read_only(void **state)
{
    assert_int_equal(msr_policy(0x10, false), MSR_HOST_TSC);
    assert_int_equal(msr_policy(0x10, true), MSR_REFUSE);
}

static void test_microcode(void **state)
{
    assert_int_equal(msr_policy(0x8b, false), MSR_READS_ZERO);
    assert_int_equal(msr_policy(0x79, true), MSR_WRITE_IGNORED);
    assert_int_equal(msr_policy(0x79, false), MSR_REFUSE);
}

static void test_host_owned_msrs_refused(void **state)
{
    /* APIC base, feature control, VMX capabilities, SVM VM_CR / HSAVE, MTRRs, PM. */
    const uint32_t idx[] = { 0x1b, 0x3a, 0x480, 0x48c, 0xc0010114, 0xc0010117, 0x2ff, 0x200,
                             0x199, 0xe2, 0x0, 0xffffffffu };
    for (unsigned i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        assert_int_equal(msr_policy(idx[i], false), MSR_REFUSE);
        assert_int_equal(msr_policy(idx[i], true), MSR_REFUSE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_msrs_go_to_the_backend),
        cmocka_unit_test(test_tsc_read_only),
        cmocka_unit_test(test_microcode),
        cmocka_unit_test(test_host_owned_msrs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
