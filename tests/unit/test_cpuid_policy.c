// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/cpuid_policy.c: the hypervisor leaves, hidden features, topology.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "kernel/cpuid_policy.h"

static const struct cpuid_regs4 all_ones = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };

static void test_signature_leaf(void **state)
{
    struct cpuid_regs4 r = cpuid_policy(0x40000000, 0, all_ones, 0, 1);
    char sig[13];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    sig[12] = '\0';
    assert_string_equal(sig, "MoatMoatMoat");
    assert_int_equal(r.eax, 0x40000002);
    r = cpuid_policy(0x40000001, 0, all_ones, 0, 1);
    assert_int_equal(r.eax, CPUID_HV_INTERFACE);
    assert_int_equal(r.ebx | r.ecx | r.edx, 0);
    r = cpuid_policy(0x40000002, 0, all_ones, 0, 1); /* PCI: ECAM at 0xb0000000, one bus */
    assert_int_equal(r.eax, 0xb0000000);
    assert_int_equal(r.ebx, 0);
    assert_int_equal(r.ecx, 1);
    assert_int_equal(r.edx, 0);
    r = cpuid_policy(0x400000ff, 0, all_ones, 0, 1);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_leaf1(void **state)
{
    struct cpuid_regs4 host = { 0x000906ea, 0x00ff0800, 0x7ffafbff, 0xbfebfbff };
    struct cpuid_regs4 r = cpuid_policy(1, 0, host, 3, 4);
    assert_int_equal(r.eax, host.eax);
    assert_true(r.ecx & (1u << 31));         /* hypervisor present */
    assert_false(r.ecx & (1u << 5));         /* VMX hidden */
    assert_false(r.ecx & (1u << 3));         /* MONITOR hidden */
    assert_false(r.ecx & (1u << 21));        /* x2APIC hidden */
    assert_false(r.edx & (1u << 9));         /* no local APIC offered */
    assert_false(r.ecx & (1u << 26));        /* XSAVE, OSXSAVE, AVX hidden */
    assert_false(r.ecx & (1u << 27));
    assert_false(r.ecx & (1u << 28));
    assert_true(r.ecx & (1u << 0));          /* SSE3 stays */
    assert_int_equal(r.ebx >> 24, 3);        /* initial APIC ID = vCPU id */
    assert_int_equal((r.ebx >> 16) & 0xff, 4);
    assert_int_equal(r.ebx & 0xffff, 0x0800); /* CLFLUSH size and brand kept */
    assert_true(r.edx & (1u << 28));
    r = cpuid_policy(1, 0, host, 0, 1);
    assert_false(r.edx & (1u << 28));        /* one vCPU: no HTT */
    /* Unrelated bits of the host survive. */
    uint32_t changed = (1u << 31) | (1u << 29) | (1u << 28) | (1u << 27) | (1u << 26) | (1u << 24) |
                       (1u << 21) | (1u << 12) | (1u << 5) | (1u << 3);
    assert_int_equal(r.ecx & ~changed, host.ecx & ~changed);
}

static void test_xsave_family_hidden(void **state)
{
    struct cpuid_regs4 r = cpuid_policy(7, 0, all_ones, 0, 1);
    assert_false(r.ebx & (1u << 5));   /* AVX2 */
    assert_false(r.ebx & (1u << 16));  /* AVX512F */
    assert_true(r.ebx & (1u << 0));    /* FSGSBASE stays */
    assert_true(r.ebx & (1u << 9));    /* ERMS stays */
    r = cpuid_policy(7, 1, all_ones, 0, 1);
    assert_int_equal(r.ebx, 0xffffffffu); /* other subleaves untouched */
    r = cpuid_policy(0xd, 0, all_ones, 0, 1);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_svm_hidden(void **state)
{
    struct cpuid_regs4 r = cpuid_policy(0x80000001, 0, all_ones, 0, 2);
    assert_false(r.ecx & (1u << 2));
    assert_false(r.ecx & (1u << 22));
    assert_true(r.edx & (1u << 29)); /* long mode stays */
    r = cpuid_policy(0x8000000a, 0, all_ones, 0, 2);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_topology(void **state)
{
    for (uint32_t n = 1; n <= 9; n++) {
        for (uint32_t id = 0; id < n; id++) {
            struct cpuid_regs4 s0 = cpuid_policy(0xb, 0, all_ones, id, n);
            struct cpuid_regs4 s1 = cpuid_policy(0xb, 1, all_ones, id, n);
            struct cpuid_regs4 s2 = cpuid_policy(0xb, 2, all_ones, id, n);
            assert_int_equal(s0.edx, id);
            assert_int_equal(s0.ebx, 1);
            assert_int_equal((s0.ecx >> 8) & 0xff, 1);
            assert_int_equal(s1.ebx, n);
            assert_int_equal((s1.ecx >> 8) & 0xff, 2);
            assert_true((1u << s1.eax) >= n);
            assert_true(s1.eax == 0 || (1u << (s1.eax - 1)) < n);
            assert_int_equal(s2.ebx, 0);
            assert_int_equal((s2.ecx >> 8) & 0xff, 0);
            struct cpuid_regs4 a = cpuid_policy(0x80000008, 0, all_ones, id, n);
            assert_int_equal(a.ecx & 0xff, n - 1);
        }
    }
    struct cpuid_regs4 cache = { 0x1c004121, 1, 2, 3 };
    struct cpuid_regs4 r = cpuid_policy(4, 0, cache, 0, 4);
    assert_int_equal(r.eax >> 26, 3);
    assert_int_equal(r.eax & 0x3fff, 0x0121);
    struct cpuid_regs4 nocache = { 0, 0, 0, 0 };
    r = cpuid_policy(4, 5, nocache, 0, 4);
    assert_int_equal(r.eax, 0);
}

static void test_passthrough(void **state)
{
    struct cpuid_regs4 host = { 1, 2, 3, 4 };
    struct cpuid_regs4 r = cpuid_policy(0, 0, host, 0, 1);
    assert_memory_equal(&r, &host, sizeof(r));
    r = cpuid_policy(5, 0, host, 0, 1);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_leaf),
        cmocka_unit_test(test_leaf1),
        cmocka_unit_test(test_svm_hidden),
        cmocka_unit_test(test_xsave_family_hidden),
        cmocka_unit_test(test_topology),
        cmocka_unit_test(test_passthrough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
