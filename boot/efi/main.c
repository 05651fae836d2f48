// SPDX-License-Identifier: Apache-2.0
// Moat's UEFI application (BOOTX64.EFI): reads \EFI\MOAT on its own volume (kernel
// moat.elf, modules, cmdline.txt), fills struct boot_info, exits boot services and jumps to
// the kernel. The only code that calls UEFI; the parsing it needs lives in the pure files
// common/elf.c, boot/efi/memmap.c and boot/efi/convert.c.
#include <efi.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "boot/efi/convert.h"
#include "boot/efi/memmap.h"
#include "common/boot_info.h"
#include "common/elf.h"

#define LDR_DIR         "\\EFI\\MOAT"
#define LDR_KERNEL      "moat.elf"
#define LDR_CMDLINE     "cmdline.txt"
#define LDR_PAGE        4096ull
#define LDR_BELOW_4G    0xffffffffull /* AllocateMaxAddress limit: last usable byte */
#define LDR_ERROR_STALL 3000000       /* us the error stays on screen before we return */
#define LDR_EXIT_TRIES  8             /* ExitBootServices attempts with a stale map key */
#define LDR_MAP_SLACK   64            /* spare descriptors in the memory map buffer */
#define LDR_READ_CHUNK  (4u << 20)    /* some firmware fails on very large single reads */
#define LDR_CMDLINE_READ 1024         /* bytes of cmdline.txt we look at */

/* COM1, for the one case where the console is gone: a failure after ExitBootServices.
 * 16550: THR at +0, LSR at +5, LSR bit 5 = THR empty (PC16550D datasheet, LSR). */
#define LDR_COM1        0x3f8
#define LDR_UART_LSR    5
#define LDR_LSR_THRE    0x20

/* The memory map type below must match what the firmware hands us. */
_Static_assert(sizeof(EFI_MEMORY_DESCRIPTOR) == sizeof(struct efimap_desc), "descriptor");
_Static_assert((int)EfiLoaderData == EFIMAP_T_LOADER_DATA, "EFI_MEMORY_TYPE numbering");
_Static_assert((int)EfiConventionalMemory == EFIMAP_T_CONVENTIONAL, "EFI_MEMORY_TYPE numbering");
_Static_assert((int)EfiPalCode == EFIMAP_T_PAL_CODE, "EFI_MEMORY_TYPE numbering");
_Static_assert((int)PixelBitMask == CONV_PIXEL_BITMASK, "EFI_GRAPHICS_PIXEL_FORMAT numbering");
_Static_assert((int)PixelBltOnly == CONV_PIXEL_BLT_ONLY, "EFI_GRAPHICS_PIXEL_FORMAT numbering");
/* UEFI 2.10 sect. 13.5.16: EFI_FILE_INFO is 80 bytes before the name. */
#define LDR_FILE_INFO_HDR __builtin_offsetof(EFI_FILE_INFO, FileName)
_Static_assert(LDR_FILE_INFO_HDR == 80, "EFI_FILE_INFO layout");

/* The kernel entry: a SysV function (GNU-EFI code calls firmware with the MS ABI). */
typedef void __attribute__((sysv_abi)) ldr_kernel_entry(struct boot_info *bi);

static EFI_GUID ldr_guid_loaded_image = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID ldr_guid_sfs = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID ldr_guid_file_info = EFI_FILE_INFO_ID;
static EFI_GUID ldr_guid_gop = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
static EFI_GUID ldr_guid_acpi20 = ACPI_20_TABLE_GUID;
static EFI_GUID ldr_guid_acpi10 = ACPI_TABLE_GUID;

static EFI_SYSTEM_TABLE *ldr_st;
static EFI_BOOT_SERVICES *ldr_bs;

/* Pages we own: everything is given back if we return to the firmware. */
struct ldr_alloc {
    EFI_PHYSICAL_ADDRESS base;
    UINTN pages;
};
static struct ldr_alloc ldr_allocs[BOOT_MODULES_MAX + 32];
static unsigned ldr_alloc_count;

/* A directory entry or GetInfo result: EFI_FILE_INFO plus a 255-character FAT long name. */
static uint64_t ldr_info_buf[(LDR_FILE_INFO_HDR + 512 + 64) / 8];

static char ldr_cmdline_file[BOOT_CMDLINE_MAX];
static int ldr_cmdline_file_len;

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

/* ---- console -------------------------------------------------------------------------- */

static void ldr_puts(const char *s)
{
    CHAR16 buf[128];
    size_t n = 0;
    for (; *s; s++) {
        if (n + 3 >= sizeof(buf) / sizeof(buf[0])) {
            buf[n] = 0;
            ldr_st->ConOut->OutputString(ldr_st->ConOut, buf);
            n = 0;
        }
        if (*s == '\n')
            buf[n++] = '\r';
        buf[n++] = (CHAR16)(uint8_t)*s;
    }
    buf[n] = 0;
    ldr_st->ConOut->OutputString(ldr_st->ConOut, buf);
}

__attribute__((format(printf, 1, 2))) static void ldr_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ldr_puts(buf);
}

/* "moat-loader: error: <what> (<path>)". Returns status so callers can `return ldr_error()`. */
__attribute__((format(printf, 3, 4)))
static EFI_STATUS ldr_error(EFI_STATUS status, const char *path, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    ldr_printf("moat-loader: error: %s (%s)\n", what, path);
    return status;
}

static const char *ldr_status_str(EFI_STATUS s)
{
    switch (s) {
    case EFI_SUCCESS: return "success";
    case EFI_NOT_FOUND: return "not found";
    case EFI_OUT_OF_RESOURCES: return "out of resources";
    case EFI_DEVICE_ERROR: return "device error";
    case EFI_VOLUME_CORRUPTED: return "volume corrupted";
    case EFI_ACCESS_DENIED: return "access denied";
    case EFI_BUFFER_TOO_SMALL: return "buffer too small";
    case EFI_INVALID_PARAMETER: return "invalid parameter";
    case EFI_UNSUPPORTED: return "unsupported";
    case EFI_NO_MEDIA: return "no media";
    default: return "firmware error";
    }
}

/* ---- after ExitBootServices: COM1 only --------------------------------------------------- */

static inline void ldr_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t ldr_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void ldr_serial_puts(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            ldr_serial_puts("\r");
        for (unsigned spin = 0; spin < 100000 && !(ldr_inb(LDR_COM1 + LDR_UART_LSR) & LDR_LSR_THRE);
             spin++)
            ;
        ldr_outb(LDR_COM1, (uint8_t)*s);
    }
}

/* No firmware to return to and no console: say why on COM1 and stop this CPU. */
__attribute__((noreturn)) static void ldr_dead(const char *what)
{
    ldr_serial_puts("moat-loader: error: ");
    ldr_serial_puts(what);
    ldr_serial_puts(" (after ExitBootServices; halted)\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- memory ---------------------------------------------------------------------------- */

static uint64_t ldr_pages(uint64_t bytes)
{
    return bytes / LDR_PAGE + (bytes % LDR_PAGE != 0);
}

/* AllocatePages with the given placement; *addr is the AllocateAddress/MaxAddress input and
 * the result. Recorded so ldr_free_all can undo it. */
static EFI_STATUS ldr_alloc(EFI_ALLOCATE_TYPE how, EFI_MEMORY_TYPE type, uint64_t pages,
                            EFI_PHYSICAL_ADDRESS *addr)
{
    if (ldr_alloc_count == sizeof(ldr_allocs) / sizeof(ldr_allocs[0]))
        return EFI_OUT_OF_RESOURCES;
    EFI_STATUS s = ldr_bs->AllocatePages(how, type, pages, addr);
    if (!EFI_ERROR(s))
        ldr_allocs[ldr_alloc_count++] = (struct ldr_alloc){ *addr, pages };
    return s;
}

static void ldr_free(EFI_PHYSICAL_ADDRESS base)
{
    for (unsigned i = 0; i < ldr_alloc_count; i++) {
        if (ldr_allocs[i].base == base) {
            ldr_bs->FreePages(base, ldr_allocs[i].pages);
            ldr_allocs[i] = ldr_allocs[--ldr_alloc_count];
            return;
        }
    }
}

static void ldr_free_all(void)
{
    while (ldr_alloc_count > 0) {
        ldr_alloc_count--;
        ldr_bs->FreePages(ldr_allocs[ldr_alloc_count].base, ldr_allocs[ldr_alloc_count].pages);
    }
}

/* ---- files ----------------------------------------------------------------------------- */

static void ldr_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s\\%s", LDR_DIR, name);
}

static EFI_STATUS ldr_open(EFI_FILE_HANDLE dir, const char *name, EFI_FILE_HANDLE *out)
{
    CHAR16 wide[BOOT_MODULE_NAME_MAX + 16];
    size_t n = 0;
    for (; name[n] && n + 1 < sizeof(wide) / sizeof(wide[0]); n++)
        wide[n] = (CHAR16)(uint8_t)name[n];
    wide[n] = 0;
    return dir->Open(dir, out, wide, EFI_FILE_MODE_READ, 0);
}

/* Read exactly size bytes from the start of f into buf. */
static EFI_STATUS ldr_read(EFI_FILE_HANDLE f, void *buf, uint64_t size, const char *path)
{
    uint64_t done = 0;
    while (done < size) {
        UINTN chunk = size - done > LDR_READ_CHUNK ? LDR_READ_CHUNK : (UINTN)(size - done);
        EFI_STATUS s = f->Read(f, &chunk, (uint8_t *)buf + done);
        if (EFI_ERROR(s))
            return ldr_error(s, path, "cannot read file: %s", ldr_status_str(s));
        if (chunk == 0)
            return ldr_error(EFI_END_OF_FILE, path,
                             "file shorter than its size (%llu of %llu bytes)",
                             (unsigned long long)done, (unsigned long long)size);
        done += chunk;
    }
    return EFI_SUCCESS;
}

static EFI_STATUS ldr_file_size(EFI_FILE_HANDLE f, uint64_t *size, const char *path)
{
    UINTN len = sizeof(ldr_info_buf);
    EFI_STATUS s = f->GetInfo(f, &ldr_guid_file_info, &len, ldr_info_buf);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "cannot get file size: %s", ldr_status_str(s));
    *size = ((EFI_FILE_INFO *)ldr_info_buf)->FileSize;
    return EFI_SUCCESS;
}

/* ---- kernel ---------------------------------------------------------------------------- */

/* Where the kernel goes: [lo, hi) page-rounded around its PT_LOAD segments. When that range
 * is still boot-services memory, the image is staged elsewhere and moved there after
 * ExitBootServices (OVMF keeps its decompressed DXE volume at 9-21 MiB, for one). */
struct ldr_kernel {
    uint64_t lo, hi;
    uint64_t entry;   /* physical entry point */
    uint8_t *staging; /* NULL: loaded in place */
};

/* A snapshot of the memory map in pool memory (caller frees it with FreePool). */
static EFI_STATUS ldr_get_map(uint8_t **map, UINTN *size, UINTN *dsize)
{
    UINTN key;
    UINT32 dver;
    EFI_STATUS s;
    *map = NULL;
    *size = 0;
    s = ldr_bs->GetMemoryMap(size, NULL, &key, dsize, &dver);
    for (int tries = 0; s == EFI_BUFFER_TOO_SMALL && tries < 4; tries++) {
        if (*map)
            ldr_bs->FreePool(*map);
        *size += 8 * *dsize;
        s = ldr_bs->AllocatePool(EfiBootServicesData, *size, (void **)map);
        if (EFI_ERROR(s)) {
            *map = NULL;
            return s;
        }
        s = ldr_bs->GetMemoryMap(size, (EFI_MEMORY_DESCRIPTOR *)*map, &key, dsize, &dver);
    }
    if (EFI_ERROR(s) && *map) {
        ldr_bs->FreePool(*map);
        *map = NULL;
    }
    return s;
}

static const char *ldr_efi_type_name(uint32_t type)
{
    static const char *const names[] = {
        "Reserved", "LoaderCode", "LoaderData", "BootServicesCode", "BootServicesData",
        "RuntimeServicesCode", "RuntimeServicesData", "Conventional", "Unusable",
        "ACPIReclaim", "ACPINVS", "MMIO", "MMIOPortSpace", "PalCode", "Persistent",
    };
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : "other";
}

/* After a failed reservation: list what the firmware's map says lives in [lo, hi). */
static void ldr_explain_range(uint64_t lo, uint64_t hi)
{
    uint8_t *map;
    UINTN size, dsize;
    if (EFI_ERROR(ldr_get_map(&map, &size, &dsize)))
        return;
    uint64_t at = lo;
    for (UINTN off = 0; dsize >= sizeof(struct efimap_desc) && off + dsize <= size;
         off += dsize) {
        struct efimap_desc d;
        memcpy(&d, map + off, sizeof(d));
        uint64_t end = d.phys_start + d.num_pages * LDR_PAGE;
        if (d.phys_start >= hi || end <= lo)
            continue;
        ldr_printf("moat-loader:   0x%llx-0x%llx is %s\n", (unsigned long long)d.phys_start,
                   (unsigned long long)end - 1, ldr_efi_type_name(d.type));
        at = end > at ? end : at;
    }
    if (at < hi)
        ldr_printf("moat-loader:   (parts of the range are not RAM in the memory map)\n");
    ldr_bs->FreePool(map);
}

/* Intel SDM vol. 3A sect. 4.5 (4-level and 5-level paging): P is bit 0, R/W bit 1, PS (a
 * 1 GiB or 2 MiB page instead of a table) bit 7, XD bit 63, the next table's address bits
 * 51:12. */
#define LDR_PTE_P      0x1ull
#define LDR_PTE_RW     0x2ull
#define LDR_PTE_PS     0x80ull
#define LDR_PTE_ADDR   0x000ffffffffff000ull
#define LDR_PTE_XD     (1ull << 63) /* execute-disable, when IA32_EFER.NXE = 1 */
#define LDR_CR0_WP     (1ull << 16) /* SDM vol. 3A sect. 2.5: supervisor writes obey R/W */
#define LDR_CR4_LA57   (1ull << 12) /* SDM vol. 3A sect. 2.5: 5-level paging */
#define LDR_MSR_EFER   0xc0000080u
#define LDR_EFER_NXE   (1ull << 11) /* SDM vol. 3A sect. 2.2.1, IA32_EFER */
#define LDR_STACK_SPAN (64u << 10)  /* bytes of stack around RSP we must not overwrite */

static uint64_t ldr_read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static int ldr_paging_levels(void)
{
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    return (cr4 & LDR_CR4_LA57) ? 5 : 4;
}

/* The entries the firmware's identity map uses to translate va, top level first, into
 * path[]; returns how many, or 0 if va is not mapped. */
static int ldr_walk(uint64_t va, volatile uint64_t *path[5])
{
    uint64_t table = ldr_read_cr3() & LDR_PTE_ADDR;
    int n = 0;
    for (int level = ldr_paging_levels();; level--) {
        volatile uint64_t *e = (volatile uint64_t *)(uintptr_t)table +
                               ((va >> (12 + 9 * (level - 1))) & 511);
        path[n++] = e;
        if (!(*e & LDR_PTE_P))
            return 0;
        if (level == 1 || (level <= 3 && (*e & LDR_PTE_PS)))
            return n;
        table = *e & LDR_PTE_ADDR;
    }
}

/* Whether every page of [lo, hi) is mapped by the firmware's page tables: the kernel's
 * first instructions run on them. */
static int ldr_range_mapped(uint64_t lo, uint64_t hi)
{
    volatile uint64_t *path[5];
    for (uint64_t va = lo; va < hi; va += LDR_PAGE)
        if (!ldr_walk(va, path))
            return 0;
    return 1;
}

/* After ExitBootServices, with interrupts off: move a staged kernel into its range and
 * make the range writable and executable in the firmware's page tables, which the kernel
 * runs on until it loads its own. Firmware memory protection may have mapped it read-only
 * (boot-services code) or execute-disable (boot-services or loader data). CR0.WP is off
 * while we write, since the page tables themselves may be mapped read-only. */
static void ldr_install_kernel(const struct ldr_kernel *k)
{
    volatile uint64_t *path[5];
    uint64_t cr0;
    uint32_t efer_lo, efer_hi;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~LDR_CR0_WP) : "memory");
    __asm__ volatile("rdmsr" : "=a"(efer_lo), "=d"(efer_hi) : "c"(LDR_MSR_EFER));
    uint64_t clear = (efer_lo & LDR_EFER_NXE) ? LDR_PTE_XD : 0;
    for (uint64_t va = k->lo; va < k->hi; va += LDR_PAGE) {
        int n = ldr_walk(va, path);
        for (int i = 0; i < n; i++) {
            uint64_t e = *path[i];
            if ((e & clear) || !(e & LDR_PTE_RW))
                *path[i] = (e & ~clear) | LDR_PTE_RW;
        }
    }
    __asm__ volatile("mov %0, %%cr3" : : "r"(ldr_read_cr3()) : "memory"); /* flush the TLB */
    if (k->staging)
        memcpy((void *)(uintptr_t)k->lo, k->staging, k->hi - k->lo);
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

static int ldr_overlaps(uint64_t a, uint64_t len, uint64_t lo, uint64_t hi)
{
    return a < hi && a + len > lo;
}

/* Whether a paging structure at `table` (level 1 = page table) or any table below it lies
 * in [lo, hi). The firmware maps memory identity, so tables are read at their addresses. */
static int ldr_tables_in(uint64_t table, int level, uint64_t lo, uint64_t hi)
{
    if (ldr_overlaps(table, LDR_PAGE, lo, hi))
        return 1;
    if (level == 1)
        return 0;
    const volatile uint64_t *e = (const volatile uint64_t *)(uintptr_t)table;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t v = e[i];
        if (!(v & LDR_PTE_P) || (level <= 3 && (v & LDR_PTE_PS)))
            continue;
        if (ldr_tables_in(v & LDR_PTE_ADDR, level - 1, lo, hi))
            return 1;
    }
    return 0;
}

/* Firmware state the CPU keeps using between ExitBootServices and the kernel installing its
 * own: page tables, GDT, IDT and this stack. NULL if none of it is in [lo, hi). */
static const char *ldr_firmware_state_in(uint64_t lo, uint64_t hi)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr, idtr;
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    if (ldr_overlaps(rsp - LDR_STACK_SPAN, 2 * LDR_STACK_SPAN, lo, hi))
        return "the firmware's stack";
    if (ldr_overlaps(gdtr.base, gdtr.limit + 1u, lo, hi))
        return "the firmware's GDT";
    if (ldr_overlaps(idtr.base, idtr.limit + 1u, lo, hi))
        return "the firmware's IDT";
    if (ldr_tables_in(ldr_read_cr3() & LDR_PTE_ADDR, ldr_paging_levels(), lo, hi))
        return "the firmware's page tables";
    return NULL;
}

/* Take every ConventionalMemory page in [k->lo, k->hi) as LoaderData, so that no later
 * allocation (ours or the firmware's) lands where the staged kernel will be copied.
 * Descriptor bounds and lo/hi are page-aligned. */
static EFI_STATUS ldr_claim_free_parts(const struct ldr_kernel *k)
{
    uint8_t *map;
    UINTN size, dsize;
    EFI_STATUS s = ldr_get_map(&map, &size, &dsize);
    if (EFI_ERROR(s))
        return s;
    for (UINTN off = 0; off + dsize <= size && !EFI_ERROR(s); off += dsize) {
        struct efimap_desc d;
        memcpy(&d, map + off, sizeof(d));
        uint64_t end = d.phys_start + d.num_pages * LDR_PAGE;
        if (d.type != EFIMAP_T_CONVENTIONAL || d.phys_start >= k->hi || end <= k->lo)
            continue;
        EFI_PHYSICAL_ADDRESS at = d.phys_start > k->lo ? d.phys_start : k->lo;
        uint64_t b = end < k->hi ? end : k->hi;
        s = ldr_alloc(AllocateAddress, EfiLoaderData, (b - at) / LDR_PAGE, &at);
    }
    ldr_bs->FreePool(map);
    return s;
}

/* Own [k->lo, k->hi): in place if it is free now, else (only boot-services memory in it)
 * reserve its free parts, check no live firmware state sits there, and stage. */
static EFI_STATUS ldr_reserve_kernel(struct ldr_kernel *k, const char *path)
{
    uint64_t pages = (k->hi - k->lo) / LDR_PAGE;
    EFI_PHYSICAL_ADDRESS at = k->lo;
    EFI_STATUS s = ldr_alloc(AllocateAddress, EfiLoaderData, pages, &at);
    if (!EFI_ERROR(s))
        return EFI_SUCCESS;

    uint8_t *map;
    UINTN size, dsize;
    struct efimap_desc bad;
    s = ldr_get_map(&map, &size, &dsize);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "cannot read the memory map: %s", ldr_status_str(s));
    int rc = efimap_range_reclaimable(map, size, dsize, k->lo, k->hi, &bad);
    if (rc != EFIMAP_OK) {
        ldr_bs->FreePool(map);
        s = ldr_error(EFI_NOT_FOUND, path, "kernel range 0x%llx-0x%llx %s",
                      (unsigned long long)k->lo, (unsigned long long)k->hi - 1,
                      rc == EFIMAP_E_TAKEN ? "is taken by firmware"
                      : rc == EFIMAP_E_HOLE ? "is not all RAM"
                                            : efimap_strerror(rc));
        ldr_explain_range(k->lo, k->hi);
        return s;
    }
    ldr_bs->FreePool(map);
    s = ldr_claim_free_parts(k);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "cannot reserve the free part of the kernel range: %s",
                         ldr_status_str(s));
    const char *what = ldr_firmware_state_in(k->lo, k->hi);
    if (what)
        return ldr_error(EFI_NOT_FOUND, path, "kernel range 0x%llx-0x%llx holds %s",
                         (unsigned long long)k->lo, (unsigned long long)k->hi - 1, what);
    /* The staging copy is boot-services memory: usable RAM for the kernel once it runs. */
    s = ldr_alloc(AllocateAnyPages, EfiBootServicesData, pages, &at);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "out of memory staging the kernel");
    k->staging = (uint8_t *)(uintptr_t)at;
    ldr_printf("moat-loader: kernel range is boot-services memory until ExitBootServices; "
               "staged at 0x%llx\n", (unsigned long long)at);
    return EFI_SUCCESS;
}

/* elf_load's map callback: segment addresses inside [lo, hi) land at dest + (paddr - lo). */
static void *ldr_map_kernel(uint64_t paddr, uint64_t len, void *ctx)
{
    const struct ldr_kernel *k = ctx;
    uint8_t *dest = k->staging ? k->staging : (uint8_t *)(uintptr_t)k->lo;
    if (paddr < k->lo || paddr > k->hi || len > k->hi - paddr)
        return NULL;
    return dest + (paddr - k->lo);
}

static EFI_STATUS ldr_load_kernel(EFI_FILE_HANDLE dir, struct ldr_kernel *k)
{
    char path[96];
    EFI_FILE_HANDLE f;
    EFI_PHYSICAL_ADDRESS buf;
    uint64_t size = 0;
    struct elf_info info;
    EFI_STATUS s;

    ldr_path(path, sizeof(path), LDR_KERNEL);
    s = ldr_open(dir, LDR_KERNEL, &f);
    if (s == EFI_NOT_FOUND)
        return ldr_error(s, path, "kernel missing");
    if (EFI_ERROR(s))
        return ldr_error(s, path, "cannot open kernel: %s", ldr_status_str(s));
    s = ldr_file_size(f, &size, path);
    if (EFI_ERROR(s))
        goto out_close;
    if (size == 0) {
        s = ldr_error(EFI_LOAD_ERROR, path, "not a valid x86-64 ELF: %s",
                      elf_strerror(ELF_E_TRUNCATED));
        goto out_close;
    }
    /* The file is a temporary: BootServicesData becomes free RAM for the kernel. */
    s = ldr_alloc(AllocateAnyPages, EfiBootServicesData, ldr_pages(size), &buf);
    if (EFI_ERROR(s)) {
        s = ldr_error(s, path, "out of memory reading the kernel (%llu bytes)",
                      (unsigned long long)size);
        goto out_close;
    }
    s = ldr_read(f, (void *)(uintptr_t)buf, size, path);
    if (EFI_ERROR(s))
        goto out_free;

    int rc = elf_check((void *)(uintptr_t)buf, size, &info);
    if (rc != ELF_OK) {
        if (info.bad_phdr >= 0)
            s = ldr_error(EFI_LOAD_ERROR, path, "not a valid x86-64 ELF: %s (program header %d)",
                          elf_strerror(rc), (int)info.bad_phdr);
        else
            s = ldr_error(EFI_LOAD_ERROR, path, "not a valid x86-64 ELF: %s", elf_strerror(rc));
        goto out_free;
    }
    if (info.load_hi > UINT64_MAX - (LDR_PAGE - 1)) {
        s = ldr_error(EFI_LOAD_ERROR, path, "kernel ends at the top of the address space");
        goto out_free;
    }
    k->lo = info.load_lo & ~(LDR_PAGE - 1);
    k->hi = (info.load_hi + LDR_PAGE - 1) & ~(LDR_PAGE - 1);
    k->staging = NULL;
    s = ldr_reserve_kernel(k, path);
    if (EFI_ERROR(s))
        goto out_free;
    if (!ldr_range_mapped(k->lo, k->hi)) {
        s = ldr_error(EFI_UNSUPPORTED, path, "kernel range 0x%llx-0x%llx is not identity-mapped "
                      "by the firmware", (unsigned long long)k->lo, (unsigned long long)k->hi - 1);
        goto out_free;
    }
    /* Zero the whole range first: gaps between segments are the kernel's too. */
    memset(k->staging ? k->staging : (uint8_t *)(uintptr_t)k->lo, 0, k->hi - k->lo);
    rc = elf_load((void *)(uintptr_t)buf, size, ldr_map_kernel, k, &info);
    if (rc != ELF_OK) { /* cannot happen after elf_check with this window */
        s = ldr_error(EFI_LOAD_ERROR, path, "cannot load the kernel: %s", elf_strerror(rc));
        goto out_free;
    }
    k->entry = info.entry_phys;
    ldr_printf("moat-loader: kernel 0x%llx-0x%llx, entry 0x%llx\n", (unsigned long long)k->lo,
               (unsigned long long)k->hi - 1, (unsigned long long)k->entry);
    s = EFI_SUCCESS;
out_free:
    ldr_free(buf);
    /* The file buffer may have been inside a staged kernel's range: claim what it freed. */
    if (!EFI_ERROR(s) && k->staging) {
        s = ldr_claim_free_parts(k);
        if (EFI_ERROR(s))
            s = ldr_error(s, path, "cannot reserve the free part of the kernel range: %s",
                          ldr_status_str(s));
    }
out_close:
    f->Close(f);
    return s;
}

/* ---- modules and cmdline.txt --------------------------------------------------------------- */

static EFI_STATUS ldr_read_cmdline_file(EFI_FILE_HANDLE dir, const char *name, uint64_t size,
                                        const char *path)
{
    char text[LDR_CMDLINE_READ];
    EFI_FILE_HANDLE f;
    EFI_STATUS s = ldr_open(dir, name, &f);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "cannot open: %s", ldr_status_str(s));
    uint64_t want = size < sizeof(text) ? size : sizeof(text);
    s = ldr_read(f, text, want, path);
    f->Close(f);
    if (EFI_ERROR(s))
        return s;
    int n = conv_cmdline_file(text, want, ldr_cmdline_file, sizeof(ldr_cmdline_file));
    if (n == CONV_E_TOO_LONG)
        return ldr_error(EFI_BAD_BUFFER_SIZE, path, "command line too long (max %d characters)",
                         BOOT_CMDLINE_MAX - 1);
    if (n < 0)
        return ldr_error(EFI_LOAD_ERROR, path, "command line %s", conv_strerror(n));
    ldr_cmdline_file_len = n;
    return EFI_SUCCESS;
}

static EFI_STATUS ldr_load_module(EFI_FILE_HANDLE dir, struct boot_info *bi, const char *name,
                                  uint64_t size, const char *path)
{
    struct boot_module *m = &bi->modules[bi->module_count];
    EFI_PHYSICAL_ADDRESS at = LDR_BELOW_4G;
    EFI_FILE_HANDLE f;
    EFI_STATUS s;

    if (bi->module_count == BOOT_MODULES_MAX)
        return ldr_error(EFI_OUT_OF_RESOURCES, path, "too many modules (max %d)",
                         BOOT_MODULES_MAX);
    if (size > LDR_BELOW_4G)
        return ldr_error(EFI_OUT_OF_RESOURCES, path, "module larger than 4 GiB");
    /* At least one page so that even an empty module has a distinct, aligned address. */
    uint64_t pages = size ? ldr_pages(size) : 1;
    s = ldr_alloc(AllocateMaxAddress, EfiLoaderData, pages, &at);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "out of memory below 4 GiB for a module of %llu bytes",
                         (unsigned long long)size);
    s = ldr_open(dir, name, &f);
    if (EFI_ERROR(s))
        return ldr_error(s, path, "cannot open: %s", ldr_status_str(s));
    s = ldr_read(f, (void *)(uintptr_t)at, size, path);
    f->Close(f);
    if (EFI_ERROR(s))
        return s;
    /* Zero the page tail: the kernel may map whole pages of a module into a guest. */
    memset((uint8_t *)(uintptr_t)at + size, 0, pages * LDR_PAGE - size);
    m->base = at;
    m->size = size;
    memcpy(m->name, name, strlen(name) + 1);
    bi->module_count++;
    ldr_printf("moat-loader: module %s (%llu bytes) at 0x%llx\n", name, (unsigned long long)size,
               (unsigned long long)at);
    return EFI_SUCCESS;
}

/* Every regular file of \EFI\MOAT except the kernel and cmdline.txt, in directory order. */
static EFI_STATUS ldr_load_modules(EFI_FILE_HANDLE dir, struct boot_info *bi)
{
    char name[BOOT_MODULE_NAME_MAX];
    char path[BOOT_MODULE_NAME_MAX + 16];
    EFI_STATUS s = dir->SetPosition(dir, 0);
    if (EFI_ERROR(s))
        return ldr_error(s, LDR_DIR, "cannot list the folder: %s", ldr_status_str(s));
    for (;;) {
        UINTN len = sizeof(ldr_info_buf);
        s = dir->Read(dir, &len, ldr_info_buf);
        if (s == EFI_BUFFER_TOO_SMALL)
            return ldr_error(s, LDR_DIR, "directory entry with a name too long to read");
        if (EFI_ERROR(s))
            return ldr_error(s, LDR_DIR, "cannot list the folder: %s", ldr_status_str(s));
        if (len == 0)
            return EFI_SUCCESS;
        if (len < LDR_FILE_INFO_HDR + sizeof(CHAR16))
            return ldr_error(EFI_VOLUME_CORRUPTED, LDR_DIR, "malformed directory entry");
        const EFI_FILE_INFO *fi = (const EFI_FILE_INFO *)ldr_info_buf;
        if (fi->Attribute & EFI_FILE_DIRECTORY)
            continue;
        uint64_t size = fi->FileSize;
        size_t max_chars = (len - LDR_FILE_INFO_HDR) / sizeof(CHAR16);
        int n = conv_name_to_ascii(fi->FileName, max_chars, name, sizeof(name));
        if (n < 0) {
            /* Show what we can of the name: its ASCII characters. */
            size_t k = 0;
            for (size_t i = 0; i < max_chars && fi->FileName[i] && k + 1 < sizeof(name); i++)
                name[k++] = fi->FileName[i] < 0x80 ? (char)fi->FileName[i] : '?';
            name[k] = '\0';
            ldr_path(path, sizeof(path), name);
            if (n == CONV_E_TOO_LONG)
                return ldr_error(EFI_BAD_BUFFER_SIZE, path,
                                 "module name too long (max %d characters)",
                                 BOOT_MODULE_NAME_MAX - 1);
            return ldr_error(EFI_LOAD_ERROR, path, "module name is not printable ASCII");
        }
        ldr_path(path, sizeof(path), name);
        if (conv_name_eq(name, LDR_KERNEL))
            continue;
        if (conv_name_eq(name, LDR_CMDLINE))
            s = ldr_read_cmdline_file(dir, name, size, path);
        else
            s = ldr_load_module(dir, bi, name, size, path);
        if (EFI_ERROR(s))
            return s;
    }
}

/* LoadOptions (from a boot entry or the shell) win over cmdline.txt when they hold text. */
static EFI_STATUS ldr_cmdline(const EFI_LOADED_IMAGE *li, struct boot_info *bi)
{
    int n = conv_load_options(li->LoadOptions, li->LoadOptionsSize, bi->cmdline,
                              sizeof(bi->cmdline));
    if (n == CONV_E_TOO_LONG)
        return ldr_error(EFI_BAD_BUFFER_SIZE, "LoadOptions",
                         "command line too long (max %d characters)", BOOT_CMDLINE_MAX - 1);
    if (n > 0)
        return EFI_SUCCESS;
    /* Empty, or binary OptionalData of a firmware-made boot entry: not a command line. */
    memcpy(bi->cmdline, ldr_cmdline_file, (size_t)ldr_cmdline_file_len + 1);
    return EFI_SUCCESS;
}

/* ---- firmware tables ----------------------------------------------------------------------- */

/* The RSDP from the configuration table (UEFI 2.10 sect. 4.6: ACPI 2.0+ GUID preferred),
 * else from the legacy BIOS area (ACPI 6.5 sect. 5.2.5.1), which some CSM-era firmware
 * still fills. 0 if neither has one. */
#define LDR_BIOS_ROM_LO 0xe0000
#define LDR_BIOS_ROM_HI 0x100000

static uint64_t ldr_find_rsdp(void)
{
    uint64_t v1 = 0;
    for (UINTN i = 0; i < ldr_st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ldr_st->ConfigurationTable[i];
        if (memcmp(&t->VendorGuid, &ldr_guid_acpi20, sizeof(EFI_GUID)) == 0)
            return (uint64_t)(uintptr_t)t->VendorTable;
        if (memcmp(&t->VendorGuid, &ldr_guid_acpi10, sizeof(EFI_GUID)) == 0)
            v1 = (uint64_t)(uintptr_t)t->VendorTable;
    }
    if (v1)
        return v1;
    long off = conv_rsdp_scan((const uint8_t *)(uintptr_t)LDR_BIOS_ROM_LO,
                              LDR_BIOS_ROM_HI - LDR_BIOS_ROM_LO);
    return off < 0 ? 0 : LDR_BIOS_ROM_LO + (uint64_t)off;
}

static void ldr_find_framebuffer(struct boot_framebuffer *fb)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    memset(fb, 0, sizeof(*fb));
    if (EFI_ERROR(ldr_bs->LocateProtocol(&ldr_guid_gop, NULL, (void **)&gop)) || !gop ||
        !gop->Mode || !gop->Mode->Info)
        return;
    const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi = gop->Mode->Info;
    struct conv_gop_mode m = {
        .base = gop->Mode->FrameBufferBase,
        .width = mi->HorizontalResolution,
        .height = mi->VerticalResolution,
        .pixels_per_scan_line = mi->PixelsPerScanLine,
        .format = (uint32_t)mi->PixelFormat,
        .red_mask = mi->PixelInformation.RedMask,
        .green_mask = mi->PixelInformation.GreenMask,
        .blue_mask = mi->PixelInformation.BlueMask,
        .reserved_mask = mi->PixelInformation.ReservedMask,
    };
    if (conv_gop(&m, fb) == 0)
        ldr_printf("moat-loader: framebuffer %ux%u, %u bpp, at 0x%llx\n", fb->width, fb->height,
                   fb->bpp, (unsigned long long)fb->base);
}

/* UEFI MP Services (PI spec vol. 2 13.4, EFI_MP_SERVICES_PROTOCOL); GNU-EFI has no header
 * for it. Only the two query functions are called. */
#define LDR_CPU_BSP     0x1u /* StatusFlag bits: PROCESSOR_AS_BSP_BIT */
#define LDR_CPU_ENABLED 0x2u /* PROCESSOR_ENABLED_BIT */
#define LDR_CPU_HEALTHY 0x4u /* PROCESSOR_HEALTH_STATUS_BIT */
typedef struct {
    UINT64 ProcessorId; /* the local APIC ID */
    UINT32 StatusFlag;
    UINT32 Package, Core, Thread;
} LDR_PROCESSOR_INFORMATION;
typedef struct LDR_MP_SERVICES LDR_MP_SERVICES;
struct LDR_MP_SERVICES {
    EFI_STATUS (EFIAPI *GetNumberOfProcessors)(LDR_MP_SERVICES *self, UINTN *count, UINTN *enabled);
    EFI_STATUS (EFIAPI *GetProcessorInfo)(LDR_MP_SERVICES *self, UINTN n, LDR_PROCESSOR_INFORMATION *info);
};
static EFI_GUID ldr_guid_mp = { 0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } };

/* Ask the firmware which CPUs exist: the kernel's fallback when there is no ACPI MADT (OVMF
 * under Bochs publishes no ACPI tables). The boot CPU goes first. */
static void ldr_find_cpus(struct boot_info *bi)
{
    LDR_MP_SERVICES *mp = NULL;
    UINTN count = 0, enabled = 0;
    if (EFI_ERROR(ldr_bs->LocateProtocol(&ldr_guid_mp, NULL, (void **)&mp)) || !mp ||
        EFI_ERROR(mp->GetNumberOfProcessors(mp, &count, &enabled)))
        return;
    uint32_t n = 1;
    for (UINTN i = 0; i < count; i++) {
        LDR_PROCESSOR_INFORMATION pi;
        if (EFI_ERROR(mp->GetProcessorInfo(mp, i, &pi)))
            continue;
        uint32_t want = LDR_CPU_ENABLED | LDR_CPU_HEALTHY;
        if ((pi.StatusFlag & want) != want)
            continue;
        if (pi.StatusFlag & LDR_CPU_BSP) {
            bi->cpu_apic_id[0] = (uint32_t)pi.ProcessorId;
        } else if (n < BOOT_CPUS_MAX) {
            bi->cpu_apic_id[n++] = (uint32_t)pi.ProcessorId;
        } else {
            ldr_printf("moat-loader: more than %u CPUs; the rest are not listed\n", BOOT_CPUS_MAX);
            break;
        }
    }
    bi->cpu_count = n;
    ldr_printf("moat-loader: firmware reports %u of %u CPUs enabled and healthy\n", n,
               (unsigned)count);
}

/* ---- leaving the firmware ------------------------------------------------------------------ */

/* The boot_info memory list: the converted firmware map, with the kernel's range marked
 * LOADED (when it was staged, the firmware still calls it boot-services memory). */
static int ldr_fill_mem(uint8_t *map, UINTN size, UINTN dsize, struct boot_info *bi,
                        const struct ldr_kernel *k, uint32_t *count)
{
    int rc = efimap_convert(map, size, dsize, bi->mem, BOOT_MEM_MAX, count);
    if (rc != EFIMAP_OK)
        return rc;
    return efimap_mark(bi->mem, count, BOOT_MEM_MAX, k->lo, k->hi - k->lo, BOOT_MEM_LOADED);
}

/* GetMemoryMap into a buffer with room to spare (allocating the buffer can itself add
 * descriptors), check that it converts, then ExitBootServices. On a stale key (UEFI 2.10
 * sect. 7.4.6: EFI_INVALID_PARAMETER) only GetMemoryMap and ExitBootServices may be called
 * again, so the retry reuses the same buffer. The final map is converted after the exit.
 * Returns only on a failure before the first ExitBootServices call. */
static EFI_STATUS ldr_exit_and_jump(EFI_HANDLE image, struct boot_info *bi,
                                    const struct ldr_kernel *k)
{
    UINTN size = 0, key, dsize = 0, cap = 0;
    UINT32 dver;
    uint8_t *raw = NULL, *scratch;
    uint32_t count;
    EFI_STATUS s;
    int rc;

    s = ldr_bs->GetMemoryMap(&size, NULL, &key, &dsize, &dver);
    for (int tries = 0; s == EFI_BUFFER_TOO_SMALL && tries < 4; tries++) {
        if (raw)
            ldr_bs->FreePool(raw);
        raw = NULL;
        cap = (size + LDR_MAP_SLACK * dsize + 7) & ~(UINTN)7;
        /* Two copies: the raw map for after the exit, a scratch one for the check before. */
        s = ldr_bs->AllocatePool(EfiBootServicesData, 2 * cap, (void **)&raw);
        if (EFI_ERROR(s))
            return ldr_error(s, "memory map", "out of memory for the memory map");
        size = cap;
        s = ldr_bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)raw, &key, &dsize, &dver);
    }
    if (EFI_ERROR(s)) {
        if (raw)
            ldr_bs->FreePool(raw);
        return ldr_error(s, "memory map", "GetMemoryMap failed: %s", ldr_status_str(s));
    }
    scratch = raw + cap;

    /* Dry run while the console still works: from here on nothing may print. */
    memcpy(scratch, raw, size);
    rc = ldr_fill_mem(scratch, size, dsize, bi, k, &count);
    if (rc != EFIMAP_OK) {
        ldr_bs->FreePool(raw);
        if (rc == EFIMAP_E_OVERFLOW)
            return ldr_error(EFI_BUFFER_TOO_SMALL, "memory map",
                             "%u memory ranges or more, boot_info holds %d", count, BOOT_MEM_MAX);
        return ldr_error(EFI_LOAD_ERROR, "memory map", "%s", efimap_strerror(rc));
    }

    s = ldr_bs->ExitBootServices(image, key);
    for (int tries = 1; s == EFI_INVALID_PARAMETER && tries < LDR_EXIT_TRIES; tries++) {
        size = cap;
        s = ldr_bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)raw, &key, &dsize, &dver);
        if (EFI_ERROR(s))
            break;
        s = ldr_bs->ExitBootServices(image, key);
    }
    if (EFI_ERROR(s))
        ldr_dead("ExitBootServices failed");

    /* Boot services are gone: pure code and port I/O only. Interrupts stay off from here
     * to the kernel's own IDT. */
    __asm__ volatile("cli" ::: "memory");
    rc = ldr_fill_mem(raw, size, dsize, bi, k, &count);
    if (rc != EFIMAP_OK)
        ldr_dead(efimap_strerror(rc));
    bi->mem_count = count;
    ldr_install_kernel(k);

    ((ldr_kernel_entry *)(uintptr_t)k->entry)(bi);
    ldr_dead("the kernel returned");
}

/* ---- entry ----------------------------------------------------------------------------- */

static EFI_STATUS ldr_run(EFI_HANDLE image)
{
    EFI_LOADED_IMAGE *li;
    EFI_FILE_IO_INTERFACE *sfs;
    EFI_FILE_HANDLE root, dir;
    EFI_PHYSICAL_ADDRESS bi_addr = LDR_BELOW_4G;
    struct ldr_kernel kernel = { 0 };
    EFI_STATUS s;

    s = ldr_bs->HandleProtocol(image, &ldr_guid_loaded_image, (void **)&li);
    if (EFI_ERROR(s))
        return ldr_error(s, "LoadedImage", "cannot find the loader's own image: %s",
                         ldr_status_str(s));
    s = ldr_bs->HandleProtocol(li->DeviceHandle, &ldr_guid_sfs, (void **)&sfs);
    if (EFI_ERROR(s))
        return ldr_error(s, LDR_DIR, "the loader's device has no FAT file system: %s",
                         ldr_status_str(s));
    s = sfs->OpenVolume(sfs, &root);
    if (EFI_ERROR(s))
        return ldr_error(s, LDR_DIR, "cannot open the loader's volume: %s", ldr_status_str(s));
    s = ldr_open(root, LDR_DIR, &dir);
    root->Close(root);
    if (s == EFI_NOT_FOUND)
        return ldr_error(s, LDR_DIR, "folder missing");
    if (EFI_ERROR(s))
        return ldr_error(s, LDR_DIR, "cannot open the folder: %s", ldr_status_str(s));

    /* The kernel first: nothing of ours may sit in its range when we reserve it. */
    s = ldr_load_kernel(dir, &kernel);
    if (EFI_ERROR(s)) {
        dir->Close(dir);
        return s;
    }
    s = ldr_alloc(AllocateMaxAddress, EfiLoaderData, ldr_pages(sizeof(struct boot_info)),
                  &bi_addr);
    if (EFI_ERROR(s)) {
        dir->Close(dir);
        return ldr_error(s, "boot_info", "out of memory below 4 GiB");
    }
    struct boot_info *bi = (struct boot_info *)(uintptr_t)bi_addr;
    memset(bi, 0, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->size = sizeof(*bi);
    bi->source = BOOT_SOURCE_UEFI;
    bi->kernel_base = kernel.lo;
    bi->kernel_size = kernel.hi - kernel.lo;

    s = ldr_load_modules(dir, bi);
    dir->Close(dir);
    if (EFI_ERROR(s))
        return s;
    s = ldr_cmdline(li, bi);
    if (EFI_ERROR(s))
        return s;
    bi->rsdp = ldr_find_rsdp();
    if (!bi->rsdp)
        ldr_printf("moat-loader: no ACPI RSDP in the UEFI configuration table or BIOS area\n");
    ldr_find_framebuffer(&bi->fb);
    ldr_find_cpus(bi);
    ldr_printf("moat-loader: %u module(s), rsdp 0x%llx, cmdline \"%s\"\n", bi->module_count,
               (unsigned long long)bi->rsdp, bi->cmdline);
    ldr_printf("moat-loader: starting the kernel\n");
    return ldr_exit_and_jump(image, bi, &kernel);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    ldr_st = st;
    ldr_bs = st->BootServices;
    ldr_printf("moat-loader: loading %s\\%s\n", LDR_DIR, LDR_KERNEL);
    EFI_STATUS s = ldr_run(image);
    /* Only failures come back: give the memory back, leave the message on screen, and let
     * the firmware try its next boot option. */
    ldr_free_all();
    ldr_bs->Stall(LDR_ERROR_STALL);
    return EFI_ERROR(s) ? s : EFI_LOAD_ERROR;
}
