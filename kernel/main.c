// SPDX-License-Identifier: Apache-2.0
// Boot on the BSP: console, per-CPU state, memory, page tables, ACPI, LAPIC timer, APs.
// Each step either works or says what failed; only Moat's own bugs panic. Guest partitions
// come later (see docs/design.md).
#include <string.h>
#include <stdio.h>
#include "kernel/main.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/shutdown.h"
#include "kernel/smp.h"
#include "kernel/x86.h"
#include "kernel/boot_config.h"
#include "kernel/run.h"
#include "kernel/virt_core.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "drivers/pic8259.h"
#include "drivers/timer.h"

#define BOOT_TICKS 3 /* timer interrupts each CPU must take before boot counts as complete */

extern const uint8_t __kernel_start[], __kernel_end[];

static struct acpi_info acpi;
static uint64_t mapped_limit; /* the identity map covers RAM and [0, 4 GiB) */
static uint64_t boot_usable;  /* bytes the frame allocator managed at the start */

static void __attribute__((noreturn)) bad_boot_info(const char *why)
{
    /* No trustworthy command line: speak on COM1, the only console we can assume. */
    console_init(0x3f8);
    printk("moat: cannot boot: %s; the loader and kernel do not match, rebuild both\n", why);
    halt_forever();
}

static void check_boot_info(const struct boot_info *bi)
{
    if (!bi || bi->magic != BOOT_INFO_MAGIC)
        bad_boot_info("boot_info magic is wrong");
    if (bi->version != BOOT_INFO_VERSION)
        bad_boot_info("boot_info version differs");
    if (bi->size != sizeof(*bi))
        bad_boot_info("boot_info size differs");
    if (bi->mem_count == 0 || bi->mem_count > BOOT_MEM_MAX || bi->module_count > BOOT_MODULES_MAX)
        bad_boot_info("boot_info counts are out of range");
}

static void memory_init(const struct boot_info *bi)
{
    struct pmm_region reserved[PMM_BOOT_REGIONS_MAX + 1];
    uint32_t n = pmm_regions_from_boot_info(bi, ptr_to_hpa(bi), reserved, PMM_BOOT_REGIONS_MAX);
    reserved[n++] = (struct pmm_region){ ptr_to_hpa(__kernel_start),
                                         (uint64_t)(__kernel_end - __kernel_start) };
    int rc = pmm_init(&host_pmm, bi->mem, bi->mem_count, reserved, n);
    if (rc < 0)
        panic("frame allocator: %s", pmm_strerror(rc));
    if (rc > 0)
        printk("memory: the firmware's map needed repair (%s)\n", pmm_strerror(rc));

    uint64_t usable;
    uint32_t ranges;
    pmm_map_summary(bi->mem, bi->mem_count, &usable, &ranges);
    printk("memory: %lu MiB usable in %u ranges, %lu MiB free\n", usable / MIB, ranges,
           frames_free_bytes() / MIB);
    boot_usable = frames_free_bytes();

    mapped_limit = 4 * GIB;
    for (uint32_t i = 0; i < bi->mem_count; i++)
        if (bi->mem[i].type != BOOT_MEM_RESERVED && bi->mem[i].base + bi->mem[i].length > mapped_limit)
            mapped_limit = bi->mem[i].base + bi->mem[i].length;
}

static const void *acpi_map(void *ctx, uint64_t phys, uint64_t len)
{
    if (phys + len < phys || phys + len > mapped_limit)
        return NULL;
    return hpa_to_ptr(phys);
}

static void acpi_warn(void *ctx, const char *msg)
{
    printk("%s\n", msg);
}

/* Without an ACPI MADT (OVMF under Bochs publishes no tables), start the CPUs the loader
 * learned from the firmware's MP Services instead. */
static const char *cpus_from_boot_info(const struct boot_info *bi)
{
    if (acpi.cpu_count || !bi->cpu_count)
        return "in MADT";
    uint32_t n = bi->cpu_count < ACPI_MAX_CPUS ? bi->cpu_count : ACPI_MAX_CPUS;
    for (uint32_t i = 0; i < n; i++)
        acpi.cpus[i] = (struct acpi_cpu){ .apic_id = bi->cpu_apic_id[i], .acpi_uid = i,
                                          .flags = ACPI_CPU_ENABLED };
    acpi.cpu_count = acpi.cpu_enabled = n;
    printk("cpus: no ACPI MADT: using the %u CPUs the firmware listed\n", n);
    return "listed by the firmware";
}

static void acpi_init(const struct boot_info *bi)
{
    const struct acpi_env env = { acpi_map, acpi_warn, NULL };
    if (!bi->rsdp) {
        printk("acpi: the loader found no RSDP: no ACPI tables, PIT as the reference clock\n");
        return;
    }
    int rc = acpi_parse(&env, bi->rsdp, &acpi);
    char line[160];
    acpi_summary(&acpi, line, sizeof(line));
    printk("%s\n", line);
    if (rc != 0)
        printk("acpi: %s\n", acpi_strerror(rc));
}

/* debug=fault: read an address the hypervisor never maps, to exercise the exception dump and
 * panic path (system-tested). 1 TiB + 4 KiB lies above any RAM the test machines have. */
#define DEBUG_FAULT_ADDR 0x10000001000ull

static void debug_fault(void *arg)
{
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)DEBUG_FAULT_ADDR;
    printk("debug: CPU %u reads 0x%lx, which is not mapped\n", this_cpu()->index, (uint64_t)DEBUG_FAULT_ADDR);
    (void)*p;
}

void kernel_main(const struct boot_info *bi)
{
    check_boot_info(bi);
    struct cmdline cmd;
    char cmd_errors[512];
    int nerr = cmdline_parse(bi->cmdline, &cmd, cmd_errors, sizeof(cmd_errors));
    console_init(cmd.console_port);
    shutdown_arm(cmd.exit != CMDLINE_EXIT_NEVER);

    printk("\nMoat %s hypervisor, booted by %s\n", MOAT_VERSION,
           bi->source == BOOT_SOURCE_UEFI ? "UEFI" : "Multiboot2");
    printk("cmdline: %s\n", bi->cmdline[0] ? bi->cmdline : "(empty)");
    if (nerr)
        printk("%s\n(the options above were ignored)\n", cmd_errors);

    /* A BIOS may hand over with the caches off (CR0.CD/NW); guests would inherit it too. */
    write_cr0(read_cr0() & ~(CR0_CD | CR0_NW));
    pic8259_disable();
    lapic_init_bsp();
    percpu_bsp.index = 0;
    percpu_bsp.apic_id = lapic_id();
    percpu_bsp.stack_top = 0; /* the BSP keeps the boot stack from entry.asm */
    percpu_setup(&percpu_bsp);
    percpu_of[0] = &percpu_bsp;
    cpu_count = 1;
    idt_init();
    idt_load();

    memory_init(bi);
    hpa_t cr3 = paging_init(bi->mem, bi->mem_count);
    acpi_init(bi);

    lapic_init_cpu();
    timer_init_reference(acpi.pm_timer_port, acpi.pm_timer_bits == 32);
    uint64_t lapic_hz = timer_calibrate_lapic();
    timer_start_tick(lapic_hz);
    percpu_bsp.online = 1;
    sti();

    const char *cpu_source = cpus_from_boot_info(bi);
    uint32_t online = acpi.cpu_count ? smp_start_aps(&acpi, cr3, lapic_hz) : 1;
    printk("cpus: %u online of %u %s (%s mode)\n", online, acpi.cpu_enabled ? acpi.cpu_enabled : 1,
           cpu_source, lapic_x2apic_mode() ? "x2APIC" : "xAPIC");
    uint32_t ticking = smp_wait_ticks(BOOT_TICKS);
    printk("timer: LAPIC timer %lu kHz (calibrated against the %s), tick %u Hz on %u CPUs\n",
           lapic_hz / 1000, timer_reference_name(), TIMER_TICK_HZ, ticking);
    if (ticking != online)
        panic("only %u of %u online CPUs take timer interrupts", ticking, online);
    if (cmd.debug_fault) {
        if (cpu_count > 1)
            smp_run_on(percpu_of[cpu_count - 1], debug_fault, NULL);
        else
            debug_fault(NULL);
        for (;;)
            sti_hlt();
    }
    bool can_virt = virt_init();
    uint64_t image_kib = (uint64_t)(__kernel_end - __kernel_start) / 1024;
    uint64_t free_bytes = frames_free_bytes(), taken_kib = (boot_usable - free_bytes) / 1024;
    printk("memory: %lu MiB free after boot; Moat holds %lu KiB (image %lu KiB; per-CPU data, "
           "stacks, page tables and virtualization structures %lu KiB)\n",
           free_bytes / MIB, taken_kib + image_kib, image_kib, taken_kib);
    printk("moat: boot complete\n");

    if (cmd.exit == CMDLINE_EXIT_BOOT) {
        printk("moat: test exit\n");
        shutdown_emulator(true);
    }
    static struct moat_config cfg;
    static struct run_image images[CONFIG_PARTITIONS_MAX];
    bool found = false;
    bool ok = can_virt && boot_config_load(bi, &cmd, &cfg, images, &found);
    if (ok && found && cfg.partition_count) {
        uint16_t port = cfg.console_port;
        if (port && port != cmd.console_port) {
            printk("console: moving to port 0x%x, as %s says\n", port, BOOT_CONFIG_NAME);
            console_init(port);
            printk("\nMoat %s hypervisor: console on port 0x%x\n", MOAT_VERSION, port);
        }
        run_partitions(&cfg, images, cmd.exit == CMDLINE_EXIT_IDLE);
    }
    if (found || cmd.guest_count) {
        printk("moat: no partition started\n");
        if (cmd.exit == CMDLINE_EXIT_IDLE) {
            printk("moat: test exit\n");
            shutdown_emulator(false);
        }
    }
    for (;;)
        sti_hlt();
}
