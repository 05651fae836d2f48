// SPDX-License-Identifier: Apache-2.0
// Polled driver for a host 16550-compatible UART (the hypervisor console). Owns only the
// register programming; locking and line discipline belong to kernel/console.c.
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H
#include <stdint.h>
#include <stdbool.h>

/* Program 115200 8N1, FIFOs on, interrupts off. Returns false when no UART answers at port
 * (scratch-register probe), in which case output to it is dropped. */
bool uart_init(uint16_t port);
/* Send one byte, waiting (bounded) for the transmit holding register to empty. */
void uart_putc(uint16_t port, char c);
/* Wait (bounded) until every byte written has left the transmitter (LSR.TEMT). */
void uart_flush(uint16_t port);
/* Return the next received byte, or -1 when none is waiting. */
int uart_getc(uint16_t port);
#endif
