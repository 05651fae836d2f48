// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for kernel/vuart.c: the input is a program of register reads and writes
// (including offsets past 7), RX pushes and TX takes. A shadow queue per direction checks that
// bytes come out in order and intact; after every step the FIFO bounds, the counters and IIR
// (recomputed from IER and the state by Table IV's rules) are checked; abort() on a mismatch.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/vuart.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

struct shadow {
    uint8_t rx[VUART_FIFO_DEPTH];
    unsigned rx_n;
    uint8_t tx[VUART_TX_BUF];
    unsigned tx_n;
    uint64_t pushed_ok, taken;
};

static bool fifo_on(const struct vuart *u)
{
    return u->fcr & VUART_FCR_ENABLE;
}

static unsigned depth(const struct vuart *u)
{
    return fifo_on(u) ? VUART_FIFO_DEPTH : 1;
}

/* Table IV again, written independently of vuart_iir_peek. */
static uint8_t expected_iir(const struct vuart *u)
{
    static const unsigned trig[4] = { 1, 4, 8, 14 };
    uint8_t hi = fifo_on(u) ? 0xc0 : 0x00;
    if ((u->ier & 4) && u->overrun)
        return hi | 0x06;
    if ((u->ier & 1) && u->rx_count > 0)
        return hi | ((!fifo_on(u) || u->rx_count >= trig[u->fcr >> 6]) ? 0x04 : 0x0c);
    if ((u->ier & 2) && u->thre_pending)
        return hi | 0x02;
    if ((u->ier & 8) && (u->msr_delta & 0x0f))
        return hi | 0x00;
    return hi | 0x01;
}

static void check_state(const struct vuart *u, const struct shadow *s)
{
    check(u->rx_count <= depth(u) && u->rx_head < VUART_FIFO_DEPTH);
    check(u->tx_count <= VUART_TX_BUF && u->tx_head < VUART_TX_BUF);
    check((u->ier & ~VUART_IER_MASK) == 0 && (u->mcr & ~VUART_MCR_MASK) == 0);
    check((u->msr_delta & ~VUART_MSR_DELTA_MASK) == 0);
    check(!u->thre_pending || (u->ier & VUART_IER_ETBEI));
    uint8_t iir = vuart_iir_peek(u);
    check(iir == expected_iir(u));
    check((iir & 0x30) == 0);
    check(vuart_irq_pending(u) == !(iir & VUART_IIR_NO_INT));
    check(!vuart_irq_line(u) || vuart_irq_pending(u));
    size_t space = vuart_rx_space(u);
    check(space == ((u->mcr & VUART_MCR_LOOP) ? 0 : depth(u) - u->rx_count));
    check(s->rx_n == u->rx_count && s->tx_n == u->tx_count);
    check(u->stats.tx_bytes == s->taken + u->tx_count);
    check(u->stats.rx_bytes == s->pushed_ok);
}

/* MSR 7:4 for an MCR value (8.8, 8.9), written independently of vuart.c. */
static uint8_t lines(uint8_t mcr)
{
    if (!(mcr & VUART_MCR_LOOP))
        return 0xb0;
    return (uint8_t)((((mcr >> 1) & 1) | ((mcr & 1) << 1) | (mcr & 0x0c)) << 4);
}

static void do_write(struct vuart *u, struct shadow *s, unsigned reg, uint8_t val)
{
    uint8_t before_lines = lines(u->mcr), before_delta = u->msr_delta, before_ier = u->ier;
    bool before_thre = u->thre_pending;
    bool dlab = u->lcr & VUART_LCR_DLAB, loop = u->mcr & VUART_MCR_LOOP;
    unsigned before_rx = u->rx_count;
    uint8_t before_fcr = u->fcr;
    uint64_t dropped = u->stats.tx_dropped;
    vuart_write(u, reg, val);
    if (reg == VUART_THR && !dlab) {
        if (loop) {
            if (before_rx < depth(u))
                s->rx[s->rx_n++] = val;
            else
                check(u->overrun);
        } else if (s->tx_n < VUART_TX_BUF) {
            s->tx[s->tx_n++] = val;
        } else {
            check(u->stats.tx_dropped == dropped + 1);
        }
        check(((u->ier & VUART_IER_ETBEI) != 0) == u->thre_pending);
    } else if (reg == VUART_FCR) {
        bool cleared = ((before_fcr ^ val) & VUART_FCR_ENABLE) ||
                       ((val & (VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX)) ==
                        (VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX));
        check(u->rx_count == (cleared ? 0 : before_rx));
        if (cleared)
            s->rx_n = 0;
        check(fifo_on(u) == ((val & VUART_FCR_ENABLE) != 0));
    } else {
        check(u->rx_count == before_rx);
    }
    if (reg == VUART_LCR)
        check(u->lcr == val);
    if (reg == VUART_IER && !dlab) /* THRI's rising edge sets THRE; clearing THRI forgets it */
        check(u->thre_pending == ((val & 2) && (!(before_ier & 2) || before_thre)));
    if (reg == VUART_MCR) {
        uint8_t after = lines(u->mcr), ch = before_lines ^ after;
        uint8_t d = (uint8_t)(((ch & 0x10) ? 1 : 0) | ((ch & 0x20) ? 2 : 0) |
                              ((before_lines & ~after & 0x40) ? 4 : 0) | ((ch & 0x80) ? 8 : 0));
        check(u->msr_delta == (before_delta | d));
    } else {
        check(u->msr_delta == before_delta);
    }
}

static void do_read(struct vuart *u, struct shadow *s, unsigned reg)
{
    bool dlab = u->lcr & VUART_LCR_DLAB;
    uint8_t iir_before = vuart_iir_peek(u);
    bool oe = u->overrun, thre = u->thre_pending;
    unsigned rx = u->rx_count;
    uint8_t v = vuart_read(u, reg);
    switch (reg) {
    case VUART_RBR:
        if (dlab) {
            check(v == u->dll);
        } else if (s->rx_n) {
            check(v == s->rx[0]);
            memmove(s->rx, s->rx + 1, --s->rx_n);
        } else {
            check(v == u->rbr);
        }
        break;
    case VUART_IER:
        check(v == (dlab ? u->dlm : u->ier));
        break;
    case VUART_IIR:
        check(v == iir_before);
        check(u->thre_pending == ((v & 0x0f) == 0x02 ? false : thre)); /* Table IV */
        break;
    case VUART_LSR:
        check(v == (0x60 | (rx ? 0x01 : 0) | (oe ? 0x02 : 0)));
        check(!u->overrun);
        break;
    case VUART_MSR:
        check(u->msr_delta == 0);
        check((v & 0xf0) == lines(u->mcr));
        break;
    case VUART_MCR:
        check(v == u->mcr);
        break;
    case VUART_LCR:
        check(v == u->lcr);
        break;
    case VUART_SCR:
        check(v == u->scr);
        break;
    default:
        check(v == 0xff);
        break;
    }
}

static void do_push(struct vuart *u, struct shadow *s, uint8_t byte)
{
    bool can = !(u->mcr & VUART_MCR_LOOP) && u->rx_count < depth(u);
    uint64_t dropped = u->stats.rx_dropped;
    bool ok = vuart_rx_push(u, byte);
    check(ok == can);
    if (ok) {
        s->rx[s->rx_n++] = byte;
        s->pushed_ok++;
    } else {
        check(u->stats.rx_dropped == dropped + 1);
    }
}

static void do_take(struct vuart *u, struct shadow *s, size_t max)
{
    uint8_t buf[VUART_TX_BUF + 1];
    size_t n = vuart_tx_take(u, buf, max);
    check(n == (max < s->tx_n ? max : s->tx_n));
    check(memcmp(buf, s->tx, n) == 0);
    memmove(s->tx, s->tx + n, s->tx_n - n);
    s->tx_n -= (unsigned)n;
    s->taken += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vuart u;
    static struct shadow s;
    vuart_init(&u);
    memset(&s, 0, sizeof(s));
    check_state(&u, &s);
    for (size_t i = 0; i < size; i++) {
        uint8_t op = data[i], arg = i + 1 < size ? data[i + 1] : 0;
        unsigned reg = (op >> 3) & 7;
        switch (op & 7) {
        case 0: /* write a register; bit 7 picks a hostile offset */
            do_write(&u, &s, (op & 0x80) ? (op >> 3) + 8u : reg, arg);
            i++;
            break;
        case 1:
        case 2: /* read a register */
            do_read(&u, &s, (op & 0x80 && (op & 7) == 2) ? (op >> 3) + 8u : reg);
            break;
        case 3:
            do_push(&u, &s, arg);
            i++;
            break;
        case 4: /* a burst from the line */
            for (unsigned n = 0; n <= (op >> 3); n++) {
                do_push(&u, &s, (uint8_t)(arg + n));
                check_state(&u, &s);
            }
            i++;
            break;
        case 5:
            do_take(&u, &s, arg == 0xff ? VUART_TX_BUF + 1 : arg);
            i++;
            break;
        case 6: /* a flood of THR writes (whatever DLAB and loopback say) */
            for (unsigned n = 0; n < (op >> 3) * 16u; n++) {
                do_write(&u, &s, VUART_THR, (uint8_t)(arg ^ n));
                check_state(&u, &s);
            }
            i++;
            break;
        default:
            if ((op >> 3) == 0x1f) { /* reset */
                vuart_init(&u);
                s.rx_n = s.tx_n = 0;
                s.pushed_ok = s.taken = 0;
            } else {
                do_read(&u, &s, VUART_IIR);
            }
            break;
        }
        check_state(&u, &s);
    }
    return 0;
}
