// SPDX-License-Identifier: Apache-2.0
// The register model of a virtual 16550A UART (National PC16550D datasheet), one per partition
// at COM1. Pure: no port I/O, no lock (the caller serializes access to one struct vuart), no
// allocation, no waiting. It does not decode exits or inject interrupts: the I/O exit handler
// calls vuart_read/vuart_write, drains TX and pushes RX; a virtual PIC samples the IRQ level.
#ifndef KERNEL_VUART_H
#define KERNEL_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets from the base port (datasheet 8.0, Table II "Register Summary"). */
#define VUART_RBR 0 /* read, DLAB=0: receiver buffer */
#define VUART_THR 0 /* write, DLAB=0: transmitter holding */
#define VUART_DLL 0 /* DLAB=1: divisor latch, low byte */
#define VUART_IER 1 /* DLAB=0: interrupt enable */
#define VUART_DLM 1 /* DLAB=1: divisor latch, high byte */
#define VUART_IIR 2 /* read: interrupt identification */
#define VUART_FCR 2 /* write: FIFO control */
#define VUART_LCR 3
#define VUART_MCR 4
#define VUART_LSR 5
#define VUART_MSR 6
#define VUART_SCR 7
#define VUART_NREGS 8

/* IER (8.7, Table II). Bits 7:4 always read 0. */
#define VUART_IER_ERBFI 0x01u /* received data available (and character timeout) */
#define VUART_IER_ETBEI 0x02u /* transmitter holding register empty */
#define VUART_IER_ELSI  0x04u /* receiver line status */
#define VUART_IER_EDSSI 0x08u /* modem status */
#define VUART_IER_MASK  0x0fu

/* IIR (8.6, Table IV). Bits 5:4 always read 0; 7:6 mirror FCR bit 0. */
#define VUART_IIR_NO_INT   0x01u
#define VUART_IIR_ID_MASK  0x0eu
#define VUART_IIR_ID_MS    0x00u /* fourth priority: modem status */
#define VUART_IIR_ID_THRE  0x02u /* third: transmitter holding register empty */
#define VUART_IIR_ID_RDA   0x04u /* second: received data available / trigger level reached */
#define VUART_IIR_ID_RLS   0x06u /* highest: receiver line status */
#define VUART_IIR_ID_CTI   0x0cu /* second: character timeout (FIFO mode only) */
#define VUART_IIR_FIFO_ON  0xc0u

/* FCR (8.5). Write-only. */
#define VUART_FCR_ENABLE    0x01u
#define VUART_FCR_CLEAR_RX  0x02u
#define VUART_FCR_CLEAR_TX  0x04u
#define VUART_FCR_DMA_MODE  0x08u
#define VUART_FCR_TRIG_MASK 0xc0u
#define VUART_FCR_TRIG_1    0x00u
#define VUART_FCR_TRIG_4    0x40u
#define VUART_FCR_TRIG_8    0x80u
#define VUART_FCR_TRIG_14   0xc0u

/* LCR (8.1). */
#define VUART_LCR_DLAB 0x80u

/* MCR (8.8). Bits 7:5 always read 0. */
#define VUART_MCR_DTR  0x01u
#define VUART_MCR_RTS  0x02u
#define VUART_MCR_OUT1 0x04u
#define VUART_MCR_OUT2 0x08u
#define VUART_MCR_LOOP 0x10u
#define VUART_MCR_MASK 0x1fu

/* LSR (8.4). */
#define VUART_LSR_DR   0x01u
#define VUART_LSR_OE   0x02u
#define VUART_LSR_PE   0x04u
#define VUART_LSR_FE   0x08u
#define VUART_LSR_BI   0x10u
#define VUART_LSR_THRE 0x20u
#define VUART_LSR_TEMT 0x40u
#define VUART_LSR_FIFO_ERR 0x80u

/* MSR (8.9): deltas in 3:0, line states in 7:4. */
#define VUART_MSR_DCTS 0x01u
#define VUART_MSR_DDSR 0x02u
#define VUART_MSR_TERI 0x04u
#define VUART_MSR_DDCD 0x08u
#define VUART_MSR_DELTA_MASK 0x0fu
#define VUART_MSR_CTS  0x10u
#define VUART_MSR_DSR  0x20u
#define VUART_MSR_RI   0x40u
#define VUART_MSR_DCD  0x80u
/* Outside loopback the virtual line is a connected null modem: CTS, DSR, DCD on, RI off. */
#define VUART_MSR_LINES_CONNECTED (VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD)

/* Reset values (datasheet Table I, "UART Reset Configuration"). */
#define VUART_RESET_IER 0x00u
#define VUART_RESET_IIR 0x01u
#define VUART_RESET_LCR 0x00u
#define VUART_RESET_MCR 0x00u
#define VUART_RESET_LSR (VUART_LSR_THRE | VUART_LSR_TEMT)
#define VUART_RESET_MSR VUART_MSR_LINES_CONNECTED
/* The divisor latch is not reset by MR (Table I leaves it out); start at 12 (9600 baud from
 * the PC's 1.8432 MHz clock, Table III), what PC firmware usually leaves behind. */
#define VUART_RESET_DIVISOR 12u

#define VUART_FIFO_DEPTH 16u  /* RX and TX FIFOs of the 16550 (General Description) */
#define VUART_TX_BUF     256u /* hypervisor-side TX buffer: bytes waiting for vuart_tx_take */

struct vuart_stats {
    uint64_t tx_bytes;   /* bytes the guest wrote to THR that reached the TX buffer */
    uint64_t tx_dropped; /* THR writes lost because the TX buffer was full */
    uint64_t rx_bytes;   /* bytes accepted by vuart_rx_push */
    uint64_t rx_dropped; /* received bytes lost: RX FIFO full (overrun), or pushed in loopback */
};

/* Fields are read by tests and debug dumps; only vuart.c writes them. */
struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;        /* FCR_ENABLE | FCR_DMA_MODE | trigger bits as last programmed */
    uint8_t msr_delta;  /* MSR 3:0, cleared by reading MSR */
    uint8_t rbr;        /* last byte read from RBR: what an empty receiver reads back */
    bool overrun;       /* LSR.OE, cleared by reading LSR */
    bool thre_pending;  /* the THRE interrupt latch of Table IV */
    uint8_t rx_head, rx_count;
    uint8_t rx_fifo[VUART_FIFO_DEPTH];
    uint16_t tx_head, tx_count;
    uint8_t tx_buf[VUART_TX_BUF];
    struct vuart_stats stats;
};

/* Put u in its reset state (Table I) with empty buffers and zeroed counters. */
void vuart_init(struct vuart *u);

/* A guest byte write of val to base+reg. reg >= 8 is ignored. Never blocks: a THR byte that
 * does not fit the TX buffer is dropped and counted. */
void vuart_write(struct vuart *u, unsigned reg, uint8_t val);

/* A guest byte read of base+reg, with the register's read side effects (RBR pops, IIR clears
 * THRE, LSR clears OE, MSR clears deltas). reg >= 8 reads 0xff (an unclaimed port). */
uint8_t vuart_read(struct vuart *u, unsigned reg);

/* What IIR would read now, without the THRE-clearing side effect (for the checks and dumps). */
uint8_t vuart_iir_peek(const struct vuart *u);

/* Move up to max transmitted bytes, oldest first, into buf; returns how many. */
size_t vuart_tx_take(struct vuart *u, uint8_t *buf, size_t max);

/* Deliver one received byte. false (byte dropped, counted, LSR.OE set) if the receiver is full
 * -- 16 bytes in FIFO mode, 1 in 16450 mode -- and always in loopback (input disconnected). */
bool vuart_rx_push(struct vuart *u, uint8_t byte);

/* Bytes vuart_rx_push would accept now: lets the hypervisor hold input back instead of
 * overrunning a guest that reads slowly. */
size_t vuart_rx_space(const struct vuart *u);

/* Level of the chip's INTR pin: some enabled interrupt is pending (IIR bit 0 clear). */
bool vuart_irq_pending(const struct vuart *u);

/* The PC's IRQ line: INTR gated by OUT2 on the board; in loopback OUT2 is forced inactive
 * (8.8), so the line is off. What a virtual PIC/IOAPIC pin should follow. */
bool vuart_irq_line(const struct vuart *u);

/* The 16-bit baud divisor (DLM:DLL). */
uint16_t vuart_divisor(const struct vuart *u);

#endif
