// SPDX-License-Identifier: Apache-2.0
// ELF64 validation and segment loading (see common/elf.h). Every header field is read
// through memcpy so the image may sit at any alignment, and every sum of two file-supplied
// values is checked for 64-bit wrap before it is compared against anything.
#include "common/elf.h"

#include <string.h>

static const char *const elf_messages[ELF_STATUS_COUNT] = {
    [ELF_OK] = "ok",
    [ELF_E_ARG] = "no image",
    [ELF_E_TRUNCATED] = "file smaller than an ELF header",
    [ELF_E_MAGIC] = "not an ELF file (bad magic)",
    [ELF_E_CLASS] = "not a 64-bit ELF file",
    [ELF_E_DATA] = "not a little-endian ELF file",
    [ELF_E_VERSION] = "unknown ELF version",
    [ELF_E_MACHINE] = "not an x86-64 ELF file",
    [ELF_E_TYPE] = "not an executable (ET_EXEC) ELF file",
    [ELF_E_PHENTSIZE] = "bad program header entry size",
    [ELF_E_PHNUM] = "bad program header count",
    [ELF_E_PHDRS_RANGE] = "program header table outside the file",
    [ELF_E_SEG_FILESZ] = "segment file size larger than its memory size",
    [ELF_E_SEG_FILE_OVERFLOW] = "segment file offset + size overflows",
    [ELF_E_SEG_FILE_RANGE] = "segment data outside the file",
    [ELF_E_SEG_MEM_OVERFLOW] = "segment address + size overflows",
    [ELF_E_SEG_OVERLAP] = "segments overlap in memory",
    [ELF_E_NO_LOAD] = "no loadable segment",
    [ELF_E_ENTRY] = "entry point outside the executable segments",
    [ELF_E_MAP] = "segment memory could not be mapped",
};

const char *elf_strerror(int status)
{
    if (status < 0 || status >= ELF_STATUS_COUNT)
        return "unknown ELF error";
    return elf_messages[status];
}

/* a + b without wrapping, or false. */
static int elf_add(uint64_t a, uint64_t b, uint64_t *sum)
{
    return !__builtin_add_overflow(a, b, sum);
}

static void elf_read_phdr(const uint8_t *img, const struct elf64_ehdr *eh, unsigned i,
                          struct elf64_phdr *ph)
{
    memcpy(ph, img + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static int elf_check_header(const uint8_t *img, size_t size, struct elf64_ehdr *eh)
{
    if (size < sizeof(*eh))
        return ELF_E_TRUNCATED;
    memcpy(eh, img, sizeof(*eh));
    if (memcmp(eh->e_ident, ELF_MAGIC, 4) != 0)
        return ELF_E_MAGIC;
    if (eh->e_ident[ELF_EI_CLASS] != ELF_CLASS64)
        return ELF_E_CLASS;
    if (eh->e_ident[ELF_EI_DATA] != ELF_DATA2LSB)
        return ELF_E_DATA;
    if (eh->e_ident[ELF_EI_VERSION] != ELF_EV_CURRENT || eh->e_version != ELF_EV_CURRENT)
        return ELF_E_VERSION;
    if (eh->e_machine != ELF_EM_X86_64)
        return ELF_E_MACHINE;
    if (eh->e_type != ELF_ET_EXEC)
        return ELF_E_TYPE;
    if (eh->e_phentsize != sizeof(struct elf64_phdr))
        return ELF_E_PHENTSIZE;
    /* gABI: e_phnum == PN_XNUM means the count lives in section header 0; a loader of
     * executables has no use for that many segments. */
    if (eh->e_phnum == 0 || eh->e_phnum == ELF_PN_XNUM || eh->e_phnum > ELF_MAX_PHDRS)
        return ELF_E_PHNUM;
    uint64_t end;
    if (!elf_add(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr), &end) ||
        end > size)
        return ELF_E_PHDRS_RANGE;
    return ELF_OK;
}

/* One PT_LOAD on its own. Segments with p_filesz == 0 read nothing, so their p_offset is
 * not checked. */
static int elf_check_segment(const struct elf64_phdr *ph, size_t size)
{
    uint64_t end;
    if (ph->p_filesz > ph->p_memsz)
        return ELF_E_SEG_FILESZ;
    if (ph->p_filesz != 0) {
        if (!elf_add(ph->p_offset, ph->p_filesz, &end))
            return ELF_E_SEG_FILE_OVERFLOW;
        if (end > size)
            return ELF_E_SEG_FILE_RANGE;
    }
    if (!elf_add(ph->p_paddr, ph->p_memsz, &end) || !elf_add(ph->p_vaddr, ph->p_memsz, &end))
        return ELF_E_SEG_MEM_OVERFLOW;
    return ELF_OK;
}

int elf_check(const void *image, size_t size, struct elf_info *out)
{
    const uint8_t *img = image;
    struct elf64_ehdr eh;
    struct elf64_phdr ph, other;
    int rc;

    out->entry = out->entry_phys = out->load_lo = out->load_hi = 0;
    out->seg_count = 0;
    out->bad_phdr = out->bad_phdr2 = -1;
    if (!img)
        return ELF_E_ARG;
    rc = elf_check_header(img, size, &eh);
    if (rc != ELF_OK)
        return rc;

    uint64_t lo = UINT64_MAX, hi = 0;
    int entry_found = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        elf_read_phdr(img, &eh, i, &ph);
        if (ph.p_type != ELF_PT_LOAD)
            continue;
        out->bad_phdr = (int32_t)i;
        rc = elf_check_segment(&ph, size);
        if (rc != ELF_OK)
            return rc;
        if (ph.p_memsz == 0)
            continue;
        /* Pairwise against the earlier segments: O(n^2) with n <= ELF_MAX_PHDRS. */
        for (unsigned j = 0; j < i; j++) {
            elf_read_phdr(img, &eh, j, &other);
            if (other.p_type != ELF_PT_LOAD || other.p_memsz == 0)
                continue;
            if (ph.p_paddr < other.p_paddr + other.p_memsz &&
                other.p_paddr < ph.p_paddr + ph.p_memsz) {
                out->bad_phdr2 = (int32_t)j;
                return ELF_E_SEG_OVERLAP;
            }
        }
        out->seg_count++;
        if (ph.p_paddr < lo)
            lo = ph.p_paddr;
        if (ph.p_paddr + ph.p_memsz > hi)
            hi = ph.p_paddr + ph.p_memsz;
        /* The entry must land on code that was actually loaded from the file, not on the
         * zero-filled tail. */
        if (!entry_found && (ph.p_flags & ELF_PF_X) && eh.e_entry >= ph.p_vaddr &&
            eh.e_entry - ph.p_vaddr < ph.p_filesz) {
            entry_found = 1;
            out->entry_phys = ph.p_paddr + (eh.e_entry - ph.p_vaddr);
        }
    }
    out->bad_phdr = -1;
    if (out->seg_count == 0)
        return ELF_E_NO_LOAD;
    if (!entry_found) {
        out->entry_phys = 0;
        return ELF_E_ENTRY;
    }
    out->entry = eh.e_entry;
    out->load_lo = lo;
    out->load_hi = hi;
    return ELF_OK;
}

int elf_load(const void *image, size_t size, elf_map_fn *map, void *ctx, struct elf_info *out)
{
    const uint8_t *img = image;
    struct elf_info info;
    struct elf64_ehdr eh;
    struct elf64_phdr ph;
    int rc;

    if (!out)
        out = &info;
    rc = elf_check(image, size, out);
    if (rc != ELF_OK)
        return rc;
    if (!map)
        return ELF_E_ARG;
    memcpy(&eh, img, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        elf_read_phdr(img, &eh, i, &ph);
        if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
            continue;
        uint8_t *dst = map(ph.p_paddr, ph.p_memsz, ctx);
        if (!dst) {
            out->bad_phdr = (int32_t)i;
            return ELF_E_MAP;
        }
        if (ph.p_filesz)
            memcpy(dst, img + ph.p_offset, ph.p_filesz);
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    }
    return ELF_OK;
}
