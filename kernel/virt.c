// SPDX-License-Identifier: Apache-2.0
// Choosing the backend (once, from CPUID's vendor string) and turning it on everywhere. Each
// CPU detects for itself: firmware may configure CPUs differently, and a CPU that cannot run
// guests is reported and left out, never fatal for the others.
#include <string.h>
#include "kernel/virt_core.h"
#include "kernel/console.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

const struct virt_ops *virt;
struct virt_caps virt_caps;
struct s2pt_format virt_s2_format;

static volatile uint32_t enable_done;

static void kick_ipi(struct trap_frame *f)
{
    /* Only makes the CPU leave guest mode; the run loop looks at the partition's state. */
}

static void enable_this_cpu(void *arg)
{
    struct percpu *cpu = this_cpu();
    struct virt_caps caps;
    char why[200];
    if (!virt->detect(&caps, why, sizeof(why)))
        printk("virt: CPU %u: %s\n", cpu->index, why);
    else if (!virt->cpu_enable(cpu, why, sizeof(why)))
        printk("virt: CPU %u: cannot enable %s: %s\n", cpu->index, virt->name, why);
    else
        cpu->virt_ready = 1;
    __atomic_fetch_add(&enable_done, 1, __ATOMIC_RELEASE);
}

static const char *vendor_backend(const struct virt_ops **ops)
{
    struct cpuid_regs r = cpuid(0, 0);
    static char vendor[13];
    memcpy(vendor + 0, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = '\0';
    if (strcmp(vendor, "GenuineIntel") == 0)
        *ops = &vmx_ops;
    else if (strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0)
        *ops = &svm_ops;
    else
        *ops = NULL;
    return vendor;
}

bool virt_init(void)
{
    const struct virt_ops *ops;
    const char *vendor = vendor_backend(&ops);
    if (!ops) {
        printk("virt: CPU vendor '%s' has neither Intel VT-x nor AMD-V: no partitions can run\n", vendor);
        return false;
    }
    char why[200];
    if (!ops->detect(&virt_caps, why, sizeof(why))) {
        printk("virt: %s\nvirt: no partitions can run\n", why);
        return false;
    }
    virt = ops;
    trap_set_handler(VEC_KICK, kick_ipi);

    enable_done = 0;
    uint32_t expected = 0;
    for (uint32_t i = 1; i < cpu_count; i++) {
        if (percpu_of[i]->online) {
            smp_run_on(percpu_of[i], enable_this_cpu, NULL);
            expected++;
        }
    }
    enable_this_cpu(NULL);
    expected++;
    while (__atomic_load_n(&enable_done, __ATOMIC_ACQUIRE) != expected)
        cpu_relax();

    uint32_t ready = 0;
    for (uint32_t i = 0; i < cpu_count; i++)
        ready += percpu_of[i]->virt_ready ? 1 : 0;
    int rc = virt->s2pt_format(&virt_s2_format);
    if (rc != 0) {
        printk("virt: second-level paging format unusable (%s): no partitions can run\n", s2pt_strerror(rc));
        return false;
    }
    printk("virt: %s on %u of %u CPUs; unrestricted guest %s, %s, tagged TLB %s, preemption timer %s\n",
           virt->name, ready, expected, virt_caps.unrestricted_guest ? "yes" : "no",
           virt_caps.nrips ? "exit lengths from hardware" : "exit lengths decoded (no NRIPS)",
           virt_caps.tagged_tlb ? "yes" : "no", virt_caps.preemption_timer ? "yes" : "no");
    if (!percpu_bsp.virt_ready) {
        printk("virt: the boot CPU cannot run guests: no partitions can run\n");
        return false;
    }
    return true;
}
