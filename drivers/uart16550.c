// SPDX-License-Identifier: Apache-2.0
// Host 16550 UART, polled. Register map and bits: National Semiconductor PC16550D datasheet,
// "Register Description" (table 2): offsets 0-7 from the base port; DLAB (LCR bit 7) selects the
// divisor latch at offsets 0/1.
#include "drivers/uart16550.h"
#include "kernel/x86.h"

enum {
    UART_THR = 0, UART_RBR = 0, UART_DLL = 0, UART_IER = 1, UART_DLM = 1,
    UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_SCR = 7,
};
#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define FCR_ENABLE_CLEAR 0x07 /* FIFO enable, clear RX and TX FIFOs */
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define UART_CLOCK_DIV_115200 1 /* 1.8432 MHz / (16 * 115200) */
/* Upper bound on spins waiting for THRE: a real 16550 at 115200 baud drains a byte in ~87 us;
 * a UART that never reports THRE (absent or wedged) must not hang the hypervisor. */
#define UART_TX_SPINS 100000

bool uart_init(uint16_t port)
{
    /* A missing UART reads 0xff and does not keep a scratch value. */
    outb(port + UART_SCR, 0x5a);
    if (inb(port + UART_SCR) != 0x5a)
        return false;
    outb(port + UART_IER, 0);
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DLL, UART_CLOCK_DIV_115200);
    outb(port + UART_DLM, 0);
    outb(port + UART_LCR, LCR_8N1);
    outb(port + UART_FCR, FCR_ENABLE_CLEAR);
    outb(port + UART_MCR, MCR_DTR_RTS_OUT2);
    return true;
}

void uart_putc(uint16_t port, char c)
{
    for (int i = 0; i < UART_TX_SPINS && !(inb(port + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(port + UART_THR, (uint8_t)c);
}

void uart_flush(uint16_t port)
{
    for (int i = 0; i < UART_TX_SPINS && !(inb(port + UART_LSR) & LSR_TEMT); i++)
        cpu_relax();
}

int uart_getc(uint16_t port)
{
    if (!(inb(port + UART_LSR) & LSR_DR))
        return -1;
    return inb(port + UART_RBR);
}
