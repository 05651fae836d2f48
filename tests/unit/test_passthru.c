// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/passthru.c on a fake PCI function whose BARs answer the sizing
// protocol: IDs and class copied, 32-bit, 64-bit prefetchable and I/O BARs sized and placed
// at their host addresses, MSI/MSI-X hidden and other capabilities kept with their lengths,
// the command register restored, bridges, absent functions and looping capability lists refused.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/passthru.h"

struct fake {
    uint8_t cfg[256];
    uint64_t size[VPCI_MAX_BARS]; /* 0: unimplemented register */
    int decode_during_sizing;     /* a BAR was sized while decoding was on */
};

static uint32_t get(const struct fake *f, uint16_t reg, unsigned size)
{
    uint32_t v = 0;
    memcpy(&v, &f->cfg[reg], size);
    return v;
}

static void set(struct fake *f, uint16_t reg, unsigned size, uint32_t v)
{
    memcpy(&f->cfg[reg], &v, size);
}

static uint32_t fake_read(void *ctx, uint16_t reg, unsigned size)
{
    return get(ctx, reg, size);
}

/* BAR registers keep only the address bits their size allows (PCI 3.0 section 6.2.5.1). */
static void fake_write(void *ctx, uint16_t reg, unsigned size, uint32_t val)
{
    struct fake *f = ctx;
    if (reg >= 0x10 && reg < 0x28 && size == 4) {
        unsigned i = (reg - 0x10) / 4;
        uint32_t old = get(f, reg, 4);
        if (val == 0xffffffffu && (get(f, 4, 2) & 3))
            f->decode_during_sizing++;
        uint64_t sz = f->size[i];
        bool upper = i > 0 && f->size[i] == 0 && (get(f, (uint16_t)(reg - 4), 4) & 0x7) == 0x4;
        if (upper) {
            uint64_t full = f->size[i - 1];
            set(f, reg, 4, val & (uint32_t)(~(full - 1) >> 32));
        } else if (sz) {
            uint32_t low = old & ((old & 1) ? 0x3 : 0xf);
            set(f, reg, 4, (val & (uint32_t)~(sz - 1)) | low);
        }
        return;
    }
    set(f, reg, size, val);
}

static struct fake dev;
static const struct passthru_cfg cfg = { fake_read, fake_write, &dev };

static int setup(void **state)
{
    memset(&dev, 0, sizeof(dev));
    set(&dev, 0x00, 4, 0x11e81234);  /* QEMU's edu: 1234:11e8 */
    set(&dev, 0x04, 2, 0x0007);      /* IO | MEMORY | MASTER, as firmware left it */
    set(&dev, 0x06, 2, 0x0010);      /* capability list */
    set(&dev, 0x08, 4, 0x00ff0010);  /* class 00ff00, revision 0x10 */
    set(&dev, 0x10, 4, 0xfea00000);  /* BAR0: 1 MiB memory */
    dev.size[0] = 1 << 20;
    set(&dev, 0x14, 4, 0x0000000c);  /* BAR1+2: 64-bit prefetchable 64 KiB at 8 GiB */
    set(&dev, 0x18, 4, 0x00000002);
    dev.size[1] = 64 << 10;
    set(&dev, 0x20, 4, 0x0000c001);  /* BAR4: 32 I/O ports at 0xc000 */
    dev.size[4] = 32;
    set(&dev, 0x2c, 4, 0x11001af4);
    set(&dev, 0x34, 1, 0x40);
    set(&dev, 0x3c, 4, 0x0000010b);  /* INTA, line 11 */
    set(&dev, 0x40, 2, 0x5005);      /* MSI, next 0x50 */
    set(&dev, 0x50, 2, 0x7010);      /* PCI Express, next 0x70 */
    set(&dev, 0x70, 2, 0x0001);      /* power management, last */
    return 0;
}

static void test_describes_ids_bars_and_caps(void **state)
{
    struct vpci_device_desc d;
    uint64_t host[VPCI_MAX_BARS];
    assert_null(passthru_describe(&cfg, &d, host));
    assert_int_equal(d.vendor, 0x1234);
    assert_int_equal(d.device, 0x11e8);
    assert_int_equal(d.class_code, 0x00ff00);
    assert_int_equal(d.revision, 0x10);
    assert_int_equal(d.subsys_vendor, 0x1af4);
    assert_int_equal(d.int_pin, 1);
    assert_int_equal(d.int_line, 11);
    assert_int_equal(d.bars[0].kind, VPCI_BAR_MEM32);
    assert_int_equal(d.bars[0].size, 1 << 20);
    assert_int_equal(host[0], 0xfea00000);
    assert_int_equal(d.bars[0].addr, 0xfea00000);
    assert_int_equal(d.bars[1].kind, VPCI_BAR_MEM64);
    assert_true(d.bars[1].prefetchable);
    assert_int_equal(d.bars[1].size, 64 << 10);
    assert_int_equal(host[1], 0x200000000ull);
    assert_int_equal(d.bars[2].kind, VPCI_BAR_UNUSED);
    assert_int_equal(d.bars[3].kind, VPCI_BAR_UNUSED);
    assert_int_equal(d.bars[4].kind, VPCI_BAR_IO);
    assert_int_equal(d.bars[4].size, 32);
    assert_int_equal(host[4], 0xc000);
    assert_int_equal(d.ncaps, 3);
    assert_int_equal(d.caps[0].id, VPCI_CAP_ID_MSI);
    assert_true(d.caps[0].hidden);
    assert_int_equal(d.caps[0].len, 0x10);
    assert_int_equal(d.caps[1].id, VPCI_CAP_ID_PCIE);
    assert_false(d.caps[1].hidden);
    assert_int_equal(d.caps[1].len, 0x20);
    assert_int_equal(d.caps[2].len, 0x90);
    /* Bus mastering is never mirrored to the device: no IOMMU confines its DMA. */
    assert_int_equal(d.cmd_phys_mask & VPCI_CMD_MASTER, 0);
    /* Sizing ran with decoding off and left everything as it was. */
    assert_int_equal(dev.decode_during_sizing, 0);
    assert_int_equal(get(&dev, 0x04, 2), 0x0007);
    assert_int_equal(get(&dev, 0x10, 4), 0xfea00000);
    assert_int_equal(get(&dev, 0x18, 4), 0x00000002);
    assert_int_equal(get(&dev, 0x20, 4), 0x0000c001);
    /* And the model takes the descriptor. */
    struct vpci_bus bus;
    vpci_init(&bus);
    assert_int_equal(vpci_add_device(&bus, VPCI_DEVFN(1, 0), &d), VPCI_OK);
}

static void test_refuses_what_cannot_be_assigned(void **state)
{
    struct vpci_device_desc d;
    uint64_t host[VPCI_MAX_BARS];
    set(&dev, 0x0e, 1, 0x01); /* a PCI-to-PCI bridge */
    assert_non_null(strstr(passthru_describe(&cfg, &d, host), "bridge"));
    set(&dev, 0x0e, 1, 0x00);
    set(&dev, 0x70, 2, 0x4001); /* power management points back at MSI */
    assert_non_null(strstr(passthru_describe(&cfg, &d, host), "loops"));
    set(&dev, 0x00, 4, 0xffffffff);
    assert_non_null(strstr(passthru_describe(&cfg, &d, host), "no function"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_describes_ids_bars_and_caps, setup),
        cmocka_unit_test_setup(test_refuses_what_cannot_be_assigned, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
