# SPDX-License-Identifier: Apache-2.0
KERNEL_SRCS += drivers/uart16550.c drivers/lapic.c drivers/timer.c drivers/pic8259.c drivers/pcihost.c
