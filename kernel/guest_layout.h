// SPDX-License-Identifier: Apache-2.0
// Where Moat puts things in a partition's guest-physical space above its RAM: the PCI ECAM
// window and the ivshmem BARs (docs/guest-abi.md, "PCI"). Pure constants, shared by the
// configuration checks, the CPUID policy and the devices.
#ifndef KERNEL_GUEST_LAYOUT_H
#define KERNEL_GUEST_LAYOUT_H

/* ECAM (PCIe base spec 7.2.2): 1 MiB = bus 0 only (32 devices x 8 functions x 4 KiB). */
#define GUEST_ECAM_GPA   0xb0000000ull
#define GUEST_ECAM_SIZE  0x100000ull
#define GUEST_ECAM_BUSES 1u

/* Guest RAM is [0, memory) and must end where the ECAM window starts: 2816 MiB at most. */
#define GUEST_RAM_LIMIT  GUEST_ECAM_GPA

/* ivshmem: link i's register block (BAR0, 256 bytes) sits at REGS + i * 4 KiB, right above
 * the ECAM window; its shared memory (BAR2) from SHM upward, each aligned to its BAR size. */
#define GUEST_IVSHMEM_REGS_GPA    0xb0100000ull
#define GUEST_IVSHMEM_REGS_STRIDE 0x1000ull
#define GUEST_IVSHMEM_REGS_SIZE   0x100ull
#define GUEST_SHMEM_GPA           0xc0000000ull

#endif
