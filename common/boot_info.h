// SPDX-License-Identifier: Apache-2.0
// The boot ABI between Moat's loaders (UEFI application, Multiboot2 entry) and the kernel.
// Versioned and fixed-layout: a loader fills one struct boot_info and jumps to the kernel
// with its physical address in RDI. Nothing here points back into loader code.
#ifndef COMMON_BOOT_INFO_H
#define COMMON_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x4f464e49544f4f42ull /* "BOOTINFO" little-endian */
#define BOOT_INFO_VERSION 2u

/* The kernel image is linked to run identity-mapped at this physical address.
 * Both loaders place it there (linker.ld uses the same value). */
#define KERNEL_LOAD_PHYS 0x1000000ull

/* Memory-map types: what the kernel may do with a range. Loaders translate
 * firmware types (UEFI EFI_MEMORY_TYPE, Multiboot2/E820) into these. */
enum boot_mem_type {
    BOOT_MEM_USABLE = 1,       /* free RAM once the loader is gone */
    BOOT_MEM_RESERVED = 2,     /* never touch */
    BOOT_MEM_ACPI_RECLAIM = 3, /* ACPI tables: read, never allocate */
    BOOT_MEM_ACPI_NVS = 4,     /* firmware-owned, must be preserved */
    BOOT_MEM_FW_RUNTIME = 5,   /* UEFI runtime services code/data */
    BOOT_MEM_LOADED = 6,       /* kernel, modules, boot_info: owned by the kernel */
    BOOT_MEM_BAD = 7,          /* unusable (defective) RAM */
    BOOT_MEM_PERSISTENT = 8,   /* persistent memory, not allocated */
};

struct boot_mem_range {
    uint64_t base;   /* physical address, bytes */
    uint64_t length; /* bytes */
    uint32_t type;   /* enum boot_mem_type */
    uint32_t rsvd_0x14;
};
_Static_assert(sizeof(struct boot_mem_range) == 24, "boot_mem_range layout");

#define BOOT_MODULE_NAME_MAX 64
struct boot_module {
    uint64_t base; /* physical address of the first byte, page-aligned */
    uint64_t size; /* bytes */
    char name[BOOT_MODULE_NAME_MAX]; /* NUL-terminated file name, e.g. "moat.cfg" */
};
_Static_assert(sizeof(struct boot_module) == 80, "boot_module layout");

/* Linear framebuffer as reported by GOP or the Multiboot2 framebuffer tag. base == 0: none. */
struct boot_framebuffer {
    uint64_t base;
    uint32_t width, height; /* pixels */
    uint32_t pitch;         /* bytes per scan line */
    uint8_t bpp;            /* bits per pixel */
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
    uint8_t rsvd_0x1b;
};
_Static_assert(sizeof(struct boot_framebuffer) == 32, "boot_framebuffer layout");

enum boot_source {
    BOOT_SOURCE_UEFI = 1,
    BOOT_SOURCE_MULTIBOOT2 = 2,
};

#define BOOT_MEM_MAX     512
#define BOOT_MODULES_MAX 32
#define BOOT_CMDLINE_MAX 256
#define BOOT_CPUS_MAX    256

struct boot_info {
    uint64_t magic;     /* BOOT_INFO_MAGIC */
    uint32_t version;   /* BOOT_INFO_VERSION */
    uint32_t size;      /* sizeof(struct boot_info) as the loader knew it */
    uint32_t source;    /* enum boot_source */
    uint32_t mem_count; /* valid entries in mem[], sorted by base, non-overlapping */
    uint32_t module_count;
    uint32_t rsvd_0x1c;
    uint64_t rsdp;        /* physical address of the ACPI RSDP, 0 if none was found */
    uint64_t kernel_base; /* physical range the kernel image occupies (incl. bss) */
    uint64_t kernel_size;
    char cmdline[BOOT_CMDLINE_MAX]; /* NUL-terminated */
    struct boot_framebuffer fb;
    struct boot_mem_range mem[BOOT_MEM_MAX];
    struct boot_module modules[BOOT_MODULES_MAX];
    /* The CPUs the firmware knows, when the loader can ask it (UEFI MP Services, PI spec
     * vol. 2 13.4): APIC IDs of the enabled, healthy processors, the boot CPU first.
     * cpu_count 0: unknown; the kernel relies on the ACPI MADT, which wins when present. */
    uint32_t cpu_count;
    uint32_t rsvd_cpus;
    uint32_t cpu_apic_id[BOOT_CPUS_MAX];
};
_Static_assert(__builtin_offsetof(struct boot_info, rsdp) == 0x20, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, cmdline) == 0x38, "boot_info layout");

#endif
