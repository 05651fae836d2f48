// SPDX-License-Identifier: Apache-2.0
// Console output: format into a local buffer, then emit the whole message under one lock so
// lines from different CPUs never mix. "\n" becomes "\r\n" for serial terminals.
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include "kernel/console.h"
#include "kernel/spinlock.h"
#include "drivers/uart16550.h"

#define CONSOLE_LINE_MAX 512

static struct spinlock console_lock = SPINLOCK_INIT;
static uint16_t console_uart;
static volatile bool console_unlocked;

void console_init(uint16_t port)
{
    if (uart_init(port))
        console_uart = port;
}

uint16_t console_port(void)
{
    return console_uart;
}

void console_flush(void)
{
    if (console_uart)
        uart_flush(console_uart);
}

int console_getc(void)
{
    return console_uart ? uart_getc(console_uart) : -1;
}

void console_force_unlock(void)
{
    console_unlocked = true;
}

void printk(const char *fmt, ...)
{
    char buf[CONSOLE_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(buf))
        n = sizeof(buf) - 1;
    if (!console_uart)
        return;

    bool locked = !console_unlocked;
    uint64_t flags = 0;
    if (locked)
        flags = spin_lock_irqsave(&console_lock);
    for (int i = 0; i < n; i++) {
        if (buf[i] == '\n')
            uart_putc(console_uart, '\r');
        uart_putc(console_uart, buf[i]);
    }
    if (locked)
        spin_unlock_irqrestore(&console_lock, flags);
}
