// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/vuart.c: the register sequences Linux's 8250 driver issues when it
// probes and starts a port, a polled driver, the divisor latch, IIR priorities and clearing,
// FIFO trigger levels, overrun, TX flooding, loopback and hostile register offsets.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/vuart.h"

static struct vuart uart;

static void wr(unsigned reg, uint8_t val)
{
    vuart_write(&uart, reg, val);
}

static uint8_t rd(unsigned reg)
{
    return vuart_read(&uart, reg);
}

static int setup(void **state)
{
    vuart_init(&uart);
    return 0;
}

static void test_reset_values(void **state)
{
    assert_int_equal(rd(VUART_IER), 0x00);
    assert_int_equal(rd(VUART_IIR), 0x01);
    assert_int_equal(rd(VUART_LCR), 0x00);
    assert_int_equal(rd(VUART_MCR), 0x00);
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(rd(VUART_MSR), 0xb0);
    assert_int_equal(rd(VUART_SCR), 0x00);
    assert_int_equal(rd(VUART_RBR), 0x00); /* empty receiver */
    assert_int_equal(vuart_divisor(&uart), 12);
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(VUART_DLL), 12);
    assert_int_equal(rd(VUART_DLM), 0);
    assert_false(vuart_irq_pending(&uart));
    assert_false(vuart_irq_line(&uart));
    assert_int_equal(vuart_rx_space(&uart), 1); /* 16450 mode until FCR bit 0 */
    assert_int_equal(uart.stats.tx_bytes + uart.stats.rx_bytes + uart.stats.tx_dropped +
                         uart.stats.rx_dropped, 0);
}

/* drivers/tty/serial/8250/8250_port.c autoconfig() and autoconfig_16550a(), in order, with
 * the value each read must give for the port to be taken as a plain 16550A. */
static void test_linux_autoconfig(void **state)
{
    /* IER probe: bits 0-3 writable, read back exactly. */
    uint8_t scratch = rd(VUART_IER);
    assert_int_equal(scratch, 0x00);
    wr(VUART_IER, 0);
    assert_int_equal(rd(VUART_IER) & 0x0f, 0x00);
    wr(VUART_IER, 0x0f);
    assert_int_equal(rd(VUART_IER), 0x0f);
    wr(VUART_IER, scratch);
    assert_int_equal(rd(VUART_IER), 0x00);

    uint8_t save_mcr = rd(VUART_MCR), save_lcr = rd(VUART_LCR);
    assert_int_equal(save_mcr, 0x00);
    assert_int_equal(save_lcr, 0x00);

    /* Loopback test: LOOP|OUT2|RTS must show DCD|CTS in MSR 7:4 (status1 == 0x90). */
    wr(VUART_MCR, 0x1a);
    uint8_t msr = rd(VUART_MSR);
    assert_int_equal(msr & 0xf0, 0x90);
    assert_int_equal(msr, 0x92); /* DSR dropped on entering loopback: DDSR */
    wr(VUART_MCR, save_mcr);

    /* EFR off (LCR 0xbf, write 0 to offset 2 = FCR on a 16550), then FIFO detection. */
    wr(VUART_LCR, 0xbf);
    wr(2, 0);
    wr(VUART_LCR, 0);
    wr(VUART_FCR, 0x01);
    uint8_t iir = rd(VUART_IIR);
    assert_int_equal(iir, 0xc1);
    assert_int_equal(iir >> 6, 3); /* -> autoconfig_16550a */

    /* ST16C650V1 EFR under DLAB: offset 2 must not read 0 (it reads IIR). */
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(2), 0xc1);
    /* EFR under 0xbf (16650/16850): again not 0. */
    wr(VUART_LCR, 0xbf);
    assert_int_equal(rd(2), 0xc1);

    /* NS SuperIO: EXCR1 (offset 2 under LCR 0xe0) must not follow MCR bit 4. */
    wr(VUART_LCR, 0);
    uint8_t status1 = rd(VUART_MCR);
    assert_int_equal(status1, 0x00);
    wr(VUART_LCR, 0xe0);
    uint8_t status2 = rd(2);
    assert_int_equal((status2 ^ status1) & 0x10, 0);
    wr(VUART_LCR, 0);
    wr(VUART_MCR, status1 ^ 0x10);
    wr(VUART_LCR, 0xe0);
    status2 = rd(2);
    assert_int_equal(status2, 0xc1); /* IER is 0: the loopback MSR change raises nothing */
    wr(VUART_LCR, 0);
    wr(VUART_MCR, status1);
    assert_int_equal((status2 ^ status1) & 0x10, 0);

    /* TI16750: the 64-byte FIFO bit (IIR bit 5) must stay 0 with and without DLAB. */
    wr(VUART_LCR, 0);
    wr(VUART_FCR, 0x21);
    assert_int_equal(rd(VUART_IIR) & 0xe0, 0xc0);
    wr(VUART_FCR, 0x01);
    wr(VUART_LCR, 0x80);
    wr(VUART_FCR, 0x21);
    assert_int_equal(rd(VUART_IIR) & 0xe0, 0xc0);
    wr(VUART_FCR, 0x01);
    wr(VUART_LCR, 0);

    /* XScale UUE (IER bit 6) must not stick. */
    uint8_t iersave = rd(VUART_IER);
    wr(VUART_IER, iersave & ~0x40);
    assert_int_equal(rd(VUART_IER) & 0x40, 0);
    wr(VUART_IER, iersave | 0x40);
    assert_int_equal(rd(VUART_IER), 0x00);
    wr(VUART_IER, iersave);

    /* Back to the saved state; reset the FIFOs; flush RBR. */
    wr(VUART_LCR, save_lcr);
    wr(VUART_MCR, save_mcr);
    wr(VUART_FCR, 0x01);
    wr(VUART_FCR, 0x07);
    wr(VUART_FCR, 0x00);
    rd(VUART_RBR);
    wr(VUART_IER, 0);
    assert_int_equal(rd(VUART_IIR), 0x01);
    assert_int_equal(rd(VUART_LSR), 0x60);
    /* The MSR deltas of the loopback games are still latched; reading clears them. */
    assert_int_equal(rd(VUART_MSR), 0xbb);
    assert_int_equal(rd(VUART_MSR), 0xb0);

    /* autoconfig_8250's scratch test (run when IIR 7:6 is 0; SCR must hold both patterns). */
    wr(VUART_SCR, 0xa5);
    assert_int_equal(rd(VUART_SCR), 0xa5);
    wr(VUART_SCR, 0x5a);
    assert_int_equal(rd(VUART_SCR), 0x5a);
}

/* serial8250_do_startup(): LSR safety check, then the UART_BUG_THRE probe: a real 16550
 * raises THRE each time IER.THRI is turned on while the transmitter is idle. */
static void test_linux_startup(void **state)
{
    wr(VUART_FCR, 0x01);
    wr(VUART_FCR, 0x07);
    wr(VUART_FCR, 0x00);
    wr(VUART_FCR, 0xc1); /* 16550A: FIFO on, trigger 14... */
    wr(VUART_FCR, 0x81); /* ...Linux's default is 8 */
    assert_int_not_equal(rd(VUART_LSR), 0xff);
    rd(VUART_LSR);
    rd(VUART_RBR);
    rd(VUART_IIR);
    rd(VUART_MSR);
    wr(VUART_LCR, 0x03);
    wr(VUART_MCR, 0x0b); /* DTR|RTS|OUT2 */

    wr(VUART_IER, 0x02);
    uint8_t iir1 = rd(VUART_IIR);
    wr(VUART_IER, 0);
    wr(VUART_IER, 0x02);
    uint8_t iir = rd(VUART_IIR);
    wr(VUART_IER, 0);
    assert_int_equal(iir1, 0xc2);
    assert_int_equal(iir, 0xc2); /* not UART_BUG_THRE */
    assert_int_equal(rd(VUART_IIR), 0xc1);

    /* Normal operation: IER = RLSI|RDI; start_tx turns THRI on; the ISR sees THRE. */
    wr(VUART_IER, 0x05);
    assert_int_equal(rd(VUART_IIR), 0xc1);
    wr(VUART_IER, 0x07);
    assert_true(vuart_irq_line(&uart));
    assert_int_equal(rd(VUART_IIR), 0xc2);
    assert_int_equal(rd(VUART_LSR), 0x60);
    for (int i = 0; i < 16; i++)
        wr(VUART_THR, (uint8_t)('a' + i));
    assert_int_equal(rd(VUART_IIR), 0xc2); /* the last THR write left THR empty again */
    wr(VUART_IER, 0x05);                   /* stop_tx */
    assert_int_equal(rd(VUART_IIR), 0xc1);
    assert_false(vuart_irq_line(&uart));
    uint8_t out[32];
    assert_int_equal(vuart_tx_take(&uart, out, sizeof(out)), 16);
    assert_memory_equal(out, "abcdefghijklmnop", 16);
}

/* An early console: program 115200 8N1, wait for THRE, write THR; wait for DR, read RBR. */
static void test_polled_driver(void **state)
{
    wr(VUART_IER, 0x00);
    wr(VUART_LCR, 0x80);
    wr(VUART_DLL, 0x01);
    wr(VUART_DLM, 0x00);
    wr(VUART_LCR, 0x03);
    wr(VUART_FCR, 0xc7);
    wr(VUART_MCR, 0x03);
    assert_int_equal(vuart_divisor(&uart), 1);

    const char *msg = "Hello, Moat\r\n";
    for (const char *p = msg; *p; p++) {
        int spins = 0;
        while (!(rd(VUART_LSR) & VUART_LSR_THRE))
            assert_true(++spins < 2);
        wr(VUART_THR, (uint8_t)*p);
    }
    uint8_t out[64];
    size_t n = vuart_tx_take(&uart, out, sizeof(out));
    assert_int_equal(n, strlen(msg));
    assert_memory_equal(out, msg, n);
    assert_int_equal(uart.stats.tx_bytes, strlen(msg));
    assert_int_equal(vuart_tx_take(&uart, out, sizeof(out)), 0);

    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_true(vuart_rx_push(&uart, 'o'));
    assert_true(vuart_rx_push(&uart, 'k'));
    assert_int_equal(uart.stats.rx_bytes, 2);
    char got[3] = { 0 };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rd(VUART_LSR), 0x61);
        got[i] = (char)rd(VUART_RBR);
    }
    assert_string_equal(got, "ok");
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(rd(VUART_RBR), 'k'); /* an empty receiver repeats the last byte */
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_false(vuart_irq_pending(&uart)); /* IER 0: polled */
}

static void test_dlab(void **state)
{
    wr(VUART_FCR, 0x01);
    wr(VUART_IER, 0x05);
    assert_true(vuart_rx_push(&uart, 0x42));

    wr(VUART_LCR, 0x83);
    assert_int_equal(rd(VUART_LCR), 0x83);
    wr(VUART_DLL, 0x34);
    wr(VUART_DLM, 0x12);
    assert_int_equal(rd(VUART_DLL), 0x34);
    assert_int_equal(rd(VUART_DLM), 0x12);
    assert_int_equal(vuart_divisor(&uart), 0x1234);
    /* Under DLAB, offsets 0/1 are the latch: nothing sent, nothing popped, IER untouched. */
    assert_int_equal(uart.tx_count, 0);
    assert_int_equal(uart.stats.tx_bytes, 0);
    assert_int_equal(uart.rx_count, 1);
    assert_int_equal(uart.ier, 0x05);
    assert_int_equal(rd(VUART_LSR), 0x61);
    assert_int_equal(rd(VUART_IIR), 0xc4); /* IIR does not depend on DLAB */

    wr(VUART_LCR, 0x03);
    assert_int_equal(rd(VUART_IER), 0x05);
    assert_int_equal(rd(VUART_RBR), 0x42);
    assert_int_equal(rd(VUART_LSR), 0x60);
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(VUART_DLL), 0x34); /* the latch survives DLAB=0 traffic */
    assert_int_equal(rd(VUART_DLM), 0x12);
    wr(VUART_LCR, 0xff);
    assert_int_equal(rd(VUART_LCR), 0xff); /* all 8 LCR bits are kept */
}

static void test_iir_priorities(void **state)
{
    wr(VUART_FCR, 0x01);
    wr(VUART_IER, 0x0f);
    assert_int_equal(vuart_iir_peek(&uart), 0xc2); /* THRI turned on with THR empty */
    assert_int_equal(rd(VUART_IIR), 0xc2);
    assert_int_equal(rd(VUART_IIR), 0xc1); /* reading IIR cleared THRE */
    wr(VUART_MCR, 0x01);                   /* DTR: the connected lines do not change */
    assert_int_equal(rd(VUART_IIR), 0xc1);

    wr(VUART_MCR, 0x10); /* loopback, all outputs off: CTS, DSR, DCD drop */
    assert_int_equal(vuart_iir_peek(&uart), 0xc0);
    assert_true(vuart_irq_pending(&uart));
    assert_false(vuart_irq_line(&uart)); /* OUT2 forced inactive in loopback */
    assert_int_equal(rd(VUART_IIR), 0xc0); /* reading IIR does not clear modem status */

    wr(VUART_THR, 'a'); /* looped into RX; THRE set again */
    assert_int_equal(rd(VUART_IIR), 0xc4);
    for (int i = 1; i < 16; i++)
        wr(VUART_THR, (uint8_t)('a' + i));
    assert_int_equal(uart.rx_count, 16);
    wr(VUART_THR, 'z'); /* overrun */
    assert_int_equal(uart.stats.rx_dropped, 1);
    assert_int_equal(rd(VUART_IIR), 0xc6);
    assert_int_equal(rd(VUART_LSR), 0x63);
    assert_int_equal(rd(VUART_IIR), 0xc4); /* reading LSR cleared the line status source */
    for (int i = 0; i < 16; i++)
        assert_int_equal(rd(VUART_RBR), 'a' + i);
    assert_int_equal(rd(VUART_IIR), 0xc2); /* THRE still latched from the last THR write */
    assert_int_equal(rd(VUART_IIR), 0xc0);
    assert_int_equal(rd(VUART_MSR), 0x0b); /* lines all off, DCTS|DDSR|DDCD */
    assert_int_equal(rd(VUART_IIR), 0xc1);
    assert_false(vuart_irq_pending(&uart));

    /* A source disabled in IER is not reported even while its condition holds. */
    wr(VUART_MCR, 0x00);
    assert_true(vuart_rx_push(&uart, 'x'));
    wr(VUART_IER, 0x00);
    assert_int_equal(rd(VUART_IIR), 0xc1);
    assert_int_equal(rd(VUART_LSR), 0x61);
    wr(VUART_IER, 0x08);
    assert_int_equal(rd(VUART_IIR), 0xc0); /* leaving loopback changed the lines again */
    rd(VUART_MSR);
    assert_int_equal(rd(VUART_IIR), 0xc1);
    wr(VUART_IER, 0x01);
    assert_int_equal(rd(VUART_IIR), 0xc4); /* trigger level 1 is met by one byte */
}

/* The THRE latch (Table IV): IIR read clears it, THR write re-sets it, THRI re-enable sets it. */
static void test_thre_rules(void **state)
{
    wr(VUART_IER, 0x02); /* 16450 mode: IIR 7:6 = 00 */
    assert_int_equal(rd(VUART_IIR), 0x02);
    assert_int_equal(rd(VUART_IIR), 0x01);
    wr(VUART_IER, 0x02); /* no rising edge: stays clear */
    assert_int_equal(rd(VUART_IIR), 0x01);
    wr(VUART_THR, 'x');
    assert_int_equal(rd(VUART_IIR), 0x02);
    wr(VUART_IER, 0x00);
    assert_int_equal(rd(VUART_IIR), 0x01);
    wr(VUART_IER, 0x02);
    assert_true(vuart_irq_pending(&uart));
    assert_false(vuart_irq_line(&uart)); /* OUT2 off: the PC's IRQ line is gated */
    wr(VUART_MCR, 0x08);
    assert_true(vuart_irq_line(&uart));
    wr(VUART_MCR, 0x18);
    assert_false(vuart_irq_line(&uart));
    wr(VUART_MCR, 0x08);
    /* A THRE hidden behind a higher source is not cleared by the IIR read that shows that. */
    assert_true(vuart_rx_push(&uart, 'r'));
    wr(VUART_IER, 0x03);
    assert_int_equal(rd(VUART_IIR), 0x04);
    assert_int_equal(rd(VUART_RBR), 'r');
    assert_int_equal(rd(VUART_IIR), 0x02);
    assert_int_equal(rd(VUART_IIR), 0x01);
    assert_false(vuart_irq_line(&uart));
}

static void test_fifo_trigger_levels(void **state)
{
    static const struct {
        uint8_t fcr;
        unsigned level;
    } cases[] = { { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 } };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        vuart_init(&uart);
        wr(VUART_FCR, cases[c].fcr);
        wr(VUART_IER, 0x01);
        assert_int_equal(rd(VUART_IIR), 0xc1);
        for (unsigned i = 1; i < cases[c].level; i++) {
            assert_true(vuart_rx_push(&uart, (uint8_t)i));
            assert_int_equal(rd(VUART_IIR), 0xcc); /* below trigger: character timeout */
        }
        assert_true(vuart_rx_push(&uart, 0xee));
        assert_int_equal(rd(VUART_IIR), 0xc4); /* trigger reached */
        assert_true(vuart_rx_push(&uart, 0xef));
        assert_int_equal(rd(VUART_IIR), 0xc4);
        rd(VUART_RBR);
        rd(VUART_RBR);
        assert_int_equal(rd(VUART_IIR), cases[c].level == 1 ? 0xc1 : 0xcc);
    }

    /* FCR bit 0 clear: the trigger bits are not programmed and the FIFOs are off. */
    vuart_init(&uart);
    wr(VUART_FCR, 0xc0);
    wr(VUART_IER, 0x01);
    assert_int_equal(rd(VUART_IIR), 0x01);
    assert_true(vuart_rx_push(&uart, 1));
    assert_int_equal(rd(VUART_IIR), 0x04);
    assert_false(vuart_rx_push(&uart, 2)); /* 16450 mode holds one byte */
    assert_int_equal(rd(VUART_LSR), 0x63);
    assert_int_equal(rd(VUART_RBR), 1);

    /* Mode changes and FCR bit 1 clear the receiver; reprogramming the trigger does not. */
    wr(VUART_FCR, 0x01);
    for (int i = 0; i < 5; i++)
        assert_true(vuart_rx_push(&uart, (uint8_t)i));
    wr(VUART_FCR, 0xc1);
    assert_int_equal(uart.rx_count, 5);
    assert_int_equal(rd(VUART_IIR), 0xcc);
    wr(VUART_FCR, 0xc5); /* clear TX only: RX stays */
    assert_int_equal(uart.rx_count, 5);
    wr(VUART_FCR, 0xc3);
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_true(vuart_rx_push(&uart, 9));
    wr(VUART_FCR, 0x00);
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(rd(VUART_IIR), 0x01);
    assert_true(vuart_rx_push(&uart, 9));
    wr(VUART_FCR, 0x01);
    assert_int_equal(rd(VUART_LSR), 0x60);
}

static void test_rx_overrun(void **state)
{
    wr(VUART_FCR, 0x07);
    wr(VUART_IER, 0x05);
    assert_int_equal(vuart_rx_space(&uart), 16);
    for (int i = 0; i < 16; i++)
        assert_true(vuart_rx_push(&uart, (uint8_t)(0x30 + i)));
    assert_int_equal(vuart_rx_space(&uart), 0);
    assert_false(vuart_rx_push(&uart, 0xff));
    assert_false(vuart_rx_push(&uart, 0xfe));
    assert_int_equal(uart.stats.rx_bytes, 16);
    assert_int_equal(uart.stats.rx_dropped, 2);
    assert_int_equal(rd(VUART_IIR), 0xc6);
    assert_int_equal(rd(VUART_LSR), 0x63);
    assert_int_equal(rd(VUART_LSR), 0x61); /* OE cleared by the read */
    for (int i = 0; i < 16; i++)
        assert_int_equal(rd(VUART_RBR), 0x30 + i); /* the accepted bytes are intact */
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(rd(VUART_RBR), 0x3f);
    assert_int_equal(vuart_rx_space(&uart), 16);
    /* The ring wraps: push/pop across the end of rx_fifo. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++)
            assert_true(vuart_rx_push(&uart, (uint8_t)(round * 10 + i)));
        for (int i = 0; i < 10; i++)
            assert_int_equal(rd(VUART_RBR), round * 10 + i);
    }
}

static void test_tx_flood(void **state)
{
    wr(VUART_FCR, 0x01);
    wr(VUART_IER, 0x02);
    for (unsigned i = 0; i < VUART_TX_BUF + 100; i++) {
        assert_int_equal(rd(VUART_LSR), 0x60); /* never busy: the guest never waits */
        wr(VUART_THR, (uint8_t)i);
    }
    assert_int_equal(uart.stats.tx_bytes, VUART_TX_BUF);
    assert_int_equal(uart.stats.tx_dropped, 100);
    assert_int_equal(rd(VUART_IIR), 0xc2);

    uint8_t out[VUART_TX_BUF + 100];
    assert_int_equal(vuart_tx_take(&uart, out, 0), 0);
    assert_int_equal(vuart_tx_take(&uart, out, 10), 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(out[i], i);
    for (unsigned i = 0; i < 10; i++)
        wr(VUART_THR, (uint8_t)(0xa0 + i)); /* refills across the ring's end */
    assert_int_equal(uart.stats.tx_dropped, 100);
    wr(VUART_THR, 0xff);
    assert_int_equal(uart.stats.tx_dropped, 101);
    assert_int_equal(vuart_tx_take(&uart, out, sizeof(out)), VUART_TX_BUF);
    for (unsigned i = 0; i < VUART_TX_BUF - 10; i++)
        assert_int_equal(out[i], (uint8_t)(i + 10));
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(out[VUART_TX_BUF - 10 + i], 0xa0 + i);
    assert_int_equal(vuart_tx_take(&uart, out, sizeof(out)), 0);
    assert_int_equal(uart.stats.tx_bytes, VUART_TX_BUF + 10);
}

static void test_loopback(void **state)
{
    wr(VUART_FCR, 0x01);
    wr(VUART_MCR, 0x10);
    rd(VUART_MSR);
    /* 8.8: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2. */
    static const uint8_t lines[16] = {
        0x00, 0x20, 0x10, 0x30, 0x40, 0x60, 0x50, 0x70,
        0x80, 0xa0, 0x90, 0xb0, 0xc0, 0xe0, 0xd0, 0xf0,
    };
    for (unsigned m = 0; m < 16; m++) {
        wr(VUART_MCR, (uint8_t)(0x10 | m));
        assert_int_equal(rd(VUART_MSR) & 0xf0, lines[m]);
        assert_int_equal(rd(VUART_MCR), 0x10 | m);
    }
    /* Deltas: RI rising sets nothing, RI falling sets TERI; others on any change. */
    wr(VUART_MCR, 0x10);
    rd(VUART_MSR);
    wr(VUART_MCR, 0x14);
    assert_int_equal(rd(VUART_MSR), 0x40);
    wr(VUART_MCR, 0x10);
    assert_int_equal(rd(VUART_MSR), 0x04);
    wr(VUART_MCR, 0x12);
    assert_int_equal(rd(VUART_MSR), 0x11);
    wr(VUART_MCR, 0x19);
    assert_int_equal(rd(VUART_MSR), 0xa0 | 0x01 | 0x02 | 0x08);

    /* Data: THR -> RBR, nothing to the outside; outside input is disconnected. */
    wr(VUART_THR, 0x55);
    wr(VUART_THR, 0xaa);
    assert_int_equal(uart.tx_count, 0);
    assert_int_equal(uart.stats.tx_bytes, 0);
    assert_int_equal(vuart_rx_space(&uart), 0);
    assert_false(vuart_rx_push(&uart, 0x99));
    assert_int_equal(uart.stats.rx_dropped, 1);
    assert_int_equal(uart.stats.rx_bytes, 0);
    assert_int_equal(rd(VUART_LSR), 0x61); /* a disconnected input is not an overrun */
    assert_int_equal(rd(VUART_RBR), 0x55);
    assert_int_equal(rd(VUART_RBR), 0xaa);

    /* Leaving loopback: the connected lines come back (DSR, DCD were on: only CTS changed). */
    wr(VUART_MCR, 0x03);
    assert_int_equal(rd(VUART_MSR), 0xb0 | 0x01);
    assert_int_equal(vuart_rx_space(&uart), 16);
    wr(VUART_THR, 0x77);
    uint8_t out[4];
    assert_int_equal(vuart_tx_take(&uart, out, sizeof(out)), 1);
    assert_int_equal(out[0], 0x77);
}

static void test_hostile_offsets(void **state)
{
    wr(VUART_FCR, 0x01);
    wr(VUART_IER, 0x0f);
    assert_true(vuart_rx_push(&uart, 1));
    struct vuart before;
    memcpy(&before, &uart, sizeof(before));
    static const unsigned regs[] = { 8, 9, 15, 255, 0x3f8, 0xffffffffu };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        wr(regs[i], 0xff);
        assert_int_equal(rd(regs[i]), 0xff);
    }
    wr(VUART_LSR, 0xff); /* read-only registers ignore writes */
    wr(VUART_MSR, 0xff);
    assert_memory_equal(&before, &uart, sizeof(uart));

    wr(VUART_IER, 0xff);
    assert_int_equal(rd(VUART_IER), 0x0f);
    wr(VUART_MCR, 0xff);
    assert_int_equal(rd(VUART_MCR), 0x1f);
    wr(VUART_MCR, 0xe0);
    assert_int_equal(rd(VUART_MCR), 0x00);
    assert_int_equal(rd(VUART_IIR) & 0x30, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_values, setup),
        cmocka_unit_test_setup(test_linux_autoconfig, setup),
        cmocka_unit_test_setup(test_linux_startup, setup),
        cmocka_unit_test_setup(test_polled_driver, setup),
        cmocka_unit_test_setup(test_dlab, setup),
        cmocka_unit_test_setup(test_iir_priorities, setup),
        cmocka_unit_test_setup(test_thre_rules, setup),
        cmocka_unit_test_setup(test_fifo_trigger_levels, setup),
        cmocka_unit_test_setup(test_rx_overrun, setup),
        cmocka_unit_test_setup(test_tx_flood, setup),
        cmocka_unit_test_setup(test_loopback, setup),
        cmocka_unit_test_setup(test_hostile_offsets, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
