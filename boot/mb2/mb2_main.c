// SPDX-License-Identifier: Apache-2.0
// The C half of the Multiboot2 entry: called by entry.asm in long mode on its own stack, with
// the first 4 GiB identity-mapped. Converts the loader's tags into the one static boot_info and
// hands it back; entry.asm then enters the kernel as the UEFI loader does.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "boot/mb2/mb2_info.h"
#include "common/boot_info.h"
#include "drivers/uart16550.h"

#define MB2_COM1 0x3f8

/* entry.asm maps [0, 4 GiB); a sane information structure is far smaller than this bound. */
#define MB2_IDMAP_END  0x100000000ull
#define MB2_INFO_BOUND 0x100000u

extern const uint8_t __kernel_start[], __kernel_end[];

/* Part of the kernel image (its .bss), so it is LOADED in the map and outlives this code. */
static struct boot_info mb2_boot_info;

/* Called from entry.asm only. Returns the boot_info to enter the kernel with, or NULL after
 * saying on COM1 why Moat cannot start (entry.asm then halts). */
const struct boot_info *mb2_main(uint32_t magic, uint32_t info_phys);

__attribute__((format(printf, 1, 2)))
static void mb2_report(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    uart_init(MB2_COM1);
    for (const char *c = buf; *c; c++) {
        if (*c == '\n')
            uart_putc(MB2_COM1, '\r');
        uart_putc(MB2_COM1, *c);
    }
}

const struct boot_info *mb2_main(uint32_t magic, uint32_t info_phys)
{
    struct mb2_input in;
    char err[160];
    uint64_t room = MB2_IDMAP_END - info_phys;

    if (magic != MB2_BOOTLOADER_MAGIC) { /* entry.asm checked already; cheap to be sure */
        mb2_report("moat: not started by a Multiboot2 loader (EAX=0x%08x), halting\n", magic);
        return NULL;
    }
    if (info_phys == 0 || (info_phys & 7)) { /* spec 3.6.1: the structure is 8-byte aligned */
        mb2_report("moat: bad Multiboot2 information address 0x%08x, halting\n", info_phys);
        return NULL;
    }
    in.info = (const void *)(uintptr_t)info_phys;
    in.max_len = room < MB2_INFO_BOUND ? (size_t)room : MB2_INFO_BOUND;
    in.info_phys = info_phys;
    in.kernel_base = (uintptr_t)__kernel_start;
    in.kernel_size = (uintptr_t)(__kernel_end - __kernel_start);
    if (mb2_to_boot_info(&in, &mb2_boot_info, err, sizeof(err)) != MB2_OK) {
        mb2_report("moat: cannot use the Multiboot2 boot information: %s, halting\n", err);
        return NULL;
    }
    return &mb2_boot_info;
}
