// SPDX-License-Identifier: Apache-2.0
// The console multiplexer (kernel/conmux.h). One queue of lines, oldest first (kernel/lineq.c),
// guarded by one lock that writers hold only to copy a line in. Each partition may hold at
// most CONMUX_QUOTA bytes of it; a line that does not fit is dropped and counted, so a flood
// costs the flooding partition its own output and nothing else. CPU 0 drains the queue from
// its run loop, so guests never wait for the UART.
#include <string.h>
#include "kernel/conmux.h"
#include "kernel/console.h"
#include "kernel/config.h"
#include "kernel/lineq.h"
#include "kernel/partition.h"
#include "kernel/run.h"
#include "kernel/shell.h"
#include "kernel/spinlock.h"
#include "kernel/vuart.h"

#define CONMUX_RING  (32 * 1024)
#define CONMUX_QUOTA (CONMUX_RING / CONFIG_PARTITIONS_MAX)
#define CONMUX_DRAIN_LINES 16 /* per call: bounds the time CPU 0 spends on the UART */
_Static_assert(CONFIG_PARTITIONS_MAX <= LINEQ_SOURCES, "one queue source per partition");

static struct spinlock lock = SPINLOCK_INIT;
static uint8_t ring[CONMUX_RING];
static struct lineq q = { .buf = ring, .size = CONMUX_RING, .quota = CONMUX_QUOTA };
static int focus = -1;                             /* slot that gets input; -1: the shell */
/* Input for the focused partition that its UART could not take yet (its receive FIFO was
 * full): held here, not dropped, and handed over as the guest reads. */
static uint8_t inq[256];
static uint32_t inq_head, inq_len;

void conmux_line(struct partition *p, uint32_t vcpu, const char *text, uint32_t len)
{
    uint64_t flags = spin_lock_irqsave(&lock);
    lineq_put(&q, p->slot, vcpu, text, len);
    spin_unlock_irqrestore(&lock, flags);
}

static bool drain_one(void)
{
    char text[LINEQ_LINE_MAX];
    uint32_t slot, vcpu, len;
    uint64_t flags = spin_lock_irqsave(&lock);
    bool got = lineq_get(&q, &slot, &vcpu, text, &len);
    spin_unlock_irqrestore(&lock, flags);
    if (got)
        printk("[%s:%u] %.*s\n", run_slot_name(slot), vcpu, (int)len, text);
    return got;
}

void conmux_drain(void)
{
    for (int n = 0; n < CONMUX_DRAIN_LINES && drain_one(); n++)
        ;
}

void conmux_drain_all(void)
{
    while (drain_one())
        ;
}

uint64_t conmux_dropped(uint32_t slot)
{
    return slot < LINEQ_SOURCES ? __atomic_load_n(&q.dropped[slot], __ATOMIC_RELAXED) : 0;
}

void conmux_focus(int slot)
{
    focus = slot;
}

int conmux_focused(void)
{
    return focus;
}

/* Hand held input to the focused partition's virtual UART as far as its receive FIFO has
 * room; returns true when everything held has gone. */
static bool feed_partition(void)
{
    struct partition *p = focus >= 0 ? run_partition((uint32_t)focus) : NULL;
    if (!p) {
        inq_len = 0; /* it ended: what it did not read is gone with it */
        return true;
    }
    uint64_t flags = spin_lock_irqsave(&p->com_lock);
    bool gave = false;
    for (size_t room = vuart_rx_space(&p->com1); room && inq_len; room--, inq_len--) {
        gave |= vuart_rx_push(&p->com1, inq[inq_head]);
        inq_head = (inq_head + 1) % sizeof(inq);
    }
    spin_unlock_irqrestore(&p->com_lock, flags);
    if (gave)
        partition_wake(p); /* input is work: a vCPU halted waiting for it runs now */
    return inq_len == 0;
}

void conmux_poll_input(void)
{
    if (inq_len && !feed_partition() && inq_len == sizeof(inq))
        return; /* the guest reads nothing: leave the rest in the console UART */
    for (int n = 0; n < 64; n++) {
        int c = console_getc();
        if (c < 0)
            break;
        if (c == CONMUX_ESCAPE) {
            if (focus >= 0)
                printk("\n[input: the Moat shell; 'help' lists commands]\n");
            focus = -1;
            inq_len = 0;
            shell_prompt();
        } else if (focus >= 0) {
            inq[(inq_head + inq_len) % sizeof(inq)] = (uint8_t)c;
            if (++inq_len == sizeof(inq))
                break;
        } else {
            shell_input((uint8_t)c);
        }
    }
    if (inq_len)
        feed_partition();
}
