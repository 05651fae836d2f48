// SPDX-License-Identifier: Apache-2.0
// The AMD-V backend's few entry points beyond struct virt_ops (kernel/virt.h): the nested
// paging self-test, and the single SVM instructions used from C. The VMCB layout is in
// svm/vmcb.h, the nested page-table format in svm/npt.h.
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs a tiny 32-bit guest whose only data page is a remapped one and checks that its loads
 * and stores went through the nested page tables (and not to the host-physical address of the
 * same number), that VMMCALL and a nested page fault on an unmapped page exit as they should.
 * svm_ops.cpu_enable runs it on CPU 0 after enabling SVM there; until it has passed,
 * vcpu_init refuses every vCPU. Callable again at any time on a CPU with SVM enabled.
 * Returns false with a sentence in why. */
bool svm_selftest(char *why, size_t len);

/* True once svm_selftest has passed on this boot. */
bool svm_selftest_passed(void);

/* VMSAVE (APM vol. 3 "VMSAVE"): store FS, GS, TR, LDTR and the SYSCALL/SYSENTER MSRs of this
 * CPU into the VMCB at pa. */
static inline void svm_vmsave(uint64_t pa)
{
    __asm__ volatile("vmsave %%rax" ::"a"(pa) : "memory");
}

/* The world switch (svm/svm_entry.asm): loads v's GPRs, VMRUNs the VMCB at vmcb_pa, saves the
 * GPRs at #VMEXIT and reloads the host's VMLOAD state from host_vmcb_pa. */
struct vcpu;
void svm_world_switch(struct vcpu *v, uint64_t vmcb_pa, uint64_t host_vmcb_pa);

#endif
