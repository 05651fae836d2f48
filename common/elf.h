// SPDX-License-Identifier: Apache-2.0
// Pure ELF64 executable loader: validates an x86-64 ET_EXEC image held in memory and copies
// its PT_LOAD segments, by physical address, through a caller-supplied mapping callback.
// Used by the UEFI loader for the kernel and by the kernel for guest images. No allocation,
// no fixed addresses; the file formats are those of the ELF gABI (System V ABI, ch. 4 and 5).
#ifndef COMMON_ELF_H
#define COMMON_ELF_H

#include <stddef.h>
#include <stdint.h>

/* ---- file format (gABI "ELF Header", "Program Header") ---------------------------------- */

#define ELF_EI_NIDENT   16
#define ELF_EI_MAG0     0
#define ELF_EI_CLASS    4
#define ELF_EI_DATA     5
#define ELF_EI_VERSION  6
#define ELF_MAGIC       "\177ELF"
#define ELF_CLASS64     2  /* EI_CLASS: ELFCLASS64 */
#define ELF_DATA2LSB    1  /* EI_DATA: two's complement, little-endian */
#define ELF_EV_CURRENT  1  /* EI_VERSION and e_version */
#define ELF_ET_EXEC     2  /* e_type: executable file */
#define ELF_EM_X86_64   62 /* e_machine: AMD x86-64 (psABI x86-64, sect. 4.1.1) */
#define ELF_PT_LOAD     1  /* p_type: loadable segment */
#define ELF_PN_XNUM     0xffffu /* e_phnum escape: real count elsewhere (not supported) */
#define ELF_PF_X        0x1u /* p_flags: execute */
#define ELF_PF_W        0x2u
#define ELF_PF_R        0x4u

struct elf64_ehdr {
    uint8_t e_ident[ELF_EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "Elf64_Ehdr is 64 bytes");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_entry) == 0x18, "Elf64_Ehdr layout");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phoff) == 0x20, "Elf64_Ehdr layout");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phentsize) == 0x36, "Elf64_Ehdr layout");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phnum) == 0x38, "Elf64_Ehdr layout");

struct elf64_phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};
_Static_assert(sizeof(struct elf64_phdr) == 56, "Elf64_Phdr is 56 bytes");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_paddr) == 0x18, "Elf64_Phdr layout");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_memsz) == 0x28, "Elf64_Phdr layout");

/* ---- loader interface ------------------------------------------------------------------- */

/* Program headers beyond this count are refused: keeps the pairwise overlap check bounded
 * on hostile input. Real kernels and guests have a handful. */
#define ELF_MAX_PHDRS 128

/* Result codes: 0 is success, every failure is distinct (see elf_strerror). */
enum elf_status {
    ELF_OK = 0,
    ELF_E_ARG,             /* NULL image (or NULL map callback) */
    ELF_E_TRUNCATED,       /* smaller than the ELF header */
    ELF_E_MAGIC,           /* e_ident does not start with \177ELF */
    ELF_E_CLASS,           /* not ELFCLASS64 */
    ELF_E_DATA,            /* not little-endian */
    ELF_E_VERSION,         /* EI_VERSION or e_version is not EV_CURRENT */
    ELF_E_MACHINE,         /* e_machine is not EM_X86_64 */
    ELF_E_TYPE,            /* e_type is not ET_EXEC */
    ELF_E_PHENTSIZE,       /* e_phentsize is not sizeof(Elf64_Phdr) */
    ELF_E_PHNUM,           /* e_phnum is 0, PN_XNUM or above ELF_MAX_PHDRS */
    ELF_E_PHDRS_RANGE,     /* program header table not inside the file */
    ELF_E_SEG_FILESZ,      /* PT_LOAD with p_filesz > p_memsz */
    ELF_E_SEG_FILE_OVERFLOW, /* PT_LOAD p_offset + p_filesz overflows 64 bits */
    ELF_E_SEG_FILE_RANGE,  /* PT_LOAD file bytes not inside the file */
    ELF_E_SEG_MEM_OVERFLOW,  /* PT_LOAD p_paddr + p_memsz (or p_vaddr + p_memsz) overflows */
    ELF_E_SEG_OVERLAP,     /* two PT_LOAD segments overlap in physical memory */
    ELF_E_NO_LOAD,         /* no PT_LOAD segment with p_memsz > 0 */
    ELF_E_ENTRY,           /* e_entry is not inside the file bytes of an executable PT_LOAD */
    ELF_E_MAP,             /* the map callback refused a segment (elf_load only) */
    ELF_STATUS_COUNT
};

/* What elf_check found. On failure only bad_phdr is meaningful. */
struct elf_info {
    uint64_t entry;      /* e_entry (virtual) */
    uint64_t entry_phys; /* e_entry translated through its segment: where to jump when
                            the image runs identity-mapped at its physical addresses */
    uint64_t load_lo;    /* lowest p_paddr of a PT_LOAD with p_memsz > 0 */
    uint64_t load_hi;    /* highest p_paddr + p_memsz (exclusive end) */
    uint32_t seg_count;  /* PT_LOAD segments with p_memsz > 0 */
    int32_t bad_phdr;    /* on failure: index of the offending program header, else -1 */
    int32_t bad_phdr2;   /* ELF_E_SEG_OVERLAP: index of the other segment, else -1 */
};

/* Callback of elf_load: return a writable pointer to len bytes standing for physical
 * [paddr, paddr + len), or NULL to refuse. */
typedef void *elf_map_fn(uint64_t paddr, uint64_t len, void *ctx);

/* Validate img[0, size) as an x86-64 ELF64 ET_EXEC image. Returns ELF_OK and fills *out,
 * or an ELF_E_* code with out->bad_phdr set. out may not be NULL. Reads nothing outside
 * the buffer; img need not be aligned. */
int elf_check(const void *img, size_t size, struct elf_info *out);

/* Validate (as elf_check) and then, for each PT_LOAD with p_memsz > 0, in header order:
 * map(p_paddr, p_memsz), copy p_filesz bytes, zero the rest of p_memsz. Nothing is
 * mapped when validation fails; ELF_E_MAP means earlier segments were already written.
 * out may be NULL. */
int elf_load(const void *img, size_t size, elf_map_fn *map, void *ctx, struct elf_info *out);

/* A short human description of an elf_status ("program header table outside the file"). */
const char *elf_strerror(int status);

#endif
