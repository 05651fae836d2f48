// SPDX-License-Identifier: Apache-2.0
// The virtual 16550A's registers, FIFOs and interrupt logic (PC16550D datasheet, June 1995).
// Transmission is instantaneous: THR, the TX FIFO and the shift register are always empty and
// every THR byte lands at once in the hypervisor-side TX buffer (or is dropped and counted).
// The virtual line has no character time, so a received byte's "4 character times" of the
// character timeout (Table IV) have always elapsed: data below the trigger level reports 0xc.
#include "kernel/vuart.h"

_Static_assert((VUART_TX_BUF & (VUART_TX_BUF - 1)) == 0, "TX buffer size is a power of two");
_Static_assert(VUART_TX_BUF <= UINT16_MAX, "tx_head/tx_count are 16-bit");
_Static_assert(VUART_FIFO_DEPTH <= UINT8_MAX, "rx_head/rx_count are 8-bit");
_Static_assert(VUART_NREGS == 8, "a 16550 decodes A2:A0 (Table II)");

static bool vuart_fifo_mode(const struct vuart *u)
{
    return (u->fcr & VUART_FCR_ENABLE) != 0;
}

static bool vuart_dlab(const struct vuart *u)
{
    return (u->lcr & VUART_LCR_DLAB) != 0;
}

/* 8.5: in 16450 (character) mode the receiver holds one byte in RBR. */
static unsigned vuart_rx_depth(const struct vuart *u)
{
    return vuart_fifo_mode(u) ? VUART_FIFO_DEPTH : 1;
}

/* FCR bits 7:6 -> RCVR FIFO trigger level in bytes (8.5). */
static unsigned vuart_rx_trigger(const struct vuart *u)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return levels[(u->fcr & VUART_FCR_TRIG_MASK) >> 6];
}

/* MSR 7:4 for a given MCR: in loopback (8.8 bit 4) the inputs are wired to the outputs,
 * CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2; otherwise the virtual cable is connected. */
static uint8_t vuart_msr_lines(uint8_t mcr)
{
    if (!(mcr & VUART_MCR_LOOP))
        return VUART_MSR_LINES_CONNECTED;
    uint8_t l = 0;
    if (mcr & VUART_MCR_RTS)
        l |= VUART_MSR_CTS;
    if (mcr & VUART_MCR_DTR)
        l |= VUART_MSR_DSR;
    if (mcr & VUART_MCR_OUT1)
        l |= VUART_MSR_RI;
    if (mcr & VUART_MCR_OUT2)
        l |= VUART_MSR_DCD;
    return l;
}

static void vuart_rx_clear(struct vuart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* Into the receiver: the byte is lost on overrun. In FIFO mode the datasheet (8.4, LSR bit 1)
 * drops the new character; in 16450 mode it would overwrite RBR instead: we drop the new one
 * in both modes so that a refused push never destroys a byte already accepted. */
static bool vuart_rx_in(struct vuart *u, uint8_t byte)
{
    if (u->rx_count >= vuart_rx_depth(u)) {
        u->overrun = true;
        u->stats.rx_dropped++;
        return false;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % VUART_FIFO_DEPTH] = byte;
    u->rx_count++;
    return true;
}

void vuart_init(struct vuart *u)
{
    *u = (struct vuart){
        .ier = VUART_RESET_IER,
        .lcr = VUART_RESET_LCR,
        .mcr = VUART_RESET_MCR,
        .dll = VUART_RESET_DIVISOR & 0xff,
        .dlm = VUART_RESET_DIVISOR >> 8,
    };
}

uint8_t vuart_iir_peek(const struct vuart *u)
{
    uint8_t fifo = vuart_fifo_mode(u) ? VUART_IIR_FIFO_ON : 0;
    /* Table IV, highest priority first. PE/FE/BI never happen on the virtual line. */
    if ((u->ier & VUART_IER_ELSI) && u->overrun)
        return fifo | VUART_IIR_ID_RLS;
    if ((u->ier & VUART_IER_ERBFI) && u->rx_count) {
        if (!vuart_fifo_mode(u) || u->rx_count >= vuart_rx_trigger(u))
            return fifo | VUART_IIR_ID_RDA;
        return fifo | VUART_IIR_ID_CTI;
    }
    if ((u->ier & VUART_IER_ETBEI) && u->thre_pending)
        return fifo | VUART_IIR_ID_THRE;
    if ((u->ier & VUART_IER_EDSSI) && (u->msr_delta & VUART_MSR_DELTA_MASK))
        return fifo | VUART_IIR_ID_MS;
    return fifo | VUART_IIR_NO_INT;
}

static void vuart_write_thr(struct vuart *u, uint8_t val)
{
    if (u->mcr & VUART_MCR_LOOP) {
        /* 8.8 bit 4: transmitter output looped back to the receiver input. */
        vuart_rx_in(u, val);
    } else if (u->tx_count < VUART_TX_BUF) {
        u->tx_buf[(u->tx_head + u->tx_count) % VUART_TX_BUF] = val;
        u->tx_count++;
        u->stats.tx_bytes++;
    } else {
        u->stats.tx_dropped++;
    }
    /* Table IV: writing THR resets the THRE interrupt; the byte moves on at once, THR is empty
     * again and the interrupt is set again (while enabled). */
    u->thre_pending = (u->ier & VUART_IER_ETBEI) != 0;
}

static void vuart_write_ier(struct vuart *u, uint8_t val)
{
    uint8_t old = u->ier;
    u->ier = val & VUART_IER_MASK;
    /* Enabling ETBEI while THR is empty (always, here) raises THRE at once; Linux's 8250
     * UART_BUG_THRE probe and Windows rely on it, as on real parts. Disabling it forgets. */
    if ((u->ier & VUART_IER_ETBEI) && !(old & VUART_IER_ETBEI))
        u->thre_pending = true;
    else if (!(u->ier & VUART_IER_ETBEI))
        u->thre_pending = false;
}

static void vuart_write_fcr(struct vuart *u, uint8_t val)
{
    /* 8.5 bit 0: changing the mode clears the FIFOs; with bit 0 clear the other bits are not
     * programmed. The TX FIFO is always empty here; the TX buffer is the wire and stays. */
    if ((val ^ u->fcr) & VUART_FCR_ENABLE)
        vuart_rx_clear(u);
    if (!(val & VUART_FCR_ENABLE)) {
        u->fcr = 0;
        return;
    }
    u->fcr = val & (VUART_FCR_ENABLE | VUART_FCR_DMA_MODE | VUART_FCR_TRIG_MASK);
    if (val & VUART_FCR_CLEAR_RX)
        vuart_rx_clear(u);
}

static void vuart_write_mcr(struct vuart *u, uint8_t val)
{
    uint8_t before = vuart_msr_lines(u->mcr);
    u->mcr = val & VUART_MCR_MASK;
    uint8_t after = vuart_msr_lines(u->mcr);
    uint8_t changed = before ^ after;
    /* 8.9: D-bits latch a change of CTS, DSR, DCD; TERI only RI's trailing edge (1 -> 0). */
    if (changed & VUART_MSR_CTS)
        u->msr_delta |= VUART_MSR_DCTS;
    if (changed & VUART_MSR_DSR)
        u->msr_delta |= VUART_MSR_DDSR;
    if ((before & VUART_MSR_RI) && !(after & VUART_MSR_RI))
        u->msr_delta |= VUART_MSR_TERI;
    if (changed & VUART_MSR_DCD)
        u->msr_delta |= VUART_MSR_DDCD;
}

void vuart_write(struct vuart *u, unsigned reg, uint8_t val)
{
    switch (reg) {
    case VUART_THR:
        if (vuart_dlab(u))
            u->dll = val;
        else
            vuart_write_thr(u, val);
        break;
    case VUART_IER:
        if (vuart_dlab(u))
            u->dlm = val;
        else
            vuart_write_ier(u, val);
        break;
    case VUART_FCR:
        vuart_write_fcr(u, val); /* FCR does not depend on DLAB (Table II) */
        break;
    case VUART_LCR:
        u->lcr = val;
        break;
    case VUART_MCR:
        vuart_write_mcr(u, val);
        break;
    case VUART_SCR:
        u->scr = val;
        break;
    default:
        /* LSR and MSR are read-only for software (8.4: writes only for factory test);
         * offsets past 7 are not ours. */
        break;
    }
}

uint8_t vuart_read(struct vuart *u, unsigned reg)
{
    uint8_t v;
    switch (reg) {
    case VUART_RBR:
        if (vuart_dlab(u))
            return u->dll;
        if (u->rx_count) {
            u->rbr = u->rx_fifo[u->rx_head];
            u->rx_head = (uint8_t)((u->rx_head + 1) % VUART_FIFO_DEPTH);
            u->rx_count--;
        }
        return u->rbr;
    case VUART_IER:
        return vuart_dlab(u) ? u->dlm : u->ier;
    case VUART_IIR:
        v = vuart_iir_peek(u);
        /* Table IV: reading IIR resets THRE when it is the source being reported. */
        if ((v & (VUART_IIR_NO_INT | VUART_IIR_ID_MASK)) == VUART_IIR_ID_THRE)
            u->thre_pending = false;
        return v;
    case VUART_LCR:
        return u->lcr;
    case VUART_MCR:
        return u->mcr;
    case VUART_LSR:
        v = VUART_LSR_THRE | VUART_LSR_TEMT;
        if (u->rx_count)
            v |= VUART_LSR_DR;
        if (u->overrun)
            v |= VUART_LSR_OE;
        u->overrun = false; /* 8.4: bits 1-4 reset when the CPU reads LSR */
        return v;
    case VUART_MSR:
        v = (uint8_t)(vuart_msr_lines(u->mcr) | u->msr_delta);
        u->msr_delta = 0; /* 8.9: D-bits reset when the CPU reads MSR */
        return v;
    case VUART_SCR:
        return u->scr;
    default:
        return 0xff;
    }
}

size_t vuart_tx_take(struct vuart *u, uint8_t *buf, size_t max)
{
    size_t n = 0;
    while (n < max && u->tx_count) {
        buf[n++] = u->tx_buf[u->tx_head];
        u->tx_head = (uint16_t)((u->tx_head + 1) % VUART_TX_BUF);
        u->tx_count--;
    }
    return n;
}

bool vuart_rx_push(struct vuart *u, uint8_t byte)
{
    if (u->mcr & VUART_MCR_LOOP) {
        /* 8.8 bit 4: the serial input is disconnected; the line's byte is lost. */
        u->stats.rx_dropped++;
        return false;
    }
    if (!vuart_rx_in(u, byte))
        return false;
    u->stats.rx_bytes++;
    return true;
}

size_t vuart_rx_space(const struct vuart *u)
{
    if (u->mcr & VUART_MCR_LOOP)
        return 0;
    return vuart_rx_depth(u) - u->rx_count;
}

bool vuart_irq_pending(const struct vuart *u)
{
    return !(vuart_iir_peek(u) & VUART_IIR_NO_INT);
}

bool vuart_irq_line(const struct vuart *u)
{
    return vuart_irq_pending(u) && (u->mcr & (VUART_MCR_OUT2 | VUART_MCR_LOOP)) == VUART_MCR_OUT2;
}

uint16_t vuart_divisor(const struct vuart *u)
{
    return (uint16_t)(u->dll | (u->dlm << 8));
}
