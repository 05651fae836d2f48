// SPDX-License-Identifier: Apache-2.0
// The console multiplexer (kernel/conmux.h). One ring of records, oldest first:
//   [slot][vcpu][len][len bytes of text]
// guarded by one lock that writers hold only to copy a line in. Each partition may hold at
// most CONMUX_QUOTA bytes of the ring; a line that does not fit is dropped and counted, so a
// flood costs the flooding partition its own output and nothing else. CPU 0 drains the ring
// from its run loop, so guests never wait for the UART.
#include <string.h>
#include "kernel/conmux.h"
#include "kernel/console.h"
#include "kernel/config.h"
#include "kernel/partition.h"
#include "kernel/run.h"
#include "kernel/shell.h"
#include "kernel/spinlock.h"
#include "kernel/vuart.h"

#define CONMUX_RING  (32 * 1024)
#define CONMUX_QUOTA (CONMUX_RING / CONFIG_PARTITIONS_MAX)
#define CONMUX_HDR   3
#define CONMUX_DRAIN_BYTES 4096 /* per call: bounds the time CPU 0 spends on the UART */

static struct spinlock lock = SPINLOCK_INIT;
static uint8_t ring[CONMUX_RING];
static uint32_t head, used;                        /* oldest byte, bytes in use */
static uint32_t held[CONFIG_PARTITIONS_MAX];       /* bytes each slot holds in the ring */
static uint64_t dropped[CONFIG_PARTITIONS_MAX];
static int focus = -1;                             /* slot that gets input; -1: the shell */
/* Input for the focused partition that its UART could not take yet (its receive FIFO was
 * full): held here, not dropped, and handed over as the guest reads. */
static uint8_t inq[256];
static uint32_t inq_head, inq_len;

static void put(uint8_t b)
{
    ring[(head + used) % CONMUX_RING] = b;
    used++;
}

static uint8_t take(void)
{
    uint8_t b = ring[head];
    head = (head + 1) % CONMUX_RING;
    used--;
    return b;
}

void conmux_line(struct partition *p, uint32_t vcpu, const char *text, uint32_t len)
{
    uint32_t slot = p->slot;
    if (len > 255)
        len = 255;
    uint32_t need = CONMUX_HDR + len;
    uint64_t flags = spin_lock_irqsave(&lock);
    if (slot >= CONFIG_PARTITIONS_MAX || held[slot] + need > CONMUX_QUOTA ||
        used + need > CONMUX_RING) {
        if (slot < CONFIG_PARTITIONS_MAX)
            dropped[slot] += len + 1; /* the newline too: bytes the guest wrote */
    } else {
        put((uint8_t)slot);
        put((uint8_t)vcpu);
        put((uint8_t)len);
        for (uint32_t i = 0; i < len; i++)
            put((uint8_t)text[i]);
        held[slot] += need;
    }
    spin_unlock_irqrestore(&lock, flags);
}

static bool drain_one(void)
{
    char text[256];
    uint64_t flags = spin_lock_irqsave(&lock);
    if (used == 0) {
        spin_unlock_irqrestore(&lock, flags);
        return false;
    }
    uint8_t slot = take(), vcpu = take(), len = take();
    for (uint32_t i = 0; i < len; i++)
        text[i] = (char)take();
    held[slot] -= CONMUX_HDR + len;
    spin_unlock_irqrestore(&lock, flags);
    printk("[%s:%u] %.*s\n", run_slot_name(slot), vcpu, (int)len, text);
    return true;
}

void conmux_drain(void)
{
    uint32_t budget = CONMUX_DRAIN_BYTES;
    while (budget >= CONMUX_HDR + 255 && drain_one())
        budget -= CONMUX_HDR + 255;
}

void conmux_drain_all(void)
{
    while (drain_one())
        ;
}

uint64_t conmux_dropped(uint32_t slot)
{
    return slot < CONFIG_PARTITIONS_MAX ? __atomic_load_n(&dropped[slot], __ATOMIC_RELAXED) : 0;
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
    for (size_t room = vuart_rx_space(&p->com1); room && inq_len; room--, inq_len--) {
        vuart_rx_push(&p->com1, inq[inq_head]);
        inq_head = (inq_head + 1) % sizeof(inq);
    }
    spin_unlock_irqrestore(&p->com_lock, flags);
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
