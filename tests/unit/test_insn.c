// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/insn.c: hand-written encodings (from Intel SDM vol. 2 and AMD APM
// vol. 3, assembly in each row) with their lengths and fields in every mode, ModRM/SIB/disp
// forms, MMIO semantics, invalid and over-long encodings, and truncation at every byte.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kernel/insn.h"

#define R   INSN_MODE_REAL
#define P16 INSN_MODE_PROT16
#define P32 INSN_MODE_PROT32
#define L64 INSN_MODE_LONG64
#define B1  INSN_MAP_1BYTE
#define M0F INSN_MAP_0F
#define M38 INSN_MAP_0F38
#define M3A INSN_MAP_0F3A

static const char *const mode_names[] = { "real", "prot16", "prot32", "long64" };

/* Table-driven checks name the failing row (its assembly and mode), then fail. */
static const char *ctx_text = "";
static unsigned ctx_mode;
#define CHECK(got, want)                                                                     \
    do {                                                                                     \
        unsigned long long got_ = (unsigned long long)(got);                                 \
        unsigned long long want_ = (unsigned long long)(want);                               \
        if (got_ != want_) {                                                                 \
            print_message("%s (%s): %s = 0x%llx, want 0x%llx\n", ctx_text,                  \
                          mode_names[ctx_mode], #got, got_, want_);                          \
            fail();                                                                          \
        }                                                                                    \
    } while (0)

/* "0f 01 d9" -> bytes; returns the count. */
static size_t parse_hex(const char *s, uint8_t *buf, size_t max)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(s, "%2x", &v), 1);
        assert_true(n < max);
        buf[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

/* Decode from a heap buffer of exactly `avail` bytes, so that ASan catches any read past
 * the end (malloc(0) may return NULL, which insn_decode accepts with avail 0). */
static int decode_exact(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct insn *out)
{
    uint8_t *copy = avail ? malloc(avail) : NULL;
    if (avail) {
        assert_non_null(copy);
        memcpy(copy, bytes, avail);
    }
    int rc = insn_decode(copy, avail, mode, out);
    free(copy);
    return rc;
}

/* Every way of fetching fewer bytes than the instruction needs gives NEED_MORE with
 * avail < need <= len (or the same error as the full decode), and fetching exactly `need`
 * bytes again and again converges on the full result. */
static void check_truncations(const uint8_t *bytes, size_t n, enum insn_mode mode, const char *what)
{
    struct insn full, part;
    int rc = decode_exact(bytes, n, mode, &full);
    size_t limit = rc == INSN_OK ? full.length : n;
    for (size_t k = 0; k < limit; k++) {
        int prc = decode_exact(bytes, k, mode, &part);
        if (prc == INSN_ERR_NEED_MORE) {
            if (part.need <= k || part.need > (rc == INSN_OK ? full.length : INSN_MAX_LEN)) {
                print_message("%s (%s): avail %zu gives need %u\n", what, mode_names[mode], k,
                              part.need);
                fail();
            }
        } else if (prc != rc || rc == INSN_OK) {
            print_message("%s (%s): avail %zu gives %d, full decode %d\n", what,
                          mode_names[mode], k, prc, rc);
            fail();
        }
    }
    /* The fetch loop a VM-exit handler would run. */
    size_t avail = 0;
    int steps = 0, lrc;
    while ((lrc = decode_exact(bytes, avail, mode, &part)) == INSN_ERR_NEED_MORE) {
        assert_true(part.need > avail && part.need <= INSN_MAX_LEN);
        avail = part.need;
        assert_true(avail <= n);
        assert_true(++steps <= INSN_MAX_LEN);
    }
    assert_int_equal(lrc, rc);
    if (rc == INSN_OK)
        assert_memory_equal(&part, &full, sizeof(full));
}

/* ---- lengths and fields ----------------------------------------------------------- */

struct len_case {
    uint8_t mode;
    const char *hex;
    uint8_t len, map, opcode, osz, asz, dsz, isz;
    const char *text;
};

#define CASE(mode, hex, len, map, op, osz, asz, dsz, isz, text) \
    { mode, hex, len, map, op, osz, asz, dsz, isz, text }

static const struct len_case len_cases[] = {
    /* Exit-causing instructions, real mode (16-bit defaults). */
    CASE(R, "0f a2", 2, M0F, 0xa2, 2, 2, 0, 0, "cpuid"),
    CASE(R, "66 0f a2", 3, M0F, 0xa2, 4, 2, 0, 0, "o32 cpuid"),
    CASE(R, "0f 32", 2, M0F, 0x32, 2, 2, 0, 0, "rdmsr"),
    CASE(R, "0f 30", 2, M0F, 0x30, 2, 2, 0, 0, "wrmsr"),
    CASE(R, "0f 31", 2, M0F, 0x31, 2, 2, 0, 0, "rdtsc"),
    CASE(R, "f4", 1, B1, 0xf4, 2, 2, 0, 0, "hlt"),
    CASE(R, "f3 90", 2, B1, 0x90, 2, 2, 0, 0, "pause"),
    CASE(R, "e4 60", 2, B1, 0xe4, 2, 2, 0, 1, "in al, 0x60"),
    CASE(R, "e6 80", 2, B1, 0xe6, 2, 2, 0, 1, "out 0x80, al"),
    CASE(R, "ec", 1, B1, 0xec, 2, 2, 0, 0, "in al, dx"),
    CASE(R, "ef", 1, B1, 0xef, 2, 2, 0, 0, "out dx, ax"),
    CASE(R, "66 ed", 2, B1, 0xed, 4, 2, 0, 0, "in eax, dx"),
    CASE(R, "f3 6c", 2, B1, 0x6c, 2, 2, 0, 0, "rep insb"),
    CASE(R, "f3 66 6f", 3, B1, 0x6f, 4, 2, 0, 0, "rep outsd"),
    CASE(R, "67 f3 6d", 3, B1, 0x6d, 2, 4, 0, 0, "rep insw (a32)"),
    CASE(R, "0f 01 d9", 3, M0F, 0x01, 2, 2, 0, 0, "vmmcall"),
    CASE(R, "0f 01 c1", 3, M0F, 0x01, 2, 2, 0, 0, "vmcall"),
    CASE(R, "0f 01 3f", 3, M0F, 0x01, 2, 2, 0, 0, "invlpg [bx]"),
    CASE(R, "0f 01 3e 34 12", 5, M0F, 0x01, 2, 2, 2, 0, "invlpg [0x1234]"),
    CASE(R, "0f 20 c0", 3, M0F, 0x20, 4, 2, 0, 0, "mov eax, cr0"),
    CASE(R, "0f 22 c0", 3, M0F, 0x22, 4, 2, 0, 0, "mov cr0, eax"),
    CASE(R, "cd 10", 2, B1, 0xcd, 2, 2, 0, 1, "int 0x10"),
    CASE(R, "cf", 1, B1, 0xcf, 2, 2, 0, 0, "iret"),
    CASE(R, "66 ea 00 00 10 00 08 00", 8, B1, 0xea, 4, 2, 0, 6, "jmp far 0x8:0x100000"),
    CASE(R, "c4 1e 34 12", 4, B1, 0xc4, 2, 2, 2, 0, "les bx, [0x1234]"),
    CASE(R, "c5 06 34 12", 4, B1, 0xc5, 2, 2, 2, 0, "lds ax, [0x1234]"),

    /* 16-bit protected mode. */
    CASE(P16, "0f a2", 2, M0F, 0xa2, 2, 2, 0, 0, "cpuid"),
    CASE(P16, "0f 32", 2, M0F, 0x32, 2, 2, 0, 0, "rdmsr"),
    CASE(P16, "0f 30", 2, M0F, 0x30, 2, 2, 0, 0, "wrmsr"),
    CASE(P16, "0f 31", 2, M0F, 0x31, 2, 2, 0, 0, "rdtsc"),
    CASE(P16, "f4", 1, B1, 0xf4, 2, 2, 0, 0, "hlt"),
    CASE(P16, "f3 90", 2, B1, 0x90, 2, 2, 0, 0, "pause"),
    CASE(P16, "2e 0f 01 c1", 4, M0F, 0x01, 2, 2, 0, 0, "cs vmcall"),
    CASE(P16, "e5 40", 2, B1, 0xe5, 2, 2, 0, 1, "in ax, 0x40"),
    CASE(P16, "66 e7 40", 3, B1, 0xe7, 4, 2, 0, 1, "out 0x40, eax"),
    CASE(P16, "26 f3 6e", 3, B1, 0x6e, 2, 2, 0, 0, "rep outsb es:[si]"),
    CASE(P16, "0f 01 3e 34 12", 5, M0F, 0x01, 2, 2, 2, 0, "invlpg [0x1234]"),
    CASE(P16, "66 67 0f 01 3d 78 56 34 12", 9, M0F, 0x01, 4, 4, 4, 0,
         "invlpg [0x12345678] (a32)"),
    CASE(P16, "0f 01 d9", 3, M0F, 0x01, 2, 2, 0, 0, "vmmcall"),
    CASE(P16, "0f 22 d8", 3, M0F, 0x22, 4, 2, 0, 0, "mov cr3, eax"),
    CASE(P16, "b8 34 12", 3, B1, 0xb8, 2, 2, 0, 2, "mov ax, 0x1234"),
    CASE(P16, "66 b8 78 56 34 12", 6, B1, 0xb8, 4, 2, 0, 4, "mov eax, 0x12345678"),
    CASE(P16, "e8 34 12", 3, B1, 0xe8, 2, 2, 0, 2, "call rel16"),
    CASE(P16, "66 e8 78 56 34 12", 6, B1, 0xe8, 4, 2, 0, 4, "call rel32"),
    CASE(P16, "0f 84 00 01", 4, M0F, 0x84, 2, 2, 0, 2, "jz rel16"),
    CASE(P16, "ea 5b e0 00 f0", 5, B1, 0xea, 2, 2, 0, 4, "jmp far 0xf000:0xe05b"),
    CASE(P16, "0f 0f 06 34 12 9e", 6, M0F, 0x0f, 2, 2, 2, 1, "pfadd mm0, [0x1234]"),
    CASE(P16, "c5 06 34 12", 4, B1, 0xc5, 2, 2, 2, 0, "lds ax, [0x1234]"),
    CASE(P16, "c5 f8 77", 3, M0F, 0x77, 2, 2, 0, 0, "vzeroupper"),

    /* 32-bit protected mode. */
    CASE(P32, "0f a2", 2, M0F, 0xa2, 4, 4, 0, 0, "cpuid"),
    CASE(P32, "66 0f a2", 3, M0F, 0xa2, 2, 4, 0, 0, "o16 cpuid"),
    CASE(P32, "0f 32", 2, M0F, 0x32, 4, 4, 0, 0, "rdmsr"),
    CASE(P32, "0f 30", 2, M0F, 0x30, 4, 4, 0, 0, "wrmsr"),
    CASE(P32, "0f 31", 2, M0F, 0x31, 4, 4, 0, 0, "rdtsc"),
    CASE(P32, "0f 01 f9", 3, M0F, 0x01, 4, 4, 0, 0, "rdtscp"),
    CASE(P32, "f4", 1, B1, 0xf4, 4, 4, 0, 0, "hlt"),
    CASE(P32, "f3 90", 2, B1, 0x90, 4, 4, 0, 0, "pause"),
    CASE(P32, "e5 71", 2, B1, 0xe5, 4, 4, 0, 1, "in eax, 0x71"),
    CASE(P32, "66 e5 71", 3, B1, 0xe5, 2, 4, 0, 1, "in ax, 0x71"),
    CASE(P32, "ee", 1, B1, 0xee, 4, 4, 0, 0, "out dx, al"),
    CASE(P32, "f3 6f", 2, B1, 0x6f, 4, 4, 0, 0, "rep outsd"),
    CASE(P32, "67 66 f3 6d", 4, B1, 0x6d, 2, 2, 0, 0, "rep insw (a16)"),
    CASE(P32, "0f 01 d9", 3, M0F, 0x01, 4, 4, 0, 0, "vmmcall"),
    CASE(P32, "0f 01 c1", 3, M0F, 0x01, 4, 4, 0, 0, "vmcall"),
    CASE(P32, "0f 01 38", 3, M0F, 0x01, 4, 4, 0, 0, "invlpg [eax]"),
    CASE(P32, "0f 01 3d 78 56 34 12", 7, M0F, 0x01, 4, 4, 4, 0, "invlpg [0x12345678]"),
    CASE(P32, "0f 01 7c 24 04", 5, M0F, 0x01, 4, 4, 1, 0, "invlpg [esp+4]"),
    CASE(P32, "67 0f 01 3e 34 12", 6, M0F, 0x01, 4, 2, 2, 0, "invlpg [0x1234] (a16)"),
    CASE(P32, "0f 20 c0", 3, M0F, 0x20, 4, 4, 0, 0, "mov eax, cr0"),
    CASE(P32, "66 0f 22 e0", 4, M0F, 0x22, 4, 4, 0, 0, "mov cr4, eax (66 ignored)"),
    CASE(P32, "0f 21 f8", 3, M0F, 0x21, 4, 4, 0, 0, "mov eax, dr7"),
    CASE(P32, "0f 09", 2, M0F, 0x09, 4, 4, 0, 0, "wbinvd"),
    CASE(P32, "0f 01 d1", 3, M0F, 0x01, 4, 4, 0, 0, "xsetbv"),
    CASE(P32, "cd 80", 2, B1, 0xcd, 4, 4, 0, 1, "int 0x80"),
    CASE(P32, "9a 78 56 34 12 08 00", 7, B1, 0x9a, 4, 4, 0, 6, "call far 0x8:0x12345678"),
    CASE(P32, "0f 84 00 01 00 00", 6, M0F, 0x84, 4, 4, 0, 4, "jz rel32"),
    CASE(P32, "06", 1, B1, 0x06, 4, 4, 0, 0, "push es"),
    CASE(P32, "27", 1, B1, 0x27, 4, 4, 0, 0, "daa"),
    CASE(P32, "60", 1, B1, 0x60, 4, 4, 0, 0, "pusha"),
    CASE(P32, "82 03 01", 3, B1, 0x82, 4, 4, 0, 1, "add byte [ebx], 1 (82 alias)"),
    CASE(P32, "d4 0a", 2, B1, 0xd4, 4, 4, 0, 1, "aam"),
    CASE(P32, "ce", 1, B1, 0xce, 4, 4, 0, 0, "into"),
    CASE(P32, "40", 1, B1, 0x40, 4, 4, 0, 0, "inc eax"),
    CASE(P32, "0f 0f 43 08 9e", 5, M0F, 0x0f, 4, 4, 1, 1, "pfadd mm0, [ebx+8]"),
    CASE(P32, "c5 06", 2, B1, 0xc5, 4, 4, 0, 0, "lds eax, [esi]"),
    CASE(P32, "c4 03", 2, B1, 0xc4, 4, 4, 0, 0, "les eax, [ebx]"),
    CASE(P32, "62 03", 2, B1, 0x62, 4, 4, 0, 0, "bound eax, [ebx]"),
    CASE(P32, "c5 f8 77", 3, M0F, 0x77, 4, 4, 0, 0, "vzeroupper"),
    CASE(P32, "c4 e2 79 18 03", 5, M38, 0x18, 4, 4, 0, 0, "vbroadcastss xmm0, [ebx]"),
    CASE(P32, "62 f1 7c 48 10 03", 6, M0F, 0x10, 4, 4, 0, 0, "vmovups zmm0, [ebx]"),

    /* 64-bit mode. */
    CASE(L64, "0f a2", 2, M0F, 0xa2, 4, 8, 0, 0, "cpuid"),
    CASE(L64, "48 0f a2", 3, M0F, 0xa2, 8, 8, 0, 0, "rex.w cpuid"),
    CASE(L64, "66 0f a2", 3, M0F, 0xa2, 2, 8, 0, 0, "o16 cpuid"),
    CASE(L64, "66 66 66 2e 3e 0f a2", 7, M0F, 0xa2, 2, 8, 0, 0, "cpuid, redundant prefixes"),
    CASE(L64, "0f 32", 2, M0F, 0x32, 4, 8, 0, 0, "rdmsr"),
    CASE(L64, "0f 30", 2, M0F, 0x30, 4, 8, 0, 0, "wrmsr"),
    CASE(L64, "0f 31", 2, M0F, 0x31, 4, 8, 0, 0, "rdtsc"),
    CASE(L64, "0f 01 f9", 3, M0F, 0x01, 4, 8, 0, 0, "rdtscp"),
    CASE(L64, "0f 33", 2, M0F, 0x33, 4, 8, 0, 0, "rdpmc"),
    CASE(L64, "f4", 1, B1, 0xf4, 4, 8, 0, 0, "hlt"),
    CASE(L64, "2e 2e 2e f4", 4, B1, 0xf4, 4, 8, 0, 0, "hlt, redundant cs"),
    CASE(L64, "f3 90", 2, B1, 0x90, 4, 8, 0, 0, "pause"),
    CASE(L64, "e5 71", 2, B1, 0xe5, 4, 8, 0, 1, "in eax, 0x71"),
    CASE(L64, "66 e7 70", 3, B1, 0xe7, 2, 8, 0, 1, "out 0x70, ax"),
    CASE(L64, "ed", 1, B1, 0xed, 4, 8, 0, 0, "in eax, dx"),
    CASE(L64, "66 ef", 2, B1, 0xef, 2, 8, 0, 0, "out dx, ax"),
    CASE(L64, "f3 6d", 2, B1, 0x6d, 4, 8, 0, 0, "rep insd"),
    CASE(L64, "67 f3 6c", 3, B1, 0x6c, 4, 4, 0, 0, "rep insb (a32)"),
    CASE(L64, "f3 66 6f", 3, B1, 0x6f, 2, 8, 0, 0, "rep outsw"),
    CASE(L64, "64 f3 6e", 3, B1, 0x6e, 4, 8, 0, 0, "rep outsb fs:[rsi]"),
    CASE(L64, "0f 01 d9", 3, M0F, 0x01, 4, 8, 0, 0, "vmmcall"),
    CASE(L64, "0f 01 c1", 3, M0F, 0x01, 4, 8, 0, 0, "vmcall"),
    CASE(L64, "0f 01 d8", 3, M0F, 0x01, 4, 8, 0, 0, "vmrun"),
    CASE(L64, "0f 01 df", 3, M0F, 0x01, 4, 8, 0, 0, "invlpga"),
    CASE(L64, "0f 01 38", 3, M0F, 0x01, 4, 8, 0, 0, "invlpg [rax]"),
    CASE(L64, "0f 01 3d 00 10 00 00", 7, M0F, 0x01, 4, 8, 4, 0, "invlpg [rip+0x1000]"),
    CASE(L64, "41 0f 01 7d 00", 5, M0F, 0x01, 4, 8, 1, 0, "invlpg [r13+0]"),
    CASE(L64, "41 0f 01 3c 24", 5, M0F, 0x01, 4, 8, 0, 0, "invlpg [r12]"),
    CASE(L64, "0f 20 d8", 3, M0F, 0x20, 8, 8, 0, 0, "mov rax, cr3"),
    CASE(L64, "44 0f 20 c0", 4, M0F, 0x20, 8, 8, 0, 0, "mov rax, cr8"),
    CASE(L64, "0f 22 e0", 3, M0F, 0x22, 8, 8, 0, 0, "mov cr4, rax"),
    CASE(L64, "41 0f 22 d8", 4, M0F, 0x22, 8, 8, 0, 0, "mov cr3, r8"),
    CASE(L64, "66 0f 20 c0", 4, M0F, 0x20, 8, 8, 0, 0, "mov rax, cr0 (66 ignored)"),
    CASE(L64, "0f 20 18", 3, M0F, 0x20, 8, 8, 0, 0, "mov rax, cr3 (mod 00 ignored)"),
    CASE(L64, "f0 0f 20 c0", 4, M0F, 0x20, 8, 8, 0, 0, "lock mov rax, cr0 (AMD: cr8)"),
    CASE(L64, "0f 21 f8", 3, M0F, 0x21, 8, 8, 0, 0, "mov rax, dr7"),
    CASE(L64, "0f 23 c0", 3, M0F, 0x23, 8, 8, 0, 0, "mov dr0, rax"),
    CASE(L64, "0f 01 d1", 3, M0F, 0x01, 4, 8, 0, 0, "xsetbv"),
    CASE(L64, "0f 08", 2, M0F, 0x08, 4, 8, 0, 0, "invd"),
    CASE(L64, "0f 09", 2, M0F, 0x09, 4, 8, 0, 0, "wbinvd"),
    CASE(L64, "0f 01 c8", 3, M0F, 0x01, 4, 8, 0, 0, "monitor"),
    CASE(L64, "0f 01 c9", 3, M0F, 0x01, 4, 8, 0, 0, "mwait"),
    CASE(L64, "0f 06", 2, M0F, 0x06, 4, 8, 0, 0, "clts"),
    CASE(L64, "0f 01 f0", 3, M0F, 0x01, 4, 8, 0, 0, "lmsw ax"),
    CASE(L64, "0f 00 d8", 3, M0F, 0x00, 4, 8, 0, 0, "ltr ax"),
    CASE(L64, "0f 01 15 00 00 00 00", 7, M0F, 0x01, 4, 8, 4, 0, "lgdt [rip+0]"),
    CASE(L64, "0f aa", 2, M0F, 0xaa, 4, 8, 0, 0, "rsm"),
    CASE(L64, "cc", 1, B1, 0xcc, 4, 8, 0, 0, "int3"),
    CASE(L64, "f1", 1, B1, 0xf1, 4, 8, 0, 0, "int1"),
    CASE(L64, "48 cf", 2, B1, 0xcf, 8, 8, 0, 0, "iretq"),
    CASE(L64, "9c", 1, B1, 0x9c, 8, 8, 0, 0, "pushfq"),
    CASE(L64, "66 9d", 2, B1, 0x9d, 2, 8, 0, 0, "popfw"),

    /* Immediates: Iv, Iz, Ib, Iw, ENTER, group 3, d64/f64 operand sizes. */
    CASE(L64, "48 b8 88 77 66 55 44 33 22 11", 10, B1, 0xb8, 8, 8, 0, 8,
         "mov rax, 0x1122334455667788"),
    CASE(L64, "49 bf 88 77 66 55 44 33 22 11", 10, B1, 0xbf, 8, 8, 0, 8, "mov r15, imm64"),
    CASE(L64, "b8 78 56 34 12", 5, B1, 0xb8, 4, 8, 0, 4, "mov eax, 0x12345678"),
    CASE(L64, "66 b8 34 12", 4, B1, 0xb8, 2, 8, 0, 2, "mov ax, 0x1234"),
    CASE(L64, "48 66 b8 34 12", 5, B1, 0xb8, 2, 8, 0, 2, "mov ax, 0x1234 (REX ignored)"),
    CASE(L64, "66 48 b8 88 77 66 55 44 33 22 11", 11, B1, 0xb8, 8, 8, 0, 8,
         "mov rax, imm64 (REX.W beats 66)"),
    CASE(L64, "b4 12", 2, B1, 0xb4, 4, 8, 0, 1, "mov ah, 0x12"),
    CASE(L64, "68 78 56 34 12", 5, B1, 0x68, 8, 8, 0, 4, "push 0x12345678"),
    CASE(L64, "66 68 34 12", 4, B1, 0x68, 2, 8, 0, 2, "pushw 0x1234"),
    CASE(L64, "6a ff", 2, B1, 0x6a, 8, 8, 0, 1, "push -1"),
    CASE(L64, "e8 00 00 00 00", 5, B1, 0xe8, 8, 8, 0, 4, "call rel32"),
    CASE(L64, "66 e8 00 00 00 00", 6, B1, 0xe8, 8, 8, 0, 4, "call rel32 (66 ignored)"),
    CASE(L64, "0f 84 00 01 00 00", 6, M0F, 0x84, 8, 8, 0, 4, "jz rel32"),
    CASE(L64, "eb fe", 2, B1, 0xeb, 8, 8, 0, 1, "jmp $"),
    CASE(L64, "ff d0", 2, B1, 0xff, 8, 8, 0, 0, "call rax"),
    CASE(L64, "66 ff 30", 3, B1, 0xff, 2, 8, 0, 0, "push word [rax]"),
    CASE(L64, "c2 08 00", 3, B1, 0xc2, 8, 8, 0, 2, "ret 8"),
    CASE(L64, "c8 10 00 01", 4, B1, 0xc8, 8, 8, 0, 3, "enter 16, 1"),
    CASE(L64, "f6 03 5a", 3, B1, 0xf6, 4, 8, 0, 1, "test byte [rbx], 0x5a"),
    CASE(L64, "f6 0b 5a", 3, B1, 0xf6, 4, 8, 0, 1, "test byte [rbx], 0x5a (/1)"),
    CASE(L64, "f6 13", 2, B1, 0xf6, 4, 8, 0, 0, "not byte [rbx]"),
    CASE(L64, "f7 03 78 56 34 12", 6, B1, 0xf7, 4, 8, 0, 4, "test dword [rbx], imm32"),
    CASE(L64, "66 f7 03 34 12", 5, B1, 0xf7, 2, 8, 0, 2, "test word [rbx], imm16"),
    CASE(L64, "48 f7 c0 ff ff ff ff", 7, B1, 0xf7, 8, 8, 0, 4, "test rax, -1"),
    CASE(L64, "f7 1b", 2, B1, 0xf7, 4, 8, 0, 0, "neg dword [rbx]"),
    CASE(L64, "f7 f1", 2, B1, 0xf7, 4, 8, 0, 0, "div ecx"),
    CASE(L64, "80 03 01", 3, B1, 0x80, 4, 8, 0, 1, "add byte [rbx], 1"),
    CASE(L64, "81 03 78 56 34 12", 6, B1, 0x81, 4, 8, 0, 4, "add dword [rbx], imm32"),
    CASE(L64, "66 81 03 34 12", 5, B1, 0x81, 2, 8, 0, 2, "add word [rbx], imm16"),
    CASE(L64, "83 03 01", 3, B1, 0x83, 4, 8, 0, 1, "add dword [rbx], 1"),
    CASE(L64, "69 c0 78 56 34 12", 6, B1, 0x69, 4, 8, 0, 4, "imul eax, eax, imm32"),
    CASE(L64, "6b c0 10", 3, B1, 0x6b, 4, 8, 0, 1, "imul eax, eax, 16"),
    CASE(L64, "c0 e0 04", 3, B1, 0xc0, 4, 8, 0, 1, "shl al, 4"),
    CASE(L64, "a8 01", 2, B1, 0xa8, 4, 8, 0, 1, "test al, 1"),
    CASE(L64, "a9 78 56 34 12", 5, B1, 0xa9, 4, 8, 0, 4, "test eax, imm32"),
    CASE(L64, "0f ba e0 05", 4, M0F, 0xba, 4, 8, 0, 1, "bt eax, 5"),
    CASE(L64, "0f a4 c2 04", 4, M0F, 0xa4, 4, 8, 0, 1, "shld edx, eax, 4"),
    CASE(L64, "0f 78 c8", 3, M0F, 0x78, 8, 8, 0, 0, "vmread rax, rcx"),
    CASE(L64, "66 0f 78 c0 08 10", 6, M0F, 0x78, 8, 8, 0, 2, "extrq xmm0, 8, 16 (SSE4a)"),
    CASE(L64, "f2 0f 78 c1 08 10", 6, M0F, 0x78, 8, 8, 0, 2, "insertq xmm0, xmm1, 8, 16"),
    CASE(L64, "0f 0f c1 9e", 4, M0F, 0x0f, 4, 8, 0, 1, "pfadd mm0, mm1 (3DNow!)"),
    CASE(L64, "0f c2 c1 00", 4, M0F, 0xc2, 4, 8, 0, 1, "cmpeqps xmm0, xmm1"),
    CASE(L64, "66 0f 73 d0 04", 5, M0F, 0x73, 2, 8, 0, 1, "psrlq xmm0, 4"),
    CASE(L64, "66 0f 38 00 c1", 5, M38, 0x00, 2, 8, 0, 0, "pshufb xmm0, xmm1"),
    CASE(L64, "0f 38 f0 03", 4, M38, 0xf0, 4, 8, 0, 0, "movbe eax, [rbx]"),
    CASE(L64, "66 0f 3a 0f c1 08", 6, M3A, 0x0f, 2, 8, 0, 1, "palignr xmm0, xmm1, 8"),
    CASE(L64, "66 0f 3a 16 c0 01", 6, M3A, 0x16, 2, 8, 0, 1, "pextrd eax, xmm0, 1"),
    CASE(L64, "0f c8", 2, M0F, 0xc8, 4, 8, 0, 0, "bswap eax"),
    CASE(L64, "41 0f c8", 3, M0F, 0xc8, 4, 8, 0, 0, "bswap r8d"),

    /* VEX and EVEX (SDM vol. 2 2.3, 2.7). */
    CASE(L64, "c5 f8 77", 3, M0F, 0x77, 4, 8, 0, 0, "vzeroupper"),
    CASE(L64, "c5 fc 77", 3, M0F, 0x77, 4, 8, 0, 0, "vzeroall"),
    CASE(L64, "c5 f9 6f 03", 4, M0F, 0x6f, 4, 8, 0, 0, "vmovdqa xmm0, [rbx]"),
    CASE(L64, "c5 fe 6f 44 24 10", 6, M0F, 0x6f, 4, 8, 1, 0, "vmovdqu ymm0, [rsp+0x10]"),
    CASE(L64, "c5 f9 70 c1 1b", 5, M0F, 0x70, 4, 8, 0, 1, "vpshufd xmm0, xmm1, 0x1b"),
    CASE(L64, "c4 e2 79 18 03", 5, M38, 0x18, 4, 8, 0, 0, "vbroadcastss xmm0, [rbx]"),
    CASE(L64, "c4 e3 79 0f c1 04", 6, M3A, 0x0f, 4, 8, 0, 1, "vpalignr xmm0, xmm0, xmm1, 4"),
    CASE(L64, "c4 c1 78 10 04 24", 6, M0F, 0x10, 4, 8, 0, 0, "vmovups xmm0, [r12]"),
    CASE(L64, "c4 e1 f9 7e c0", 5, M0F, 0x7e, 8, 8, 0, 0, "vmovq rax, xmm0"),
    CASE(L64, "2e c5 f8 77", 4, M0F, 0x77, 4, 8, 0, 0, "cs vzeroupper"),
    CASE(L64, "67 c5 f9 6f 03", 5, M0F, 0x6f, 4, 4, 0, 0, "vmovdqa xmm0, [ebx]"),
    CASE(L64, "62 f1 7c 48 10 03", 6, M0F, 0x10, 4, 8, 0, 0, "vmovups zmm0, [rbx]"),
    CASE(L64, "62 f1 7c 48 10 83 00 10 00 00", 10, M0F, 0x10, 4, 8, 4, 0,
         "vmovups zmm0, [rbx+0x1000]"),
    CASE(L64, "62 f1 fd 48 6f 44 24 01", 8, M0F, 0x6f, 8, 8, 1, 0,
         "vmovdqa64 zmm0, [rsp+0x40]"),
    CASE(L64, "62 f1 7d 48 72 e0 05", 7, M0F, 0x72, 4, 8, 0, 1, "vpsrad zmm0, zmm0, 5"),
    CASE(L64, "62 f2 7d 48 18 03", 6, M38, 0x18, 4, 8, 0, 0, "vbroadcastss zmm0, [rbx]"),
    CASE(L64, "62 f3 7d 48 1d c1 00", 7, M3A, 0x1d, 4, 8, 0, 1, "vcvtps2ph ymm1, zmm0, 0"),
    CASE(L64, "62 f5 7c 48 58 c1", 6, INSN_MAP_EVEX5, 0x58, 4, 8, 0, 0,
         "vaddph zmm0, zmm0, zmm1"),

    /* Longest legal: 15 bytes. */
    CASE(L64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15, B1, 0x90, 2, 8, 0, 0,
         "14 x 66, nop"),
    CASE(L64, "2e 2e 2e 48 c7 84 24 00 01 00 00 ef be ad de", 15, B1, 0xc7, 8, 8, 4, 4,
         "cs cs cs mov qword [rsp+0x100], 0xffffffffdeadbeef"),
};

static void check_len_case(const struct len_case *c)
{
    uint8_t buf[32];
    size_t n = parse_hex(c->hex, buf, sizeof(buf));
    struct insn in;
    ctx_text = c->text;
    ctx_mode = c->mode;
    int rc = decode_exact(buf, n, c->mode, &in);
    CHECK(rc, INSN_OK);
    CHECK(in.length, c->len);
    CHECK(in.length, n);
    CHECK(in.mode, c->mode);
    CHECK(in.map, c->map);
    CHECK(in.opcode, c->opcode);
    CHECK(in.op_size, c->osz);
    CHECK(in.addr_size, c->asz);
    CHECK(in.disp_size, c->dsz);
    CHECK(in.imm_size, c->isz);
    check_truncations(buf, n, c->mode, c->text);

    /* Bytes after the instruction change nothing. */
    uint8_t more[32];
    memcpy(more, buf, n);
    memset(more + n, 0x0f, sizeof(more) - n);
    struct insn again;
    assert_int_equal(insn_decode(more, sizeof(more), c->mode, &again), INSN_OK);
    assert_memory_equal(&again, &in, sizeof(in));
}

static void test_lengths(void **state)
{
    for (size_t i = 0; i < sizeof(len_cases) / sizeof(len_cases[0]); i++)
        check_len_case(&len_cases[i]);
}

/* ---- prefixes --------------------------------------------------------------------- */

static int decode_hex(const char *hex, enum insn_mode mode, struct insn *in)
{
    uint8_t buf[32];
    size_t n = parse_hex(hex, buf, sizeof(buf));
    return decode_exact(buf, n, mode, in);
}

static void test_prefixes(void **state)
{
    struct insn in;

    assert_int_equal(decode_hex("0f a2", L64, &in), INSN_OK);
    assert_int_equal(in.prefixes, 0);
    assert_int_equal(in.nprefixes, 0);
    assert_int_equal(in.seg, INSN_SEG_NONE);
    assert_int_equal(in.rex, 0);
    assert_false(in.has_modrm);

    /* F0 F2 F3 66 67 and every segment override; the last segment wins. */
    assert_int_equal(decode_hex("f0 f2 f3 66 67 26 2e 36 3e 64 65 01 03", L64, &in), INSN_OK);
    assert_int_equal(in.length, 13);
    assert_int_equal(in.nprefixes, 11);
    assert_int_equal(in.prefixes, INSN_P_LOCK | INSN_P_REPNE | INSN_P_REP | INSN_P_OPSIZE |
                                      INSN_P_ADDRSIZE | INSN_P_SEG);
    assert_int_equal(in.seg, INSN_SEG_GS);
    assert_int_equal(in.op_size, 2);
    assert_int_equal(in.addr_size, 4);

    static const struct { const char *hex; uint8_t seg; } segs[] = {
        { "26 8b 07", INSN_SEG_ES }, { "2e 8b 07", INSN_SEG_CS }, { "36 8b 07", INSN_SEG_SS },
        { "3e 8b 07", INSN_SEG_DS }, { "64 8b 07", INSN_SEG_FS }, { "65 8b 07", INSN_SEG_GS },
        { "64 26 8b 07", INSN_SEG_ES },
    };
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        assert_int_equal(decode_hex(segs[i].hex, P16, &in), INSN_OK);
        assert_int_equal(in.seg, segs[i].seg);
        assert_true(in.prefixes & INSN_P_SEG);
    }

    /* REX: W/R/X/B recorded; the last of several counts. */
    assert_int_equal(decode_hex("4f 8b 04 c8", L64, &in), INSN_OK); /* mov r8, [r8+r9*8] */
    assert_int_equal(in.rex, 0x4f);
    assert_int_equal(in.prefixes, INSN_P_REX);
    assert_int_equal(in.op_size, 8);
    assert_int_equal(in.length, 4);
    assert_int_equal(decode_hex("40 48 89 03", L64, &in), INSN_OK); /* mov [rbx], rax */
    assert_int_equal(in.rex, 0x48);
    assert_int_equal(in.nprefixes, 2);
    assert_int_equal(in.op_size, 8);

    /* A REX followed by a legacy prefix is ignored (SDM vol. 2 2.2.1). */
    assert_int_equal(decode_hex("48 66 89 03", L64, &in), INSN_OK); /* mov [rbx], ax */
    assert_int_equal(in.rex, 0);
    assert_int_equal(in.prefixes, INSN_P_OPSIZE);
    assert_int_equal(in.nprefixes, 2);
    assert_int_equal(in.op_size, 2);
    assert_int_equal(in.length, 4);
    assert_int_equal(decode_hex("66 48 89 03", L64, &in), INSN_OK); /* mov [rbx], rax */
    assert_int_equal(in.rex, 0x48);
    assert_int_equal(in.op_size, 8);

    /* 40-4F are INC/DEC outside 64-bit mode. */
    assert_int_equal(decode_hex("48 89 03", P32, &in), INSN_OK); /* dec eax */
    assert_int_equal(in.length, 1);
    assert_int_equal(in.opcode, 0x48);
    assert_int_equal(in.rex, 0);

    /* VEX/EVEX recorded, and their payload. */
    assert_int_equal(decode_hex("c4 e2 79 18 03", L64, &in), INSN_OK);
    assert_int_equal(in.prefixes, INSN_P_VEX);
    assert_int_equal(in.vex_size, 3);
    assert_int_equal(in.vex[0], 0xe2);
    assert_int_equal(in.vex[1], 0x79);
    assert_int_equal(decode_hex("3e 62 f1 7c 48 10 03", L64, &in), INSN_OK);
    assert_int_equal(in.prefixes, INSN_P_EVEX | INSN_P_SEG);
    assert_int_equal(in.vex_size, 4);
    assert_int_equal(in.nprefixes, 1);
    assert_int_equal(in.vex[2], 0x48);
    assert_int_equal(decode_hex("c5 f8 77", P32, &in), INSN_OK);
    assert_int_equal(in.prefixes, INSN_P_VEX);
    assert_int_equal(in.vex_size, 2);
    assert_false(in.has_modrm);
}

/* ---- ModRM, SIB and displacement -------------------------------------------------- */

struct modrm_case {
    uint8_t mode;
    const char *hex;
    uint8_t len, mod, reg, rm;
    int8_t sib_scale; /* -1: no SIB */
    uint8_t index, base, dsz;
    int64_t disp;
    bool mem, rip;
    const char *text;
};

#define NOSIB -1, 0, 0

static const struct modrm_case modrm_cases[] = {
    /* 64-bit addressing (SDM vol. 2 tables 2-2, 2-3, 2.2.1.6). */
    { L64, "89 03", 2, 0, 0, 3, NOSIB, 0, 0, true, false, "mov [rbx], eax" },
    { L64, "89 04 24", 3, 0, 0, 4, 0, 4, 4, 0, 0, true, false, "mov [rsp], eax" },
    { L64, "89 05 78 56 34 12", 6, 0, 0, 5, NOSIB, 4, 0x12345678, true, true,
      "mov [rip+0x12345678], eax" },
    { L64, "89 05 f0 ff ff ff", 6, 0, 0, 5, NOSIB, 4, -16, true, true, "mov [rip-16], eax" },
    { L64, "41 89 05 00 01 00 00", 7, 0, 0, 5, NOSIB, 4, 0x100, true, true,
      "mov [rip+0x100], eax (REX.B does not make it r13)" },
    { L64, "67 89 05 00 01 00 00", 7, 0, 0, 5, NOSIB, 4, 0x100, true, true,
      "mov [eip+0x100], eax" },
    { L64, "89 04 25 78 56 34 12", 7, 0, 0, 4, 0, 4, 5, 4, 0x12345678, true, false,
      "mov [0x12345678], eax (SIB, no base)" },
    { L64, "89 04 8d 00 10 00 00", 7, 0, 0, 4, 2, 1, 5, 4, 0x1000, true, false,
      "mov [rcx*4+0x1000], eax" },
    { L64, "89 43 08", 3, 1, 0, 3, NOSIB, 1, 8, true, false, "mov [rbx+8], eax" },
    { L64, "89 43 f8", 3, 1, 0, 3, NOSIB, 1, -8, true, false, "mov [rbx-8], eax" },
    { L64, "89 44 8b 10", 4, 1, 0, 4, 2, 1, 3, 1, 0x10, true, false,
      "mov [rbx+rcx*4+0x10], eax" },
    { L64, "89 83 00 10 00 00", 6, 2, 0, 3, NOSIB, 4, 0x1000, true, false,
      "mov [rbx+0x1000], eax" },
    { L64, "89 84 cb 00 f0 ff ff", 7, 2, 0, 4, 3, 1, 3, 4, -0x1000, true, false,
      "mov [rbx+rcx*8-0x1000], eax" },
    { L64, "89 45 00", 3, 1, 0, 5, NOSIB, 1, 0, true, false, "mov [rbp+0], eax" },
    { L64, "41 89 45 00", 4, 1, 0, 5, NOSIB, 1, 0, true, false, "mov [r13+0], eax" },
    { L64, "41 89 04 24", 4, 0, 0, 4, 0, 4, 4, 0, 0, true, false, "mov [r12], eax" },
    { L64, "42 89 04 23", 4, 0, 0, 4, 0, 4, 3, 0, 0, true, false, "mov [rbx+r12], eax" },
    { L64, "89 44 25 00", 4, 1, 0, 4, 0, 4, 5, 1, 0, true, false, "mov [rbp+0], eax (SIB)" },
    { L64, "89 d8", 2, 3, 3, 0, NOSIB, 0, 0, false, false, "mov eax, ebx" },
    { L64, "8d 04 24", 3, 0, 0, 4, 0, 4, 4, 0, 0, true, false, "lea eax, [rsp]" },
    /* 32-bit addressing: rm=101 mod=00 is an absolute disp32, not RIP-relative. */
    { P32, "89 05 78 56 34 12", 6, 0, 0, 5, NOSIB, 4, 0x12345678, true, false,
      "mov [0x12345678], eax" },
    { P32, "89 04 24", 3, 0, 0, 4, 0, 4, 4, 0, 0, true, false, "mov [esp], eax" },
    { P32, "89 84 24 00 01 00 00", 7, 2, 0, 4, 0, 4, 4, 4, 0x100, true, false,
      "mov [esp+0x100], eax" },
    { P32, "8b 4d fc", 3, 1, 1, 5, NOSIB, 1, -4, true, false, "mov ecx, [ebp-4]" },
    { P32, "67 89 07", 3, 0, 0, 7, NOSIB, 0, 0, true, false, "mov [bx], eax (a16)" },
    { P32, "67 89 06 34 12", 5, 0, 0, 6, NOSIB, 2, 0x1234, true, false,
      "mov [0x1234], eax (a16)" },
    { P16, "67 89 04 24", 4, 0, 0, 4, 0, 4, 4, 0, 0, true, false, "mov [esp], ax (a32)" },
    { P16, "67 89 05 78 56 34 12", 7, 0, 0, 5, NOSIB, 4, 0x12345678, true, false,
      "mov [0x12345678], ax (a32)" },
    /* 16-bit addressing (SDM vol. 2 table 2-1): no SIB, rm=110 mod=00 is disp16. */
    { R, "89 00", 2, 0, 0, 0, NOSIB, 0, 0, true, false, "mov [bx+si], ax" },
    { R, "89 04", 2, 0, 0, 4, NOSIB, 0, 0, true, false, "mov [si], ax (no SIB)" },
    { R, "89 05", 2, 0, 0, 5, NOSIB, 0, 0, true, false, "mov [di], ax (no disp)" },
    { R, "89 07", 2, 0, 0, 7, NOSIB, 0, 0, true, false, "mov [bx], ax" },
    { R, "89 06 34 12", 4, 0, 0, 6, NOSIB, 2, 0x1234, true, false, "mov [0x1234], ax" },
    { R, "89 46 00", 3, 1, 0, 6, NOSIB, 1, 0, true, false, "mov [bp+0], ax" },
    { R, "89 47 10", 3, 1, 0, 7, NOSIB, 1, 0x10, true, false, "mov [bx+0x10], ax" },
    { R, "89 87 00 10", 4, 2, 0, 7, NOSIB, 2, 0x1000, true, false, "mov [bx+0x1000], ax" },
    { R, "89 87 00 f0", 4, 2, 0, 7, NOSIB, 2, -0x1000, true, false, "mov [bx-0x1000], ax" },
    { P16, "8b 1e fe ff", 4, 0, 3, 6, NOSIB, 2, -2, true, false, "mov bx, [0xfffe]" },
    { P16, "66 89 07", 3, 0, 0, 7, NOSIB, 0, 0, true, false, "mov [bx], eax" },
    /* moffs: the offset is as wide as the address size and kept (zero-extended) in disp. */
    { L64, "a1 88 77 66 55 44 33 22 11", 9, 0, 0, 0, NOSIB, 8, 0x1122334455667788, true,
      false, "mov eax, [moffs64]" },
    { L64, "48 a3 00 00 00 00 00 80 ff ff", 10, 0, 0, 0, NOSIB, 8, (int64_t)0xffff800000000000,
      true, false, "mov [0xffff800000000000], rax" },
    { L64, "67 a0 f0 ff ff ff", 6, 0, 0, 0, NOSIB, 4, 0xfffffff0, true, false,
      "mov al, [moffs32] (a32)" },
    { P32, "a0 78 56 34 12", 5, 0, 0, 0, NOSIB, 4, 0x12345678, true, false,
      "mov al, [0x12345678]" },
    { P32, "67 a0 34 12", 4, 0, 0, 0, NOSIB, 2, 0x1234, true, false, "mov al, [0x1234] (a16)" },
    { R, "a1 00 f0", 3, 0, 0, 0, NOSIB, 2, 0xf000, true, false, "mov ax, [0xf000]" },
    { R, "67 a3 00 00 0b 00", 6, 0, 0, 0, NOSIB, 4, 0xb0000, true, false,
      "mov [0xb0000], ax (a32)" },
};

static void test_modrm_forms(void **state)
{
    for (size_t i = 0; i < sizeof(modrm_cases) / sizeof(modrm_cases[0]); i++) {
        const struct modrm_case *c = &modrm_cases[i];
        uint8_t buf[32];
        size_t n = parse_hex(c->hex, buf, sizeof(buf));
        struct insn in;
        int rc = decode_exact(buf, n, c->mode, &in);
        ctx_text = c->text;
        ctx_mode = c->mode;
        CHECK(rc, INSN_OK);
        CHECK(in.length, c->len);
        CHECK(in.length, n);
        bool moffs = in.opcode >= 0xa0 && in.opcode <= 0xa3 && in.map == INSN_MAP_1BYTE;
        CHECK(in.has_modrm, !moffs);
        if (!moffs) {
            CHECK(in.mod, c->mod);
            CHECK(in.reg, c->reg);
            CHECK(in.rm, c->rm);
            CHECK(in.modrm, (c->mod << 6) | (c->reg << 3) | c->rm);
        }
        CHECK(in.has_sib, c->sib_scale >= 0);
        if (c->sib_scale >= 0) {
            CHECK(in.scale, c->sib_scale);
            CHECK(in.index, c->index);
            CHECK(in.base, c->base);
            CHECK(in.sib, (c->sib_scale << 6) | (c->index << 3) | c->base);
        }
        CHECK(in.disp_size, c->dsz);
        CHECK(in.disp, c->disp);
        CHECK(in.has_mem, c->mem);
        CHECK(in.rip_relative, c->rip);
        check_truncations(buf, n, c->mode, c->text);
    }
}

/* ---- immediates ------------------------------------------------------------------- */

static void test_immediate_values(void **state)
{
    struct insn in;
    assert_int_equal(decode_hex("48 b8 88 77 66 55 44 33 22 11", L64, &in), INSN_OK);
    assert_int_equal(in.imm, 0x1122334455667788ull);
    assert_int_equal(decode_hex("6a ff", L64, &in), INSN_OK);
    assert_int_equal(in.imm, 0xff); /* raw, zero-extended */
    assert_int_equal(decode_hex("c8 10 00 01", L64, &in), INSN_OK);
    assert_int_equal(in.imm, 0x10);
    assert_int_equal(in.imm2, 1);
    assert_int_equal(decode_hex("9a 78 56 34 12 08 00", P32, &in), INSN_OK);
    assert_int_equal(in.imm, 0x12345678);
    assert_int_equal(in.imm2, 8);
    assert_int_equal(decode_hex("ea 5b e0 00 f0", R, &in), INSN_OK);
    assert_int_equal(in.imm, 0xe05b);
    assert_int_equal(in.imm2, 0xf000);
    assert_int_equal(decode_hex("66 0f 78 c0 08 10", L64, &in), INSN_OK);
    assert_int_equal(in.imm, 8);
    assert_int_equal(in.imm2, 16);
    assert_int_equal(decode_hex("0f 0f 43 08 9e", P32, &in), INSN_OK);
    assert_int_equal(in.imm, 0x9e); /* the 3DNow! opcode suffix */
    assert_int_equal(in.disp, 8);
    assert_int_equal(decode_hex("e4 60", R, &in), INSN_OK);
    assert_int_equal(in.imm, 0x60);
    assert_int_equal(decode_hex("c4 e3 79 0f c1 04", L64, &in), INSN_OK);
    assert_int_equal(in.imm, 4);
}

/* ---- MMIO semantics --------------------------------------------------------------- */

struct mmio_case {
    uint8_t mode;
    const char *hex;
    uint8_t kind, width, reg;
    bool high8;
    uint8_t reg_size, ext;
    uint64_t imm;
    const char *text;
};

#define LD INSN_MMIO_LOAD
#define ST INSN_MMIO_STORE
#define SI INSN_MMIO_STORE_IMM
#define XN INSN_EXT_NONE
#define XZ INSN_EXT_ZERO
#define XS INSN_EXT_SIGN

static const struct mmio_case mmio_cases[] = {
    { L64, "88 03", ST, 1, 0, false, 1, XN, 0, "mov [rbx], al" },
    { L64, "88 23", ST, 1, 0, true, 1, XN, 0, "mov [rbx], ah" },
    { L64, "88 3b", ST, 1, 3, true, 1, XN, 0, "mov [rbx], bh" },
    { L64, "40 88 23", ST, 1, 4, false, 1, XN, 0, "mov [rbx], spl" },
    { L64, "40 88 3b", ST, 1, 7, false, 1, XN, 0, "mov [rbx], dil" },
    { L64, "44 88 03", ST, 1, 8, false, 1, XN, 0, "mov [rbx], r8b" },
    { L64, "44 88 3b", ST, 1, 15, false, 1, XN, 0, "mov [rbx], r15b" },
    { L64, "89 0b", ST, 4, 1, false, 4, XN, 0, "mov [rbx], ecx" },
    { L64, "66 89 0b", ST, 2, 1, false, 2, XN, 0, "mov [rbx], cx" },
    { L64, "48 89 0b", ST, 8, 1, false, 8, XN, 0, "mov [rbx], rcx" },
    { L64, "4c 89 63 10", ST, 8, 12, false, 8, XN, 0, "mov [rbx+0x10], r12" },
    { L64, "8a 03", LD, 1, 0, false, 1, XN, 0, "mov al, [rbx]" },
    { L64, "8a 2b", LD, 1, 1, true, 1, XN, 0, "mov ch, [rbx]" },
    { L64, "40 8a 2b", LD, 1, 5, false, 1, XN, 0, "mov bpl, [rbx]" },
    { L64, "8b 13", LD, 4, 2, false, 4, XN, 0, "mov edx, [rbx]" },
    { L64, "66 8b 13", LD, 2, 2, false, 2, XN, 0, "mov dx, [rbx]" },
    { L64, "4c 8b 03", LD, 8, 8, false, 8, XN, 0, "mov r8, [rbx]" },
    { L64, "44 8b 0c 24", LD, 4, 9, false, 4, XN, 0, "mov r9d, [rsp]" },
    { L64, "a0 00 00 00 00 00 00 00 00", LD, 1, 0, false, 1, XN, 0, "mov al, [moffs]" },
    { L64, "48 a1 00 00 00 00 00 00 00 00", LD, 8, 0, false, 8, XN, 0, "mov rax, [moffs]" },
    { L64, "66 a3 00 00 00 00 00 00 00 00", ST, 2, 0, false, 2, XN, 0, "mov [moffs], ax" },
    { L64, "a2 00 00 00 00 00 00 00 00", ST, 1, 0, false, 1, XN, 0, "mov [moffs], al" },
    { L64, "0f b6 03", LD, 1, 0, false, 4, XZ, 0, "movzx eax, byte [rbx]" },
    { L64, "48 0f b7 03", LD, 2, 0, false, 8, XZ, 0, "movzx rax, word [rbx]" },
    { L64, "66 0f b6 03", LD, 1, 0, false, 2, XZ, 0, "movzx ax, byte [rbx]" },
    { L64, "0f be 43 01", LD, 1, 0, false, 4, XS, 0, "movsx eax, byte [rbx+1]" },
    { L64, "4c 0f bf 0b", LD, 2, 9, false, 8, XS, 0, "movsx r9, word [rbx]" },
    { L64, "48 63 03", LD, 4, 0, false, 8, XS, 0, "movsxd rax, dword [rbx]" },
    { L64, "63 03", LD, 4, 0, false, 4, XN, 0, "movsxd eax, dword [rbx]" },
    { L64, "0f c3 03", ST, 4, 0, false, 4, XN, 0, "movnti [rbx], eax" },
    { L64, "c6 03 5a", SI, 1, 0, false, 0, XN, 0x5a, "mov byte [rbx], 0x5a" },
    { L64, "c6 03 ff", SI, 1, 0, false, 0, XN, 0xff, "mov byte [rbx], 0xff" },
    { L64, "66 c7 03 34 12", SI, 2, 0, false, 0, XN, 0x1234, "mov word [rbx], 0x1234" },
    { L64, "c7 03 78 56 34 12", SI, 4, 0, false, 0, XN, 0x12345678, "mov dword [rbx], imm" },
    { L64, "48 c7 03 ff ff ff ff", SI, 8, 0, false, 0, XN, 0xffffffffffffffffull,
      "mov qword [rbx], -1" },
    { L64, "48 c7 03 ff ff ff 7f", SI, 8, 0, false, 0, XN, 0x7fffffff,
      "mov qword [rbx], 0x7fffffff" },
    { L64, "48 c7 84 24 00 01 00 00 ef be ad de", SI, 8, 0, false, 0, XN,
      0xffffffffdeadbeefull, "mov qword [rsp+0x100], 0xdeadbeef (sign-extended)" },
    { L64, "c7 84 24 00 01 00 00 ef be ad de", SI, 4, 0, false, 0, XN, 0xdeadbeef,
      "mov dword [rsp+0x100], 0xdeadbeef" },
    { P32, "89 0d 00 00 c0 fe", ST, 4, 1, false, 4, XN, 0, "mov [0xfec00000], ecx" },
    { P32, "88 25 00 00 c0 fe", ST, 1, 0, true, 1, XN, 0, "mov [0xfec00000], ah" },
    { P32, "66 8b 0d 00 00 c0 fe", LD, 2, 1, false, 2, XN, 0, "mov cx, [0xfec00000]" },
    { P32, "0f b7 05 00 00 c0 fe", LD, 2, 0, false, 4, XZ, 0, "movzx eax, word [...]" },
    { P32, "a3 00 00 c0 fe", ST, 4, 0, false, 4, XN, 0, "mov [0xfec00000], eax" },
    { P32, "c7 05 00 00 c0 fe 01 00 00 00", SI, 4, 0, false, 0, XN, 1, "mov dword [..], 1" },
    { P32, "63 03", INSN_MMIO_OTHER, 0, 0, false, 0, XN, 0, "arpl [ebx], ax" },
    { R, "89 07", ST, 2, 0, false, 2, XN, 0, "mov [bx], ax" },
    { R, "8a 27", LD, 1, 0, true, 1, XN, 0, "mov ah, [bx]" },
    { R, "66 8b 1e 00 10", LD, 4, 3, false, 4, XN, 0, "mov ebx, [0x1000]" },
    { R, "c6 06 00 10 aa", SI, 1, 0, false, 0, XN, 0xaa, "mov byte [0x1000], 0xaa" },
};

static void test_mmio_semantics(void **state)
{
    for (size_t i = 0; i < sizeof(mmio_cases) / sizeof(mmio_cases[0]); i++) {
        const struct mmio_case *c = &mmio_cases[i];
        struct insn in;
        ctx_text = c->text;
        ctx_mode = c->mode;
        CHECK(decode_hex(c->hex, c->mode, &in), INSN_OK);
        CHECK(in.has_mem, true);
        CHECK(in.mmio.kind, c->kind);
        CHECK(in.mmio.width, c->width);
        CHECK(in.mmio.reg, c->reg);
        CHECK(in.mmio.high8, c->high8);
        CHECK(in.mmio.reg_size, c->reg_size);
        CHECK(in.mmio.ext, c->ext);
        CHECK(in.mmio.imm, c->imm);
    }
}

struct kind_case {
    uint8_t mode;
    const char *hex;
    uint8_t kind;
    bool mem;
    const char *text;
};

static const struct kind_case kind_cases[] = {
    { L64, "89 c3", INSN_MMIO_NONE, false, "mov ebx, eax" },
    { L64, "0f 20 00", INSN_MMIO_NONE, false, "mov rax, cr0 (mod 00 is not memory)" },
    { L64, "0f a2", INSN_MMIO_NONE, false, "cpuid" },
    { L64, "c7 c0 01 00 00 00", INSN_MMIO_NONE, false, "mov eax, 1 (C7 register form)" },
    { L64, "a4", INSN_MMIO_STRING, true, "movsb" },
    { L64, "f3 48 a5", INSN_MMIO_STRING, true, "rep movsq" },
    { L64, "aa", INSN_MMIO_STRING, true, "stosb" },
    { L64, "f3 ab", INSN_MMIO_STRING, true, "rep stosd" },
    { L64, "ac", INSN_MMIO_STRING, true, "lodsb" },
    { L64, "a6", INSN_MMIO_STRING, true, "cmpsb" },
    { L64, "f2 ae", INSN_MMIO_STRING, true, "repne scasb" },
    { P32, "6c", INSN_MMIO_STRING, true, "insb" },
    { R, "f3 6f", INSN_MMIO_STRING, true, "rep outsw" },
    { L64, "f0 01 03", INSN_MMIO_ATOMIC, true, "lock add [rbx], eax" },
    { L64, "f0 0f c1 03", INSN_MMIO_ATOMIC, true, "lock xadd [rbx], eax" },
    { L64, "0f c1 03", INSN_MMIO_ATOMIC, true, "xadd [rbx], eax" },
    { L64, "87 03", INSN_MMIO_ATOMIC, true, "xchg [rbx], eax" },
    { L64, "86 03", INSN_MMIO_ATOMIC, true, "xchg [rbx], al" },
    { L64, "0f b1 0b", INSN_MMIO_ATOMIC, true, "cmpxchg [rbx], ecx" },
    { L64, "f0 0f b0 0b", INSN_MMIO_ATOMIC, true, "lock cmpxchg [rbx], cl" },
    { L64, "0f c7 0b", INSN_MMIO_ATOMIC, true, "cmpxchg8b [rbx]" },
    { L64, "f0 48 0f c7 0b", INSN_MMIO_ATOMIC, true, "lock cmpxchg16b [rbx]" },
    { L64, "01 03", INSN_MMIO_ALU, true, "add [rbx], eax" },
    { L64, "03 03", INSN_MMIO_ALU, true, "add eax, [rbx]" },
    { L64, "09 03", INSN_MMIO_ALU, true, "or [rbx], eax" },
    { L64, "21 03", INSN_MMIO_ALU, true, "and [rbx], eax" },
    { L64, "3b 03", INSN_MMIO_ALU, true, "cmp eax, [rbx]" },
    { L64, "83 0b 01", INSN_MMIO_ALU, true, "or dword [rbx], 1" },
    { L64, "81 23 ff ff ff 7f", INSN_MMIO_ALU, true, "and dword [rbx], 0x7fffffff" },
    { L64, "80 0b 01", INSN_MMIO_ALU, true, "or byte [rbx], 1" },
    { L64, "85 03", INSN_MMIO_ALU, true, "test [rbx], eax" },
    { L64, "f6 03 01", INSN_MMIO_ALU, true, "test byte [rbx], 1" },
    { L64, "f7 13", INSN_MMIO_ALU, true, "not dword [rbx]" },
    { L64, "ff 03", INSN_MMIO_ALU, true, "inc dword [rbx]" },
    { L64, "fe 0b", INSN_MMIO_ALU, true, "dec byte [rbx]" },
    { L64, "d1 23", INSN_MMIO_ALU, true, "shl dword [rbx], 1" },
    { L64, "0f ba 2b 05", INSN_MMIO_ALU, true, "bts dword [rbx], 5" },
    { L64, "0f 44 03", INSN_MMIO_ALU, true, "cmove eax, [rbx]" },
    { L64, "0f 10 03", INSN_MMIO_SIMD, true, "movups xmm0, [rbx]" },
    { L64, "66 0f 6f 03", INSN_MMIO_SIMD, true, "movdqa xmm0, [rbx]" },
    { L64, "66 0f 7e 03", INSN_MMIO_SIMD, true, "movd [rbx], xmm0" },
    { L64, "0f 6e 03", INSN_MMIO_SIMD, true, "movd mm0, [rbx]" },
    { L64, "66 0f d6 03", INSN_MMIO_SIMD, true, "movq [rbx], xmm0" },
    { L64, "66 0f e7 03", INSN_MMIO_SIMD, true, "movntdq [rbx], xmm0" },
    { L64, "66 0f 38 00 03", INSN_MMIO_SIMD, true, "pshufb xmm0, [rbx]" },
    { L64, "66 0f 3a 16 03 01", INSN_MMIO_SIMD, true, "pextrd [rbx], xmm0, 1" },
    { L64, "0f 0f 03 9e", INSN_MMIO_SIMD, true, "pfadd mm0, [rbx]" },
    { L64, "c5 f9 6f 03", INSN_MMIO_SIMD, true, "vmovdqa xmm0, [rbx]" },
    { L64, "c5 f9 7f 03", INSN_MMIO_SIMD, true, "vmovdqa [rbx], xmm0" },
    { L64, "62 f1 7c 48 11 03", INSN_MMIO_SIMD, true, "vmovups [rbx], zmm0" },
    { L64, "c5 f9 6f c1", INSN_MMIO_NONE, false, "vmovdqa xmm0, xmm1" },
    { L64, "ff 33", INSN_MMIO_OTHER, true, "push qword [rbx]" },
    { L64, "8f 03", INSN_MMIO_OTHER, true, "pop qword [rbx]" },
    { L64, "ff 13", INSN_MMIO_OTHER, true, "call [rbx]" },
    { L64, "8d 03", INSN_MMIO_OTHER, true, "lea eax, [rbx]" },
    { L64, "0f 01 3b", INSN_MMIO_OTHER, true, "invlpg [rbx]" },
    { L64, "0f ae 3b", INSN_MMIO_OTHER, true, "clflush [rbx]" },
    { L64, "d9 03", INSN_MMIO_OTHER, true, "fld dword [rbx]" },
    { L64, "0f 38 f0 03", INSN_MMIO_OTHER, true, "movbe eax, [rbx]" },
    { L64, "8c 1b", INSN_MMIO_OTHER, true, "mov [rbx], ds" },
    { L64, "0f 94 03", INSN_MMIO_OTHER, true, "sete [rbx]" },
    { L64, "0f 18 03", INSN_MMIO_OTHER, true, "prefetchnta [rbx]" },
};

static void test_mmio_kinds(void **state)
{
    for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
        const struct kind_case *c = &kind_cases[i];
        struct insn in;
        ctx_text = c->text;
        ctx_mode = c->mode;
        CHECK(decode_hex(c->hex, c->mode, &in), INSN_OK);
        CHECK(in.mmio.kind, c->kind);
        CHECK(in.has_mem, c->mem);
        if (c->kind != LD && c->kind != ST && c->kind != SI) {
            CHECK(in.mmio.width, 0);
            CHECK(insn_mmio_store_value(&in, 0x1234), 0);
            CHECK(insn_mmio_load_value(&in, 0x5678, 0x1234), 0x5678);
        }
    }
}

static void test_mmio_values(void **state)
{
    struct insn in;
    const uint64_t old = 0x1122334455667788ull;

    /* Loads: the architectural merge of SDM vol. 1 3.4.1.1. */
    assert_int_equal(decode_hex("8a 03", L64, &in), INSN_OK); /* mov al, [rbx] */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xffffffab), 0x11223344556677abull);
    assert_int_equal(decode_hex("8a 23", L64, &in), INSN_OK); /* mov ah, [rbx] */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xab), 0x112233445566ab88ull);
    assert_int_equal(decode_hex("40 8a 23", L64, &in), INSN_OK); /* mov spl, [rbx] */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xab), 0x11223344556677abull);
    assert_int_equal(decode_hex("66 8b 03", L64, &in), INSN_OK); /* mov ax, [rbx] */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xdeadbeef), 0x112233445566beefull);
    assert_int_equal(decode_hex("8b 03", L64, &in), INSN_OK); /* mov eax, [rbx] */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xcafebabedeadbeefull), 0xdeadbeefull);
    assert_int_equal(decode_hex("48 8b 03", L64, &in), INSN_OK); /* mov rax, [rbx] */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xcafebabedeadbeefull),
                     0xcafebabedeadbeefull);
    assert_int_equal(decode_hex("0f b6 03", L64, &in), INSN_OK); /* movzx eax, byte */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x1f0), 0xf0);
    assert_int_equal(decode_hex("0f be 03", L64, &in), INSN_OK); /* movsx eax, byte */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xf0), 0xfffffff0ull);
    assert_int_equal(decode_hex("48 0f be 03", L64, &in), INSN_OK); /* movsx rax, byte */
    assert_int_equal(insn_mmio_load_value(&in, old, 0xf0), 0xfffffffffffffff0ull);
    assert_int_equal(insn_mmio_load_value(&in, old, 0x70), 0x70);
    assert_int_equal(decode_hex("66 0f be 03", L64, &in), INSN_OK); /* movsx ax, byte */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x80), 0x112233445566ff80ull);
    assert_int_equal(decode_hex("66 0f b6 03", L64, &in), INSN_OK); /* movzx ax, byte */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x80), 0x1122334455660080ull);
    assert_int_equal(decode_hex("48 0f bf 03", L64, &in), INSN_OK); /* movsx rax, word */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x8000), 0xffffffffffff8000ull);
    assert_int_equal(decode_hex("48 63 03", L64, &in), INSN_OK); /* movsxd rax, dword */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x80000000), 0xffffffff80000000ull);
    assert_int_equal(decode_hex("63 03", L64, &in), INSN_OK); /* movsxd eax, dword */
    assert_int_equal(insn_mmio_load_value(&in, old, 0x80000000), 0x80000000ull);
    assert_int_equal(decode_hex("8a 3f", R, &in), INSN_OK); /* mov bh, [bx] */
    assert_int_equal(in.mmio.reg, 3);
    assert_int_equal(insn_mmio_load_value(&in, 0xffff, 0x12), 0x12ff);

    /* Stores. */
    assert_int_equal(decode_hex("88 23", L64, &in), INSN_OK); /* mov [rbx], ah */
    assert_int_equal(insn_mmio_store_value(&in, 0x1234), 0x12);
    assert_int_equal(decode_hex("40 88 23", L64, &in), INSN_OK); /* mov [rbx], spl */
    assert_int_equal(insn_mmio_store_value(&in, 0x1234), 0x34);
    assert_int_equal(decode_hex("66 89 03", L64, &in), INSN_OK); /* mov [rbx], ax */
    assert_int_equal(insn_mmio_store_value(&in, old), 0x7788);
    assert_int_equal(decode_hex("89 03", L64, &in), INSN_OK); /* mov [rbx], eax */
    assert_int_equal(insn_mmio_store_value(&in, old), 0x55667788);
    assert_int_equal(decode_hex("48 89 03", L64, &in), INSN_OK); /* mov [rbx], rax */
    assert_int_equal(insn_mmio_store_value(&in, old), old);
    assert_int_equal(decode_hex("48 c7 03 fe ff ff ff", L64, &in), INSN_OK);
    assert_int_equal(insn_mmio_store_value(&in, old), 0xfffffffffffffffeull);
    assert_int_equal(decode_hex("c6 03 80", L64, &in), INSN_OK);
    assert_int_equal(insn_mmio_store_value(&in, old), 0x80);

    /* A load is not a store and vice versa; NULL is harmless. */
    assert_int_equal(decode_hex("8b 03", L64, &in), INSN_OK);
    assert_int_equal(insn_mmio_store_value(&in, old), 0);
    assert_int_equal(decode_hex("89 03", L64, &in), INSN_OK);
    assert_int_equal(insn_mmio_load_value(&in, old, 5), old);
    assert_int_equal(insn_mmio_store_value(NULL, old), 0);
    assert_int_equal(insn_mmio_load_value(NULL, old, 5), old);
}

/* ---- invalid, too long, bad arguments --------------------------------------------- */

struct bad_case {
    uint8_t mode;
    const char *hex;
    int rc;
    const char *text;
};

static const struct bad_case bad_cases[] = {
    /* Invalid in 64-bit mode (SDM vol. 2 table A-2, "i64"). */
    { L64, "06", INSN_ERR_INVALID, "push es" },
    { L64, "07", INSN_ERR_INVALID, "pop es" },
    { L64, "0e", INSN_ERR_INVALID, "push cs" },
    { L64, "16", INSN_ERR_INVALID, "push ss" },
    { L64, "17", INSN_ERR_INVALID, "pop ss" },
    { L64, "1e", INSN_ERR_INVALID, "push ds" },
    { L64, "1f", INSN_ERR_INVALID, "pop ds" },
    { L64, "27", INSN_ERR_INVALID, "daa" },
    { L64, "2f", INSN_ERR_INVALID, "das" },
    { L64, "37", INSN_ERR_INVALID, "aaa" },
    { L64, "3f", INSN_ERR_INVALID, "aas" },
    { L64, "60", INSN_ERR_INVALID, "pusha" },
    { L64, "61", INSN_ERR_INVALID, "popa" },
    { L64, "82 03 01", INSN_ERR_INVALID, "add byte [rbx], 1 (82 alias)" },
    { L64, "9a 78 56 34 12 08 00", INSN_ERR_INVALID, "call far ptr" },
    { L64, "ce", INSN_ERR_INVALID, "into" },
    { L64, "d4 0a", INSN_ERR_INVALID, "aam" },
    { L64, "d5 0a", INSN_ERR_INVALID, "aad" },
    { L64, "ea 78 56 34 12 08 00", INSN_ERR_INVALID, "jmp far ptr" },
    { L64, "66 ea 34 12 08 00", INSN_ERR_INVALID, "jmp far ptr (o16)" },
    /* Reserved in every mode (blank cells, unused group members). */
    { L64, "d6", INSN_ERR_INVALID, "d6" },
    { P32, "d6", INSN_ERR_INVALID, "d6" },
    { R, "0f 04", INSN_ERR_INVALID, "0f 04" },
    { P32, "0f 0a", INSN_ERR_INVALID, "0f 0a" },
    { L64, "0f 0c", INSN_ERR_INVALID, "0f 0c" },
    { P32, "0f 24 c0", INSN_ERR_INVALID, "mov eax, tr0 (386 only)" },
    { P32, "0f 26 c0", INSN_ERR_INVALID, "mov tr0, eax (386 only)" },
    { L64, "0f 36", INSN_ERR_INVALID, "0f 36" },
    { L64, "0f 39", INSN_ERR_INVALID, "0f 39" },
    { L64, "0f 3f", INSN_ERR_INVALID, "0f 3f" },
    { L64, "0f 7a", INSN_ERR_INVALID, "0f 7a" },
    { L64, "0f a6", INSN_ERR_INVALID, "0f a6" },
    { L64, "8f c8", INSN_ERR_INVALID, "8f /1 (AMD XOP, unsupported)" },
    { L64, "c7 08 00 00 00 00", INSN_ERR_INVALID, "c7 /1" },
    { P32, "c6 30 00", INSN_ERR_INVALID, "c6 /6" },
    { L64, "fe 10", INSN_ERR_INVALID, "fe /2" },
    { L64, "ff 38", INSN_ERR_INVALID, "ff /7" },
    /* VEX/EVEX misuse (SDM vol. 2 2.3.2-2.3.5, 2.7.1). */
    { L64, "66 c5 f8 77", INSN_ERR_INVALID, "66 before VEX" },
    { L64, "f3 c5 f8 77", INSN_ERR_INVALID, "f3 before VEX" },
    { L64, "f2 c4 e2 79 18 03", INSN_ERR_INVALID, "f2 before VEX" },
    { L64, "f0 c5 f8 77", INSN_ERR_INVALID, "lock before VEX" },
    { L64, "48 c5 f8 77", INSN_ERR_INVALID, "REX before VEX" },
    { L64, "40 62 f1 7c 48 10 03", INSN_ERR_INVALID, "REX before EVEX" },
    { P32, "66 62 f1 7c 48 10 03", INSN_ERR_INVALID, "66 before EVEX" },
    { L64, "c4 e0 79 18 03", INSN_ERR_INVALID, "VEX map 0" },
    { L64, "c4 e4 79 18 03", INSN_ERR_INVALID, "VEX map 4" },
    { L64, "c4 ff 79 18 03", INSN_ERR_INVALID, "VEX map 31" },
    { L64, "62 f0 7c 48 10 03", INSN_ERR_INVALID, "EVEX map 0" },
    { L64, "62 f4 7c 48 10 03", INSN_ERR_INVALID, "EVEX map 4" },
    { L64, "62 f7 7c 48 10 03", INSN_ERR_INVALID, "EVEX map 7" },
    { L64, "62 f1 78 48 10 03", INSN_ERR_INVALID, "EVEX P1 bit 2 clear" },
    /* VEX/EVEX (or LES/LDS/BOUND with a register) in real mode. */
    { R, "c5 f8 77", INSN_ERR_INVALID, "vzeroupper in real mode" },
    { R, "c4 e2 79 18 03", INSN_ERR_INVALID, "VEX in real mode" },
    { R, "62 f1 7c 48 10 03", INSN_ERR_INVALID, "EVEX in real mode" },
    /* Too long (SDM vol. 2 2.3.11): 16 prefixes, 15 prefixes + opcode, a 16-byte MOV. */
    { L64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", INSN_ERR_TOO_LONG,
      "16 x 66" },
    { P32, "2e 3e 26 64 65 36 f0 f2 f3 66 67 2e 3e 26 64 90", INSN_ERR_TOO_LONG,
      "15 prefixes, nop" },
    { L64, "2e 2e 2e 2e 48 c7 84 24 00 01 00 00 ef be ad de", INSN_ERR_TOO_LONG,
      "16-byte mov qword [rsp+0x100], imm32" },
    { R, "f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 66 b8 78 56 34 12", INSN_ERR_TOO_LONG,
      "13 x f3, mov eax, imm32" },
    { L64, "40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 90", INSN_ERR_TOO_LONG,
      "15 x REX, nop" },
};

static void test_bad_encodings(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        uint8_t buf[32];
        size_t n = parse_hex(c->hex, buf, sizeof(buf));
        struct insn in;
        ctx_text = c->text;
        ctx_mode = c->mode;
        CHECK(decode_exact(buf, n, c->mode, &in), c->rc);
        check_truncations(buf, n, c->mode, c->text);
    }
}

static void test_too_long_details(void **state)
{
    uint8_t buf[32];
    struct insn in;

    /* Only 15 bytes of prefixes available: still too long, not "need more". */
    memset(buf, 0x66, sizeof(buf));
    assert_int_equal(decode_exact(buf, 15, L64, &in), INSN_ERR_TOO_LONG);
    assert_int_equal(decode_exact(buf, 14, L64, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 15);
    assert_int_equal(decode_exact(buf, sizeof(buf), L64, &in), INSN_ERR_TOO_LONG);

    /* 11 prefixes + mov eax, imm32 (5): 16 bytes. Too long as soon as the immediate is
     * known to be needed, however few bytes were fetched. */
    size_t n = parse_hex("2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e b8 78 56 34 12", buf, sizeof(buf));
    assert_int_equal(n, 16);
    assert_int_equal(decode_exact(buf, 12, P32, &in), INSN_ERR_TOO_LONG);
    assert_int_equal(decode_exact(buf, 11, P32, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 12);
    /* One prefix fewer fits exactly. */
    assert_int_equal(decode_exact(buf + 1, 15, P32, &in), INSN_OK);
    assert_int_equal(in.length, 15);
    assert_int_equal(in.nprefixes, 10);
    assert_int_equal(decode_exact(buf + 1, 11, P32, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 15);
}

static void test_need_more(void **state)
{
    uint8_t buf[16];
    struct insn in;

    assert_int_equal(insn_decode(NULL, 0, L64, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 1);

    /* mov qword [rsp+0x100], imm32: each step asks for exactly what it knows it needs. */
    size_t n = parse_hex("48 c7 84 24 00 01 00 00 ef be ad de", buf, sizeof(buf));
    static const struct { uint8_t avail, need; } steps[] = {
        { 0, 1 },  /* a prefix or the opcode */
        { 1, 2 },  /* after REX: the opcode */
        { 2, 3 },  /* C7: ModRM */
        { 3, 4 },  /* rm=100: SIB */
        { 4, 8 },  /* mod=10: disp32 */
        { 5, 8 }, { 7, 8 },
        { 8, 12 }, /* Iz with 64-bit operand size: imm32 */
        { 11, 12 },
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        assert_int_equal(decode_exact(buf, steps[i].avail, L64, &in), INSN_ERR_NEED_MORE);
        assert_int_equal(in.need, steps[i].need);
    }
    assert_int_equal(decode_exact(buf, n, L64, &in), INSN_OK);
    assert_int_equal(in.length, 12);

    /* Outside 64-bit mode C4/C5/62 need their second byte to choose VEX or LES/LDS. */
    n = parse_hex("c5 f8 77", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, 1, P32, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 2);
    assert_int_equal(decode_exact(buf, 2, P32, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 3);
    /* In 64-bit mode the whole VEX prefix and opcode are known to be needed at once. */
    assert_int_equal(decode_exact(buf, 1, L64, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 3);
    n = parse_hex("62 f1 7c 48 10 03", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, 1, L64, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 5);
    assert_int_equal(decode_exact(buf, 5, L64, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 6);

    /* moffs64: the 8-byte offset at once. */
    n = parse_hex("a1 88 77 66 55 44 33 22 11", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, 1, L64, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 9);
    assert_int_equal(decode_exact(buf, 1, P32, &in), INSN_ERR_NEED_MORE);
    assert_int_equal(in.need, 5);
}

static void test_args_and_strings(void **state)
{
    uint8_t nop = 0x90;
    struct insn in;
    assert_int_equal(insn_decode(&nop, 1, L64, NULL), INSN_ERR_ARGS);
    assert_int_equal(insn_decode(NULL, 1, L64, &in), INSN_ERR_ARGS);
    assert_int_equal(insn_decode(&nop, 1, (enum insn_mode)4, &in), INSN_ERR_ARGS);
    assert_int_equal(insn_decode(&nop, 1, (enum insn_mode)-1, &in), INSN_ERR_ARGS);
    assert_int_equal(insn_decode(&nop, 1, INSN_MODE_REAL, &in), INSN_OK);
    assert_int_equal(in.length, 1);

    assert_string_equal(insn_strerror(INSN_OK), "ok");
    assert_string_equal(insn_strerror(INSN_ERR_NEED_MORE),
                        "instruction continues past the bytes available");
    assert_string_equal(insn_strerror(INSN_ERR_TOO_LONG), "instruction longer than 15 bytes");
    assert_string_equal(insn_strerror(INSN_ERR_INVALID),
                        "undefined opcode or invalid in this mode");
    assert_string_equal(insn_strerror(INSN_ERR_ARGS), "bad arguments");
    assert_string_equal(insn_strerror(-99), "unknown instruction decoder error");
    assert_string_equal(insn_strerror(1), "unknown instruction decoder error");
}

static void test_mode_of(void **state)
{
    /* cr0_pe, eflags_vm, efer_lma, cs_l, cs_d */
    assert_int_equal(insn_mode_of(false, false, false, false, false), INSN_MODE_REAL);
    assert_int_equal(insn_mode_of(false, false, false, false, true), INSN_MODE_REAL);
    assert_int_equal(insn_mode_of(true, true, false, false, true), INSN_MODE_REAL);
    assert_int_equal(insn_mode_of(true, false, false, false, false), INSN_MODE_PROT16);
    assert_int_equal(insn_mode_of(true, false, false, false, true), INSN_MODE_PROT32);
    assert_int_equal(insn_mode_of(true, false, false, true, false), INSN_MODE_PROT16);
    assert_int_equal(insn_mode_of(true, false, true, false, true), INSN_MODE_PROT32);
    assert_int_equal(insn_mode_of(true, false, true, false, false), INSN_MODE_PROT16);
    assert_int_equal(insn_mode_of(true, false, true, true, false), INSN_MODE_LONG64);
}

/* ---- hostile input ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random bytes, weighted towards prefixes and escapes, in every mode: the decoder never
 * reads past avail (ASan), never fails with anything but its documented codes, and every
 * truncation behaves. */
static void test_random_bytes(void **state)
{
    /* The 11 legacy prefixes first, then REX, escapes, VEX/EVEX and group opcodes. */
    static const uint8_t lead[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36,
                                    0x64, 0x65, 0x48, 0x41, 0x0f, 0x0f, 0x38, 0x3a, 0xc4,
                                    0xc5, 0x62, 0x8f, 0xf6, 0xf7, 0xa1, 0xc7 };
    unsigned counts[5] = { 0 };
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t buf[INSN_MAX_LEN];
        bool dense = (iter & 15) == 0; /* sometimes almost nothing but legacy prefixes */
        for (size_t i = 0; i < sizeof(buf); i++) {
            uint64_t r = rng();
            if (dense)
                buf[i] = (r & 15) ? lead[(r >> 8) % 11] : (uint8_t)(r >> 16);
            else
                buf[i] = (r & 3) ? (uint8_t)(r >> 16) : lead[(r >> 8) % sizeof(lead)];
        }
        enum insn_mode mode = (enum insn_mode)(rng() & 3);
        struct insn in;
        int rc = decode_exact(buf, sizeof(buf), mode, &in);
        assert_true(rc == INSN_OK || rc == INSN_ERR_INVALID || rc == INSN_ERR_TOO_LONG);
        counts[-rc]++;
        if (rc == INSN_OK) {
            assert_in_range(in.length, 1, INSN_MAX_LEN);
            assert_true(in.op_size == 2 || in.op_size == 4 || in.op_size == 8);
            assert_true(in.addr_size == 2 || in.addr_size == 4 || in.addr_size == 8);
            unsigned opc = in.vex_size || in.map == INSN_MAP_1BYTE ? 1
                           : in.map == INSN_MAP_0F ? 2 : 3;
            assert_int_equal(in.nprefixes + in.vex_size + opc + in.has_modrm + in.has_sib +
                                 in.disp_size + in.imm_size, in.length);
            if (in.mmio.kind == LD || in.mmio.kind == ST || in.mmio.kind == SI) {
                assert_true(in.has_mem);
                assert_true(in.mmio.width == 1 || in.mmio.width == 2 || in.mmio.width == 4 ||
                            in.mmio.width == 8);
                assert_in_range(in.mmio.reg, 0, 15);
            }
        }
        if ((iter & 7) == 0)
            check_truncations(buf, sizeof(buf), mode, "random");
    }
    /* The generator reaches every outcome. */
    assert_true(counts[0] > 1000);
    assert_true(counts[-INSN_ERR_INVALID] > 100);
    assert_true(counts[-INSN_ERR_TOO_LONG] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_modrm_forms),
        cmocka_unit_test(test_immediate_values),
        cmocka_unit_test(test_mmio_semantics),
        cmocka_unit_test(test_mmio_kinds),
        cmocka_unit_test(test_mmio_values),
        cmocka_unit_test(test_bad_encodings),
        cmocka_unit_test(test_too_long_details),
        cmocka_unit_test(test_need_more),
        cmocka_unit_test(test_args_and_strings),
        cmocka_unit_test(test_mode_of),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
