# SPDX-License-Identifier: Apache-2.0
# The PCI devices a partition sees beyond the host bridge (kernel/vdev_pci.c): its bus through
# ECAM. Kernel only.
KERNEL_SRCS += kernel/vdev_pci.c
