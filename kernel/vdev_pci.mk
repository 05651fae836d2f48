# SPDX-License-Identifier: Apache-2.0
# The PCI devices a partition sees beyond the host bridge (kernel/vdev_pci.c): its bus through
# ECAM, and ivshmem functions for the shared-memory regions (kernel/shmem.c) it links.
# Kernel only.
KERNEL_SRCS += kernel/vdev_pci.c kernel/vdev_assign.c kernel/shmem.c
