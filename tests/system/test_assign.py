# SPDX-License-Identifier: Apache-2.0
# PCI device assignment on both vendors: QEMU (AMD-V) gives a partition the emulated `edu`
# device (memory BAR), Bochs tigerlake (Intel VT-x) the i440FX's UHCI controller (I/O BAR).
# The partition finds the device at 00:10.0 beside its host bridge, through 0xCF8 and ECAM,
# sizes its BARs, and drives its registers; its neighbour sees only its own host bridge.
import pytest

import moat_emu
from test_partitions import assert_healthy, cfg_esp, partition  # noqa: F401
from test_pci import assert_only_host_bridge, assert_probe_passed, functions, pci_esp  # noqa: F401

DEVICES = [
    pytest.param("qemu", "edu", "00:10.0", "1234:11e8 class 00ff00", r"bar 0 mem size 0x100000",
                 marks=pytest.mark.qemu, id="qemu-edu"),
    pytest.param("bochs", "uhci", "00:01.2", "8086:7020 class 0c0300", r"bar 4 io size 0x20",
                 marks=pytest.mark.bochs, id="bochs-uhci"),
]


@pytest.mark.parametrize("vendor,device,host,ident,bar", DEVICES)
def test_assigned_device_works_in_its_partition_only(boot, pci_esp, log_dir, vendor, device,
                                                     host, ident, bar):
    cfg = ("[moat]\n\n"
           + partition("owner", "0", device, image="pciprobe.bin", memory="8M",
                       extra=f"pci = {host}\n")
           + partition("other", "1", "", image="pciprobe.bin", memory="8M"))
    esp = pci_esp(cfg)
    if vendor == "qemu":
        run = moat_emu.qemu(log_dir.name, log_dir, esp=esp, smp=2, mem=512, cpu="EPYC", timeout=90,
                            extra=("-device", "edu,addr=0x10"))
    else:
        run = moat_emu.bochs(log_dir.name, log_dir, esp=esp, smp=2, mem=512, cpu="tigerlake",
                             timeout=300, rc_lines=("usb_uhci: enabled=1",))
    run = boot(run)
    assert_healthy(run)
    for via in ("cf8", "ecam"):
        assert functions(run, "owner", via) == ["00:00.0 1b36:0008 class 060000",
                                                f"00:10.0 {ident}"], \
            run.report(f"owner should see its host bridge and the device via {via}")
    assert run.search(rf"^\[owner:0\] pci 00:10.0 {bar}"), run.report("BAR sizing")
    if device == "edu":
        assert run.search(r"^\[owner:0\] dev edu id 010000ed$"), run.report("edu's ID register")
        assert run.search(r"^\[owner:0\] dev edu liveness ok$"), run.report("edu's liveness check")
    else:
        assert run.search(r"^\[owner:0\] dev uhci sofmod 40$"), run.report("UHCI SOFMOD")
        assert run.search(r"^\[owner:0\] dev uhci frbaseadd ok$"), run.report("UHCI FRBASEADD")
    assert_probe_passed(run, "owner")
    assert_only_host_bridge(run, "other")
    assert_probe_passed(run, "other")
    assert run.trigger == "test exit"
