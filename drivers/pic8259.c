// SPDX-License-Identifier: Apache-2.0
// The legacy dual 8259A PICs: Moat uses the local APIC only, so the PICs are moved off the
// exception vectors and fully masked. Even masked, an 8259 can raise a spurious IRQ 7/15, so
// the remap matters (8259A datasheet, ICW1-ICW4). Harmless where no 8259 exists.
#include "drivers/pic8259.h"
#include "kernel/x86.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11 /* edge, cascade, ICW4 follows */
#define ICW4_8086      0x01
#define PIC_VECTOR_BASE 0x20 /* 0x20-0x2f: above the exceptions, below Moat's own vectors */

void pic8259_disable(void)
{
    outb(PIC1_CMD, ICW1_INIT_ICW4);
    outb(PIC2_CMD, ICW1_INIT_ICW4);
    outb(PIC1_DATA, PIC_VECTOR_BASE);
    outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
    outb(PIC1_DATA, 1 << 2); /* slave on IRQ2 */
    outb(PIC2_DATA, 2);      /* slave identity */
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}
