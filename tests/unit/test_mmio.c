// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/mmio.c: the device registry, the linear address of every memory
// operand form (64-bit, 32-bit and 16-bit addressing, segments, RIP-relative, moffs), and the
// decision to emulate or refuse a faulting access (kinds, direction, widths, straddling).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/mmio.h"

#define R   INSN_MODE_REAL
#define P32 INSN_MODE_PROT32
#define L64 INSN_MODE_LONG64

static void noop(struct vcpu *v, struct mmio_device *d, uint64_t offset, unsigned size,
                 bool is_write, uint64_t *value)
{
}

static struct insn dec(const char *hex, enum insn_mode mode)
{
    uint8_t buf[INSN_MAX_LEN];
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        assert_true(n < sizeof(buf));
        buf[n++] = (uint8_t)v;
        p += 2;
    }
    struct insn in;
    if (insn_decode(buf, n, mode, &in) != INSN_OK || in.length != n)
        fail_msg("cannot decode '%s'", hex);
    return in;
}

/* Registers: each GPR i holds 0x1000 * (i + 1) + i, so every sum names its parts. */
static uint64_t gpr[16];
static const uint64_t segs[6] = { 0x10000, 0x20000, 0x30000, 0x40000, 0x7000000000ull, 0x8000000000ull };

static int setup(void **state)
{
    for (unsigned i = 0; i < 16; i++)
        gpr[i] = 0x1000ull * (i + 1) + i;
    return 0;
}

static uint64_t la_of(const char *hex, enum insn_mode mode, uint64_t rip)
{
    struct insn in = dec(hex, mode);
    uint64_t la = 0;
    if (!mmio_linear_address(&in, gpr, rip + in.length, segs, &la))
        fail_msg("no address for '%s'", hex);
    return la;
}

static void test_registry(void **state)
{
    struct mmio_bus bus = { .count = 0 };
    struct mmio_device ecam = { 0xb0000000, 0x100000, noop, NULL, "ecam" };
    struct mmio_device regs = { 0xb0100000, 0x100, noop, NULL, "regs" };
    assert_true(mmio_add(&bus, &ecam));
    assert_true(mmio_add(&bus, &regs));
    assert_ptr_equal(mmio_find(&bus, 0xb0000000), &bus.devs[0]);
    assert_ptr_equal(mmio_find(&bus, 0xb00fffff), &bus.devs[0]);
    assert_ptr_equal(mmio_find(&bus, 0xb0100000), &bus.devs[1]);
    assert_ptr_equal(mmio_find(&bus, 0xb01000ff), &bus.devs[1]);
    assert_null(mmio_find(&bus, 0xb0100100));
    assert_null(mmio_find(&bus, 0xafffffff));

    struct mmio_device bad = regs;
    bad.base = 0xb00ff000; /* overlaps the ECAM window */
    assert_false(mmio_add(&bus, &bad));
    bad = regs, bad.base = 0xb01000f0;
    assert_false(mmio_add(&bus, &bad));
    bad = regs, bad.size = 0;
    bad.base = 0xc0000000;
    assert_false(mmio_add(&bus, &bad));
    bad = regs, bad.base = 0xfffffffffffff000ull, bad.size = 0x2000; /* wraps */
    assert_false(mmio_add(&bus, &bad));
    bad = regs, bad.base = 0xc0000000, bad.access = NULL;
    assert_false(mmio_add(&bus, &bad));
    for (unsigned i = 2; i < MMIO_DEVICES_MAX; i++) {
        struct mmio_device d = { 0xc0000000 + 0x1000ull * i, 0x100, noop, NULL, "x" };
        assert_true(mmio_add(&bus, &d));
    }
    struct mmio_device last = { 0xd0000000, 0x100, noop, NULL, "x" };
    assert_false(mmio_add(&bus, &last));
    assert_int_equal(bus.count, MMIO_DEVICES_MAX);
}

static void test_linear_64(void **state)
{
    const uint64_t rip = 0x100000;
    assert_int_equal(la_of("8b 03", L64, rip), gpr[3]);                         /* [rbx] */
    assert_int_equal(la_of("8b 43 10", L64, rip), gpr[3] + 0x10);               /* [rbx+0x10] */
    assert_int_equal(la_of("8b 43 f0", L64, rip), gpr[3] - 0x10);               /* [rbx-0x10] */
    assert_int_equal(la_of("8b 44 8b f0", L64, rip), gpr[3] + gpr[1] * 4 - 0x10); /* [rbx+rcx*4-16] */
    assert_int_equal(la_of("8b 04 24", L64, rip), gpr[4]);                      /* [rsp] */
    assert_int_equal(la_of("8b 45 00", L64, rip), gpr[5]);                      /* [rbp+0] */
    assert_int_equal(la_of("42 8b 04 23", L64, rip), gpr[3] + gpr[12]);         /* [rbx+r12] */
    assert_int_equal(la_of("41 8b 45 00", L64, rip), gpr[13]);                  /* [r13+0] */
    assert_int_equal(la_of("41 8b 04 24", L64, rip), gpr[12]);                  /* [r12] */
    assert_int_equal(la_of("8b 04 25 00 00 10 00", L64, rip), 0x100000);        /* [0x100000] */
    assert_int_equal(la_of("8b 04 25 00 00 0b b0", L64, rip), 0xffffffffb00b0000ull); /* disp32 sign-extends */
    assert_int_equal(la_of("8b 05 10 00 00 00", L64, rip), rip + 6 + 0x10);     /* [rip+0x10] */
    assert_int_equal(la_of("c7 05 f0 ff ff ff 01 00 00 00", L64, rip), rip + 10 - 0x10); /* imm after disp */
    assert_int_equal(la_of("67 8b 03", L64, rip), gpr[3] & 0xffffffff);        /* [ebx] */
    assert_int_equal(la_of("64 8b 03", L64, rip), segs[4] + gpr[3]);            /* fs: */
    assert_int_equal(la_of("65 8b 03", L64, rip), segs[5] + gpr[3]);            /* gs: */
    assert_int_equal(la_of("3e 8b 03", L64, rip), gpr[3]);                      /* ds: no base */
    assert_int_equal(la_of("36 8b 45 00", L64, rip), gpr[5]);                   /* ss: no base */
    assert_int_equal(la_of("a1 00 00 00 b0 00 00 00 00", L64, rip), 0xb0000000); /* moffs64 */
    assert_int_equal(la_of("48 a3 08 00 10 b0 00 00 00 00", L64, rip), 0xb0100008);
    assert_int_equal(la_of("0f b6 43 01", L64, rip), gpr[3] + 1);               /* movzx */
    assert_int_equal(la_of("88 24 8d 00 01 00 00", L64, rip), gpr[1] * 4 + 0x100); /* no base */

    struct insn in = dec("f3 a5", L64); /* rep movsd: implicit operands */
    uint64_t la;
    assert_false(mmio_linear_address(&in, gpr, rip, segs, &la));
    in = dec("01 d8", L64); /* add eax, ebx: no memory */
    assert_false(mmio_linear_address(&in, gpr, rip, segs, &la));
}

static void test_linear_32_16(void **state)
{
    /* 32-bit protected mode: every segment has a base; rBP/rSP-based forms use SS */
    assert_int_equal(la_of("8b 03", P32, 0), segs[3] + (gpr[3] & 0xffffffff));
    assert_int_equal(la_of("8b 45 08", P32, 0), segs[2] + gpr[5] + 8);
    assert_int_equal(la_of("8b 04 24", P32, 0), segs[2] + gpr[4]);
    assert_int_equal(la_of("8b 44 24 04", P32, 0), segs[2] + gpr[4] + 4);
    assert_int_equal(la_of("8b 05 00 10 00 00", P32, 0), segs[3] + 0x1000);   /* disp32 */
    assert_int_equal(la_of("8b 04 8d 00 10 00 00", P32, 0), segs[3] + gpr[1] * 4 + 0x1000);
    assert_int_equal(la_of("26 8b 03", P32, 0), segs[0] + gpr[3]);            /* es: */
    assert_int_equal(la_of("3e 8b 45 08", P32, 0), segs[3] + gpr[5] + 8);     /* ds: over ss */
    assert_int_equal(la_of("a1 00 00 0b b0", P32, 0), (segs[3] + 0xb00b0000) & 0xffffffff);
    /* 16-bit addressing (real mode): the BX/BP/SI/DI table, wrapping at 64 KiB */
    gpr[3] = 0x1234, gpr[5] = 0x2000, gpr[6] = 0x0010, gpr[7] = 0xfff0;
    assert_int_equal(la_of("8b 07", R, 0), segs[3] + 0x1234);                 /* [bx] */
    assert_int_equal(la_of("8b 00", R, 0), segs[3] + 0x1244);                 /* [bx+si] */
    assert_int_equal(la_of("8b 01", R, 0), segs[3] + ((0x1234 + 0xfff0) & 0xffff)); /* [bx+di] */
    assert_int_equal(la_of("8b 42 02", R, 0), segs[2] + 0x2012);              /* [bp+si+2] */
    assert_int_equal(la_of("8b 46 fe", R, 0), segs[2] + 0x1ffe);              /* [bp-2] */
    assert_int_equal(la_of("8b 06 34 12", R, 0), segs[3] + 0x1234);           /* [0x1234] */
    assert_int_equal(la_of("8b 04", R, 0), segs[3] + 0x0010);                 /* [si] */
    assert_int_equal(la_of("26 8b 05", R, 0), segs[0] + 0xfff0);              /* es:[di] */
    assert_int_equal(la_of("a1 00 80", R, 0), segs[3] + 0x8000);              /* moffs16 */
    assert_int_equal(la_of("67 8b 03", R, 0), segs[3] + gpr[3]);              /* 32-bit addressing */
}

static void test_plan(void **state)
{
    struct mmio_device d = { 0xb0000000, 0x100000, noop, NULL, "ecam" };
    struct mmio_access a;
    struct insn in = dec("8b 03", L64); /* mov eax, [rbx] */
    assert_int_equal(mmio_plan(&in, &d, 0xb0008000, false, true, 0x7fff8000, gpr, &a), MMIO_OK);
    assert_int_equal(a.offset, 0x8000);
    assert_int_equal(a.size, 4);
    assert_false(a.write);
    /* the direction must match the fault */
    assert_int_equal(mmio_plan(&in, &d, 0xb0008000, true, false, 0, gpr, &a), MMIO_R_DIRECTION);
    /* the last bytes of the window: 4 fit, 8 do not */
    assert_int_equal(mmio_plan(&in, &d, 0xb00ffffc, false, false, 0, gpr, &a), MMIO_OK);
    in = dec("48 8b 03", L64);
    assert_int_equal(mmio_plan(&in, &d, 0xb00ffffc, false, false, 0, gpr, &a), MMIO_R_PAST_END);
    assert_int_equal(mmio_plan(&in, &d, 0xb00ffff8, false, false, 0, gpr, &a), MMIO_OK);
    assert_int_equal(a.size, 8);
    /* a qword that started 4 bytes below the window faults at its first byte */
    assert_int_equal(mmio_plan(&in, &d, 0xb0000000, false, true, 0xafffffffcull, gpr, &a), MMIO_R_BELOW);
    assert_int_equal(mmio_plan(&in, &d, 0xb0000000, false, true, 0x12345000, gpr, &a), MMIO_OK);

    /* stores: the register's bytes, AH, immediates */
    gpr[0] = 0x1122334455667788ull;
    in = dec("89 03", L64);
    assert_int_equal(mmio_plan(&in, &d, 0xb0000010, true, false, 0, gpr, &a), MMIO_OK);
    assert_true(a.write);
    assert_int_equal(a.value, 0x55667788);
    in = dec("88 23", L64); /* mov [rbx], ah */
    assert_int_equal(mmio_plan(&in, &d, 0xb0000010, true, false, 0, gpr, &a), MMIO_OK);
    assert_int_equal(a.value, 0x77);
    assert_int_equal(a.size, 1);
    in = dec("66 c7 03 ff ff", L64); /* mov word [rbx], 0xffff */
    assert_int_equal(mmio_plan(&in, &d, 0xb0000010, true, false, 0, gpr, &a), MMIO_OK);
    assert_int_equal(a.value, 0xffff);
    assert_int_equal(a.size, 2);
    in = dec("48 c7 03 ff ff ff ff", L64); /* mov qword [rbx], -1 */
    assert_int_equal(mmio_plan(&in, &d, 0xb0000010, true, false, 0, gpr, &a), MMIO_OK);
    assert_int_equal(a.value, 0xffffffffffffffffull);
    in = dec("4c 89 3b", L64); /* mov [rbx], r15 */
    assert_int_equal(mmio_plan(&in, &d, 0xb0000010, true, false, 0, gpr, &a), MMIO_OK);
    assert_int_equal(a.value, gpr[15]);
    in = dec("a3 00 00 00 b0 00 00 00 00", L64); /* mov [moffs], eax */
    assert_int_equal(mmio_plan(&in, &d, 0xb0000000, true, false, 0, gpr, &a), MMIO_OK);
    assert_int_equal(a.value, 0x55667788);

    /* what is refused, by name */
    static const struct { const char *hex; enum mmio_refusal r; } refused[] = {
        { "f3 a5", MMIO_R_STRING },          /* rep movsd */
        { "ab", MMIO_R_STRING },             /* stosd */
        { "f0 01 03", MMIO_R_ATOMIC },       /* lock add [rbx], eax */
        { "87 03", MMIO_R_ATOMIC },          /* xchg [rbx], eax */
        { "0f b1 0b", MMIO_R_ATOMIC },       /* cmpxchg [rbx], ecx */
        { "01 03", MMIO_R_ALU },             /* add [rbx], eax */
        { "85 03", MMIO_R_ALU },             /* test [rbx], eax */
        { "0f 10 03", MMIO_R_SIMD },         /* movups xmm0, [rbx] */
        { "c5 f8 10 03", MMIO_R_SIMD },      /* vmovups xmm0, [rbx] */
        { "ff 33", MMIO_R_OTHER },           /* push qword [rbx] */
        { "0f 38 f0 03", MMIO_R_OTHER },     /* movbe eax, [rbx] */
        { "01 d8", MMIO_R_NO_MEM },          /* add eax, ebx */
    };
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        in = dec(refused[i].hex, L64);
        if (mmio_plan(&in, &d, 0xb0000010, true, false, 0, gpr, &a) != refused[i].r ||
            mmio_plan(&in, &d, 0xb0000010, false, false, 0, gpr, &a) != refused[i].r)
            fail_msg("'%s' is not refused as %d", refused[i].hex, refused[i].r);
        assert_true(strlen(mmio_refusal_text(refused[i].r)) > 10);
    }
}

/* The register written back by a load: the operand rules of SDM vol. 1 3.4.1.1. */
static void test_load_result(void **state)
{
    const uint64_t old = 0x1122334455667788ull;
    struct insn in = dec("8b 03", L64);
    assert_int_equal(insn_mmio_load_value(&in, old, 0xffffffff), 0xffffffffull);
    in = dec("66 8b 03", L64);
    assert_int_equal(insn_mmio_load_value(&in, old, 0xffffffff), 0x112233445566ffffull);
    in = dec("0f b7 03", L64); /* movzx eax, word */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x8000), 0x8000);
    in = dec("48 0f bf 03", L64); /* movsx rax, word */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x8000), 0xffffffffffff8000ull);
    in = dec("48 63 03", L64); /* movsxd rax, dword */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x80000000), 0xffffffff80000000ull);
    in = dec("8a 03", L64);
    assert_int_equal(insn_mmio_load_value(&in, old, 0xff), 0x11223344556677ffull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_registry, setup),
        cmocka_unit_test_setup(test_linear_64, setup),
        cmocka_unit_test_setup(test_linear_32_16, setup),
        cmocka_unit_test_setup(test_plan, setup),
        cmocka_unit_test_setup(test_load_result, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
