// SPDX-License-Identifier: Apache-2.0
// Host tests of common/elf.c: ELF images are assembled in memory here (valid ones and every
// kind of corrupt or hostile one) and the exact status, segment index and loaded bytes are
// checked.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/elf.h"

#define IMG_MAX 16384
#define PHDR_OFF 64

/* An image under construction: header at 0, program headers at PHDR_OFF, data after. */
struct img {
    uint8_t buf[IMG_MAX];
    size_t size;
    struct elf64_ehdr eh;
    struct elf64_phdr ph[8];
};

static void img_init(struct img *im)
{
    memset(im, 0, sizeof(*im));
    memcpy(im->eh.e_ident, "\177ELF", 4);
    im->eh.e_ident[ELF_EI_CLASS] = ELF_CLASS64;
    im->eh.e_ident[ELF_EI_DATA] = ELF_DATA2LSB;
    im->eh.e_ident[ELF_EI_VERSION] = ELF_EV_CURRENT;
    im->eh.e_type = ELF_ET_EXEC;
    im->eh.e_machine = ELF_EM_X86_64;
    im->eh.e_version = ELF_EV_CURRENT;
    im->eh.e_phoff = PHDR_OFF;
    im->eh.e_ehsize = sizeof(struct elf64_ehdr);
    im->eh.e_phentsize = sizeof(struct elf64_phdr);
}

/* Append a segment whose file bytes are `filesz` bytes of pattern (seed + k) and return its
 * index. Data starts at 0x1000 so the header area can grow. */
static unsigned img_seg(struct img *im, uint32_t type, uint32_t flags, uint64_t paddr,
                        uint64_t vaddr, uint64_t filesz, uint64_t memsz, uint8_t seed)
{
    unsigned i = im->eh.e_phnum++;
    size_t off = im->size < 0x1000 ? 0x1000 : im->size;
    im->ph[i] = (struct elf64_phdr){ .p_type = type, .p_flags = flags, .p_offset = off,
                                     .p_vaddr = vaddr, .p_paddr = paddr, .p_filesz = filesz,
                                     .p_memsz = memsz, .p_align = 0x1000 };
    assert_true(off + filesz <= IMG_MAX);
    for (uint64_t k = 0; k < filesz; k++)
        im->buf[off + k] = (uint8_t)(seed + k);
    im->size = off + filesz;
    return i;
}

/* Serialize header and program headers into buf (after any field tweaks by the test). */
static void img_finish(struct img *im)
{
    memcpy(im->buf, &im->eh, sizeof(im->eh));
    for (unsigned i = 0; i < im->eh.e_phnum && i < 8; i++)
        memcpy(im->buf + PHDR_OFF + i * sizeof(struct elf64_phdr), &im->ph[i],
               sizeof(struct elf64_phdr));
    size_t phend = PHDR_OFF + (size_t)im->eh.e_phnum * sizeof(struct elf64_phdr);
    if (im->size < phend)
        im->size = phend;
}

/* One executable segment: 0x100 bytes of code at 16 MiB, 0x80 bytes of bss behind it. */
static void img_simple(struct img *im)
{
    img_init(im);
    img_seg(im, ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0x1000000, 0x1000000, 0x100, 0x180, 0x10);
    im->eh.e_entry = 0x1000010;
    img_finish(im);
}

/* Three PT_LOADs linked high (vaddr != paddr), a PT_NOTE in between. */
#define HIGH 0xffffffff80000000ull
static void img_multi(struct img *im)
{
    img_init(im);
    img_seg(im, ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0x200000, HIGH + 0x200000, 0x300, 0x300, 1);
    img_seg(im, 4 /* PT_NOTE */, ELF_PF_R, 0, 0, 0x20, 0x20, 0x77);
    img_seg(im, ELF_PT_LOAD, ELF_PF_R, 0x201000, HIGH + 0x201000, 0x200, 0x200, 2);
    img_seg(im, ELF_PT_LOAD, ELF_PF_R | ELF_PF_W, 0x202000, HIGH + 0x202000, 0x100, 0x2000, 3);
    im->eh.e_entry = HIGH + 0x200123;
    img_finish(im);
}

/* Map callback backed by a host buffer standing for physical [base, base + len). */
struct phys {
    uint64_t base;
    uint8_t mem[0x10000];
    unsigned calls;
    unsigned refuse_at; /* refuse the n-th call (1-based), 0: never */
};

static void *phys_map(uint64_t paddr, uint64_t len, void *ctx)
{
    struct phys *p = ctx;
    p->calls++;
    if (p->refuse_at && p->calls == p->refuse_at)
        return NULL;
    if (paddr < p->base || paddr - p->base > sizeof(p->mem) ||
        len > sizeof(p->mem) - (paddr - p->base))
        return NULL;
    return p->mem + (paddr - p->base);
}

static struct img g_img;
static struct phys g_phys;
static struct elf_info g_info;

static int check(struct img *im)
{
    return elf_check(im->buf, im->size, &g_info);
}

/* Rebuild after editing eh or ph[]. */
static int recheck(struct img *im)
{
    img_finish(im);
    return check(im);
}

static void test_simple_valid(void **state)
{
    img_simple(&g_img);
    assert_int_equal(check(&g_img), ELF_OK);
    assert_int_equal(g_info.entry, 0x1000010);
    assert_int_equal(g_info.entry_phys, 0x1000010);
    assert_int_equal(g_info.load_lo, 0x1000000);
    assert_int_equal(g_info.load_hi, 0x1000180);
    assert_int_equal(g_info.seg_count, 1);
    assert_int_equal(g_info.bad_phdr, -1);
}

static void test_simple_load_zeroes_bss(void **state)
{
    img_simple(&g_img);
    memset(&g_phys, 0, sizeof(g_phys));
    g_phys.base = 0x1000000;
    memset(g_phys.mem, 0xaa, sizeof(g_phys.mem));
    assert_int_equal(elf_load(g_img.buf, g_img.size, phys_map, &g_phys, &g_info), ELF_OK);
    assert_int_equal(g_phys.calls, 1);
    for (unsigned k = 0; k < 0x100; k++)
        assert_int_equal(g_phys.mem[k], (uint8_t)(0x10 + k));
    for (unsigned k = 0x100; k < 0x180; k++)
        assert_int_equal(g_phys.mem[k], 0);
    /* Nothing beyond p_memsz is touched. */
    for (unsigned k = 0x180; k < 0x1000; k++)
        assert_int_equal(g_phys.mem[k], 0xaa);
    assert_int_equal(g_info.entry_phys, 0x1000010);
}

static void test_multi_valid_and_load(void **state)
{
    img_multi(&g_img);
    assert_int_equal(check(&g_img), ELF_OK);
    assert_int_equal(g_info.seg_count, 3);
    assert_int_equal(g_info.load_lo, 0x200000);
    assert_int_equal(g_info.load_hi, 0x204000);
    assert_int_equal(g_info.entry, HIGH + 0x200123);
    assert_int_equal(g_info.entry_phys, 0x200123);

    memset(&g_phys, 0, sizeof(g_phys));
    g_phys.base = 0x200000;
    memset(g_phys.mem, 0xaa, sizeof(g_phys.mem));
    assert_int_equal(elf_load(g_img.buf, g_img.size, phys_map, &g_phys, NULL), ELF_OK);
    assert_int_equal(g_phys.calls, 3); /* the PT_NOTE is not mapped */
    for (unsigned k = 0; k < 0x300; k++)
        assert_int_equal(g_phys.mem[k], (uint8_t)(1 + k));
    assert_int_equal(g_phys.mem[0x300], 0xaa); /* gap between segments untouched */
    for (unsigned k = 0; k < 0x200; k++)
        assert_int_equal(g_phys.mem[0x1000 + k], (uint8_t)(2 + k));
    for (unsigned k = 0; k < 0x100; k++)
        assert_int_equal(g_phys.mem[0x2000 + k], (uint8_t)(3 + k));
    for (unsigned k = 0x100; k < 0x2000; k++)
        assert_int_equal(g_phys.mem[0x2000 + k], 0);
    assert_int_equal(g_phys.mem[0x4000], 0xaa);
}

static void test_unaligned_image(void **state)
{
    static uint8_t shifted[IMG_MAX + 8];
    img_multi(&g_img);
    memcpy(shifted + 3, g_img.buf, g_img.size);
    assert_int_equal(elf_check(shifted + 3, g_img.size, &g_info), ELF_OK);
    assert_int_equal(g_info.seg_count, 3);
}

/* Every prefix of a valid image fails, with the code of the first thing it cuts off. */
static void test_truncated_everywhere(void **state)
{
    img_multi(&g_img);
    size_t phend = PHDR_OFF + 4 * sizeof(struct elf64_phdr);
    for (size_t size = 0; size < g_img.size; size++) {
        int rc = elf_check(g_img.buf, size, &g_info);
        int want;
        int32_t want_phdr = -1;
        if (size < sizeof(struct elf64_ehdr))
            want = ELF_E_TRUNCATED;
        else if (size < phend)
            want = ELF_E_PHDRS_RANGE;
        else {
            want = ELF_E_SEG_FILE_RANGE;
            /* The first PT_LOAD whose file bytes do not fit. */
            for (int i = 0; i < 4; i++) {
                if (g_img.ph[i].p_type == ELF_PT_LOAD &&
                    g_img.ph[i].p_offset + g_img.ph[i].p_filesz > size) {
                    want_phdr = i;
                    break;
                }
            }
        }
        if (rc != want || g_info.bad_phdr != want_phdr)
            fail_msg("size %zu: got %d (phdr %d), want %d (phdr %d)", size, rc,
                     g_info.bad_phdr, want, want_phdr);
    }
    assert_int_equal(elf_check(g_img.buf, g_img.size, &g_info), ELF_OK);
    /* The exact boundaries. */
    assert_int_equal(elf_check(g_img.buf, 63, &g_info), ELF_E_TRUNCATED);
    assert_int_equal(elf_check(g_img.buf, 64, &g_info), ELF_E_PHDRS_RANGE);
    assert_int_equal(elf_check(g_img.buf, phend - 1, &g_info), ELF_E_PHDRS_RANGE);
    assert_int_equal(elf_check(g_img.buf, phend, &g_info), ELF_E_SEG_FILE_RANGE);
    assert_int_equal(g_info.bad_phdr, 0);
    assert_int_equal(elf_check(g_img.buf, 0x1000 + 0x300, &g_info), ELF_E_SEG_FILE_RANGE);
    assert_int_equal(g_info.bad_phdr, 2);
    assert_int_equal(elf_check(g_img.buf, g_img.size - 1, &g_info), ELF_E_SEG_FILE_RANGE);
    assert_int_equal(g_info.bad_phdr, 3);
}

static void test_bad_magic(void **state)
{
    for (int b = 0; b < 4; b++) {
        img_simple(&g_img);
        g_img.buf[b] ^= 0x20;
        assert_int_equal(check(&g_img), ELF_E_MAGIC);
    }
    img_simple(&g_img);
    memcpy(g_img.buf, "MZ\x90\x00", 4); /* a PE file */
    assert_int_equal(check(&g_img), ELF_E_MAGIC);
}

static void test_bad_ident_and_header(void **state)
{
    static const struct { size_t off; uint8_t val; int want; } cases[] = {
        { ELF_EI_CLASS, 1 /* ELFCLASS32 */, ELF_E_CLASS },
        { ELF_EI_CLASS, 0, ELF_E_CLASS },
        { ELF_EI_DATA, 2 /* ELFDATA2MSB */, ELF_E_DATA },
        { ELF_EI_DATA, 0, ELF_E_DATA },
        { ELF_EI_VERSION, 0, ELF_E_VERSION },
        { ELF_EI_VERSION, 2, ELF_E_VERSION },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        img_simple(&g_img);
        g_img.buf[cases[c].off] = cases[c].val;
        assert_int_equal(check(&g_img), cases[c].want);
        assert_int_equal(g_info.bad_phdr, -1);
    }

    img_simple(&g_img);
    g_img.eh.e_version = 0;
    assert_int_equal(recheck(&g_img), ELF_E_VERSION);

    img_simple(&g_img);
    g_img.eh.e_machine = 3; /* EM_386 */
    assert_int_equal(recheck(&g_img), ELF_E_MACHINE);
    g_img.eh.e_machine = 183; /* EM_AARCH64 */
    assert_int_equal(recheck(&g_img), ELF_E_MACHINE);

    img_simple(&g_img);
    g_img.eh.e_type = 3; /* ET_DYN */
    assert_int_equal(recheck(&g_img), ELF_E_TYPE);
    g_img.eh.e_type = 1; /* ET_REL */
    assert_int_equal(recheck(&g_img), ELF_E_TYPE);
    g_img.eh.e_type = 4; /* ET_CORE */
    assert_int_equal(recheck(&g_img), ELF_E_TYPE);
}

static void test_phdr_table_shape(void **state)
{
    img_simple(&g_img);
    g_img.eh.e_phentsize = 32;
    assert_int_equal(recheck(&g_img), ELF_E_PHENTSIZE);
    g_img.eh.e_phentsize = 64;
    assert_int_equal(recheck(&g_img), ELF_E_PHENTSIZE);
    g_img.eh.e_phentsize = 0;
    assert_int_equal(recheck(&g_img), ELF_E_PHENTSIZE);

    img_simple(&g_img);
    g_img.eh.e_phnum = 0;
    assert_int_equal(recheck(&g_img), ELF_E_PHNUM);
    img_simple(&g_img);
    memcpy(g_img.buf + offsetof(struct elf64_ehdr, e_phnum), &(uint16_t){ ELF_PN_XNUM }, 2);
    assert_int_equal(check(&g_img), ELF_E_PHNUM);
    memcpy(g_img.buf + offsetof(struct elf64_ehdr, e_phnum),
           &(uint16_t){ ELF_MAX_PHDRS + 1 }, 2);
    assert_int_equal(check(&g_img), ELF_E_PHNUM);
    /* ELF_MAX_PHDRS headers are allowed (zeroed ones are PT_NULL), provided they fit. */
    memcpy(g_img.buf + offsetof(struct elf64_ehdr, e_phnum), &(uint16_t){ ELF_MAX_PHDRS }, 2);
    memset(g_img.buf + PHDR_OFF + sizeof(struct elf64_phdr), 0,
           (ELF_MAX_PHDRS - 1) * sizeof(struct elf64_phdr));
    g_img.size = PHDR_OFF + ELF_MAX_PHDRS * sizeof(struct elf64_phdr);
    /* The table now covers the segment's file bytes (zeroed above): overlap of headers
     * and data is legal, so this is still valid. */
    assert_int_equal(check(&g_img), ELF_OK);
}

static void test_phdrs_outside_file(void **state)
{
    img_simple(&g_img);
    g_img.eh.e_phoff = g_img.size; /* just past the end */
    img_finish(&g_img);
    assert_int_equal(check(&g_img), ELF_E_PHDRS_RANGE);

    img_simple(&g_img);
    g_img.eh.e_phoff = g_img.size - sizeof(struct elf64_phdr) + 1; /* last one cut by 1 */
    img_finish(&g_img);
    assert_int_equal(check(&g_img), ELF_E_PHDRS_RANGE);

    /* 64-bit wrap: phoff + phnum * 56 overflows to a small number. */
    img_simple(&g_img);
    g_img.eh.e_phoff = UINT64_MAX - 16;
    img_finish(&g_img);
    assert_int_equal(check(&g_img), ELF_E_PHDRS_RANGE);
    g_img.eh.e_phoff = 0ull - 56; /* sum is exactly 2^64 */
    img_finish(&g_img);
    assert_int_equal(check(&g_img), ELF_E_PHDRS_RANGE);
}

static void test_filesz_above_memsz(void **state)
{
    img_multi(&g_img);
    g_img.ph[2].p_memsz = g_img.ph[2].p_filesz - 1;
    assert_int_equal(recheck(&g_img), ELF_E_SEG_FILESZ);
    assert_int_equal(g_info.bad_phdr, 2);
}

static void test_segment_file_range(void **state)
{
    img_multi(&g_img);
    g_img.ph[3].p_offset = g_img.size; /* data starts at EOF */
    assert_int_equal(recheck(&g_img), ELF_E_SEG_FILE_RANGE);
    assert_int_equal(g_info.bad_phdr, 3);

    img_multi(&g_img);
    g_img.ph[0].p_offset = UINT64_MAX - 0x100; /* offset + filesz wraps */
    assert_int_equal(recheck(&g_img), ELF_E_SEG_FILE_OVERFLOW);
    assert_int_equal(g_info.bad_phdr, 0);

    img_multi(&g_img);
    g_img.ph[2].p_filesz = UINT64_MAX; /* huge, memsz too so filesz <= memsz holds */
    g_img.ph[2].p_memsz = UINT64_MAX;
    assert_int_equal(recheck(&g_img), ELF_E_SEG_FILE_OVERFLOW);
    assert_int_equal(g_info.bad_phdr, 2);

    /* A non-PT_LOAD header may point anywhere: it is never read. */
    img_multi(&g_img);
    g_img.ph[1].p_offset = UINT64_MAX;
    assert_int_equal(recheck(&g_img), ELF_OK);

    /* A pure-bss PT_LOAD reads nothing, so its offset is not checked. */
    img_multi(&g_img);
    g_img.ph[3].p_filesz = 0;
    g_img.ph[3].p_offset = UINT64_MAX;
    assert_int_equal(recheck(&g_img), ELF_OK);
    memset(&g_phys, 0, sizeof(g_phys));
    g_phys.base = 0x200000;
    memset(g_phys.mem, 0xaa, sizeof(g_phys.mem));
    assert_int_equal(elf_load(g_img.buf, g_img.size, phys_map, &g_phys, NULL), ELF_OK);
    for (unsigned k = 0; k < 0x2000; k++)
        assert_int_equal(g_phys.mem[0x2000 + k], 0);
}

static void test_segment_memory_overflow(void **state)
{
    img_multi(&g_img);
    g_img.ph[3].p_paddr = UINT64_MAX - 0x1000; /* paddr + 0x2000 wraps */
    assert_int_equal(recheck(&g_img), ELF_E_SEG_MEM_OVERFLOW);
    assert_int_equal(g_info.bad_phdr, 3);

    img_multi(&g_img);
    g_img.ph[3].p_paddr = 0ull - 0x2000; /* ends exactly at 2^64: not representable */
    assert_int_equal(recheck(&g_img), ELF_E_SEG_MEM_OVERFLOW);

    img_multi(&g_img);
    g_img.ph[2].p_vaddr = UINT64_MAX - 0x10;
    assert_int_equal(recheck(&g_img), ELF_E_SEG_MEM_OVERFLOW);
    assert_int_equal(g_info.bad_phdr, 2);

    /* Ending one byte below 2^64 is fine. */
    img_init(&g_img);
    img_seg(&g_img, ELF_PT_LOAD, ELF_PF_X, 0ull - 0x101, 0ull - 0x101, 0x10, 0x100, 0);
    g_img.eh.e_entry = 0ull - 0x101;
    assert_int_equal(recheck(&g_img), ELF_OK);
    assert_int_equal(g_info.load_hi, UINT64_MAX);
}

static void test_overlap(void **state)
{
    /* Data segment starts one byte inside the code segment. */
    img_multi(&g_img);
    g_img.ph[2].p_paddr = 0x2002ff;
    assert_int_equal(recheck(&g_img), ELF_E_SEG_OVERLAP);
    assert_int_equal(g_info.bad_phdr, 2);
    assert_int_equal(g_info.bad_phdr2, 0);

    /* Touching is not overlapping, whichever comes first in the table. */
    img_multi(&g_img);
    g_img.ph[2].p_paddr = 0x200300;
    assert_int_equal(recheck(&g_img), ELF_OK);
    img_multi(&g_img);
    g_img.ph[3].p_paddr = 0x1fe000; /* memsz 0x2000: ends where segment 0 starts */
    assert_int_equal(recheck(&g_img), ELF_OK);
    assert_int_equal(g_info.load_lo, 0x1fe000);
    assert_int_equal(g_info.load_hi, 0x201200);

    /* Same start. */
    img_multi(&g_img);
    g_img.ph[3].p_paddr = 0x201000;
    assert_int_equal(recheck(&g_img), ELF_E_SEG_OVERLAP);
    assert_int_equal(g_info.bad_phdr, 3);
    assert_int_equal(g_info.bad_phdr2, 2);

    /* A later, lower segment whose bss covers an earlier one entirely. */
    img_multi(&g_img);
    g_img.ph[3].p_paddr = 0x100000;
    g_img.ph[3].p_memsz = 0x200000;
    assert_int_equal(recheck(&g_img), ELF_E_SEG_OVERLAP);
    assert_int_equal(g_info.bad_phdr, 3);
    assert_int_equal(g_info.bad_phdr2, 0);

    /* Overlap in virtual space only is allowed: loading is by physical address. */
    img_multi(&g_img);
    g_img.ph[2].p_vaddr = g_img.ph[0].p_vaddr;
    assert_int_equal(recheck(&g_img), ELF_OK);

    /* Empty segments occupy nothing. */
    img_multi(&g_img);
    g_img.ph[1].p_type = ELF_PT_LOAD;
    g_img.ph[1].p_paddr = 0x200100;
    g_img.ph[1].p_filesz = 0;
    g_img.ph[1].p_memsz = 0;
    assert_int_equal(recheck(&g_img), ELF_OK);
    assert_int_equal(g_info.seg_count, 3);
}

static void test_entry(void **state)
{
    /* In a non-executable segment. */
    img_multi(&g_img);
    g_img.eh.e_entry = HIGH + 0x201010;
    assert_int_equal(recheck(&g_img), ELF_E_ENTRY);
    assert_int_equal(g_info.bad_phdr, -1);

    /* Outside every segment. */
    g_img.eh.e_entry = 0;
    assert_int_equal(recheck(&g_img), ELF_E_ENTRY);

    /* Physical instead of virtual address. */
    g_img.eh.e_entry = 0x200123;
    assert_int_equal(recheck(&g_img), ELF_E_ENTRY);

    /* Last file byte of the code segment: fine; one past it: not. */
    g_img.eh.e_entry = HIGH + 0x2002ff;
    assert_int_equal(recheck(&g_img), ELF_OK);
    assert_int_equal(g_info.entry_phys, 0x2002ff);
    g_img.eh.e_entry = HIGH + 0x200300;
    assert_int_equal(recheck(&g_img), ELF_E_ENTRY);

    /* In the zero-filled tail of an executable segment. */
    img_simple(&g_img);
    g_img.eh.e_entry = 0x1000100;
    assert_int_equal(recheck(&g_img), ELF_E_ENTRY);
    g_img.eh.e_entry = 0x1000000;
    assert_int_equal(recheck(&g_img), ELF_OK);
}

static void test_no_load(void **state)
{
    img_init(&g_img);
    img_seg(&g_img, 4 /* PT_NOTE */, ELF_PF_R, 0, 0, 0x10, 0x10, 0);
    img_seg(&g_img, 0x6474e551 /* PT_GNU_STACK */, ELF_PF_R | ELF_PF_W, 0, 0, 0, 0, 0);
    assert_int_equal(recheck(&g_img), ELF_E_NO_LOAD);

    img_init(&g_img);
    img_seg(&g_img, ELF_PT_LOAD, ELF_PF_X, 0x1000, 0x1000, 0, 0, 0);
    assert_int_equal(recheck(&g_img), ELF_E_NO_LOAD);
}

static void test_load_validates_first(void **state)
{
    img_multi(&g_img);
    g_img.ph[3].p_paddr = 0x200000; /* overlaps segment 0: detected before any copy */
    img_finish(&g_img);
    memset(&g_phys, 0, sizeof(g_phys));
    g_phys.base = 0x200000;
    assert_int_equal(elf_load(g_img.buf, g_img.size, phys_map, &g_phys, &g_info),
                     ELF_E_SEG_OVERLAP);
    assert_int_equal(g_phys.calls, 0);

    img_multi(&g_img);
    assert_int_equal(elf_load(g_img.buf, g_img.size, NULL, NULL, &g_info), ELF_E_ARG);
    assert_int_equal(elf_check(NULL, 100, &g_info), ELF_E_ARG);
}

static void test_map_refused(void **state)
{
    img_multi(&g_img);
    memset(&g_phys, 0, sizeof(g_phys));
    g_phys.base = 0x200000;
    g_phys.refuse_at = 2; /* second PT_LOAD = program header 2 */
    assert_int_equal(elf_load(g_img.buf, g_img.size, phys_map, &g_phys, &g_info), ELF_E_MAP);
    assert_int_equal(g_info.bad_phdr, 2);
    assert_int_equal(g_phys.calls, 2);

    /* Segments outside the callback's window are refused by it. */
    memset(&g_phys, 0, sizeof(g_phys));
    g_phys.base = 0x300000;
    assert_int_equal(elf_load(g_img.buf, g_img.size, phys_map, &g_phys, &g_info), ELF_E_MAP);
    assert_int_equal(g_info.bad_phdr, 0);
}

static void test_strerror(void **state)
{
    for (int a = 0; a < ELF_STATUS_COUNT; a++) {
        assert_non_null(elf_strerror(a));
        assert_true(strlen(elf_strerror(a)) > 1);
        for (int b = 0; b < a; b++)
            assert_string_not_equal(elf_strerror(a), elf_strerror(b));
    }
    assert_string_equal(elf_strerror(ELF_E_MACHINE), "not an x86-64 ELF file");
    assert_string_equal(elf_strerror(ELF_E_SEG_OVERLAP), "segments overlap in memory");
    assert_string_equal(elf_strerror(-1), "unknown ELF error");
    assert_string_equal(elf_strerror(ELF_STATUS_COUNT), "unknown ELF error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_valid),
        cmocka_unit_test(test_simple_load_zeroes_bss),
        cmocka_unit_test(test_multi_valid_and_load),
        cmocka_unit_test(test_unaligned_image),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_ident_and_header),
        cmocka_unit_test(test_phdr_table_shape),
        cmocka_unit_test(test_phdrs_outside_file),
        cmocka_unit_test(test_filesz_above_memsz),
        cmocka_unit_test(test_segment_file_range),
        cmocka_unit_test(test_segment_memory_overflow),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_entry),
        cmocka_unit_test(test_no_load),
        cmocka_unit_test(test_load_validates_first),
        cmocka_unit_test(test_map_refused),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
