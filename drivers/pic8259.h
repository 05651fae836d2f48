// SPDX-License-Identifier: Apache-2.0
// Legacy 8259 PICs: remapped to vectors 0x20-0x2f and masked, once, on the BSP.
#ifndef DRIVERS_PIC8259_H
#define DRIVERS_PIC8259_H
void pic8259_disable(void);
#endif
