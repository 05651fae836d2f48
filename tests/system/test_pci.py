# SPDX-License-Identifier: Apache-2.0
# PCI on both vendors (QEMU EPYC: AMD-V; Bochs tigerlake: Intel VT-x), with the probe guest
# (tests/guests/pciprobe.asm): a partition sees exactly its host bridge through 0xCF8/0xCFC and
# through ECAM, absent functions read all ones and ignore writes, ECAM answers at every width;
# MMIO accesses Moat cannot emulate stop only their partition; and two partitions linked to one
# shared-memory region talk through ivshmem while a third sees nothing of it.
import pytest

from test_partitions import (VENDORS, all_lines, assert_healthy, cfg_esp,  # noqa: F401
                             emulator, partition)

GUESTS = ("pciprobe.bin",)


@pytest.fixture
def pci_esp(cfg_esp):
    """An ESP copy with the probe guest and `cfg` as EFI/MOAT/moat.cfg."""
    return lambda cfg, cmdline="exit=idle": cfg_esp(cfg, cmdline, guests=GUESTS)


def probe(name, cpus, cmdline="", extra=""):
    return partition(name, cpus, cmdline, image="pciprobe.bin", memory="8M", extra=extra)


def functions(run, name, via):
    """The functions a partition's probe listed through one mechanism (each once: a partition
    that restarted lists them again)."""
    found = [m.group(1) for m in run.findall(rf"^\[{name}:0\] pci (00:\S+ \S+ class \S+) via {via}$")]
    return list(dict.fromkeys(found))


def assert_only_host_bridge(run, name):
    for via in ("cf8", "ecam"):
        assert functions(run, name, via) == ["00:00.0 1b36:0008 class 060000"], \
            run.report(f"{name} should see exactly the host bridge via {via}")
    assert not run.search(rf"^\[{name}:0\] pci 00:\S+ bar "), run.report(f"{name}: a BAR?")


def assert_probe_passed(run, name):
    assert run.search(rf"^\[{name}:0\] pci ecam 0xb0000000 buses 1$"), \
        run.report(f"{name}: no ECAM window from CPUID")
    for fn in ("00:00.1", "00:1f.7"):
        assert run.search(rf"^\[{name}:0\] pci {fn} absent: all ones before and after writes$"), \
            run.report(f"{name}: absent function {fn}")
    assert run.search(rf"^\[{name}:0\] pci ecam widths ok$"), run.report(f"{name}: ECAM widths")
    assert not run.search(rf"^\[{name}:0\] \S+ FAIL"), run.report(f"{name}: a check failed")
    assert run.search(rf"^\[{name}:0\] pci done$"), run.report(f"{name}: probe not done")
    assert run.search(rf"^partition {name}: ended \(all vCPUs exited\), exit status 0,"), \
        run.report(f"{name} did not end cleanly")


# ---- the bus through both mechanisms, and what MMIO emulation refuses ----------------------------

PROBE = (probe("probe", "0-1")
         + probe("bad-string", "0", "string")
         + probe("bad-straddle", "1", "straddle"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_probe_sees_host_bridge(boot, pci_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, pci_esp(PROBE), cpus=2))
    assert run.trigger == "test exit", run.report("the run did not end")
    assert_healthy(run)
    assert_only_host_bridge(run, "probe")
    assert_probe_passed(run, "probe")
    # vCPU 1 of the probe exits at once; only vCPU 0 probes.
    assert not run.search(r"^\[probe:1\] pci"), run.report("vCPU 1 probed")
    # Unsupported MMIO stops that partition alone, naming the address, the device and why.
    assert run.search(r"^partition bad-string: stopped: vCPU 0: read at guest-physical 0xb0000000 "
                      r"\(PCI ECAM, rip 0x[0-9a-f]+\): string instructions \(MOVS, STOS, LODS, "
                      r"CMPS, SCAS, INS, OUTS\) is not supported$"), run.report("REP MOVSD from ECAM")
    assert run.search(r"^partition bad-straddle: stopped: vCPU 0: read at guest-physical 0xb00ffffc "
                      r"\(PCI ECAM, rip 0x[0-9a-f]+\): an access that runs past the device's end "
                      r"is not supported$"), run.report("a qword across the end of ECAM")
    for name in ("bad-string", "bad-straddle"):
        assert_only_host_bridge(run, name)
        assert not run.search(rf"^\[{name}:0\] pci (done|FAIL)"), run.report(f"{name} went on")
    assert run.search(r"^moat: all partitions stopped \(some failed\); \d+ KiB free, "
                      r"0 KiB not returned$"), run.report("summary")


# ---- ivshmem --------------------------------------------------------------------------------------

# 12 KiB: not a power of two, so BAR2 is 16 KiB with the region in its first 12 KiB. right
# crashes once on purpose (and is restarted) while left holds the region; snoop reads where
# the others have their region and it has nothing.
SHM = ("[shmem ring]\nsize = 12K\n\n"
       + probe("left", "0", "ivshmem left", extra="shmem = ring")
       + probe("right", "1", "ivshmem right restart",
               extra="shmem = ring\non_crash = restart\nrestart_delay = 10ms")
       + probe("outsider", "0-1")
       + probe("snoop", "1", "peek"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_ivshmem_doorbell_round_trip(boot, pci_esp, log_dir, vendor):
    done = all_lines(r"partition left: ended", r"partition right: ended \(all vCPUs exited\)",
                     r"partition outsider: ended", r"partition snoop: ended",
                     r"shmem ring: no partition links it any more")
    run = boot(emulator(vendor, log_dir, pci_esp(SHM), cpus=2, until=done))
    assert run.trigger in ("done", "test exit"), run.report("the partitions did not all end")
    assert_healthy(run)
    for name, peer in (("left", 0), ("right", 1)):
        for via in ("cf8", "ecam"):
            assert functions(run, name, via) == ["00:00.0 1b36:0008 class 060000",
                                                 "00:01.0 1af4:1110 class 050000"], \
                run.report(f"{name}: host bridge and ivshmem via {via}")
        assert run.search(rf"^\[{name}:0\] pci 00:01.0 bar 0 mem size 0x100$"), run.report("BAR0")
        assert run.search(rf"^\[{name}:0\] pci 00:01.0 bar 2 mem size 0x4000$"), run.report("BAR2")
        assert run.search(rf"^\[{name}:0\] ivshmem 00:01.0 regs 0xb0100000 shm 0xc0000000 "
                          rf"peer {peer}$"), run.report(f"{name}: ivshmem BARs and peer index")
        assert run.search(rf"^\[{name}:0\] shm doorbells 1$"), run.report(f"{name}: doorbell")
        assert run.search(rf"^\[{name}:0\] shm ok$"), run.report(f"{name}: no shm ok")
        assert_probe_passed(run, name)
    # right's first run crashed; the restarted one found the region as it had left it.
    assert len(run.findall(r"^\[right:0\] shm crashing on purpose")) == 1, run.report("crash")
    assert run.search(r"^partition right: restart 1 of 5 in \d+ ms$"), run.report("no restart")
    assert run.search(r"^\[right:0\] shm mark kept across the restart$"), \
        run.report("the region did not survive right's restart")
    assert_only_host_bridge(run, "outsider")
    assert_probe_passed(run, "outsider")
    assert run.search(r"^partition snoop: stopped: vCPU 0: read at guest-physical 0xc0000000 "
                      r"outside its memory \(rip 0x[0-9a-f]+\)$"), run.report("snoop was not stopped")
    # Allocated once for both, kept over right's restart, freed once after the last one.
    assert run.search(r"^shmem ring: 12 KiB at host 0x[0-9a-f]+ for 2 partitions$"), \
        run.report("the region was not allocated")
    assert len(run.findall(r"^shmem ring: 12 KiB at host")) == 1, run.report("allocated twice")
    assert len(run.findall(r"^shmem ring: no partition links it any more: scrubbed and freed$")) == 1, \
        run.report("the region was not freed once")
    if run.trigger == "test exit":
        assert run.search(r"^moat: all partitions stopped \(some failed\); \d+ KiB free, "
                          r"0 KiB not returned$"), run.report("summary")


# ---- every link a partition may have ----------------------------------------------------------------

# Eight regions, the most a partition may link, of growing sizes: eight ivshmem functions after
# the host bridge, each region's BAR aligned to its own size from 0xc0000000 up.
MANY = ("".join(f"[shmem r{i}]\nsize = {4 * (i + 1)}K\n\n" for i in range(8))
        + probe("many", "0", extra="shmem = " + ", ".join(f"r{i}" for i in range(8))))


@pytest.mark.parametrize("vendor", VENDORS)
def test_eight_regions(boot, pci_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, pci_esp(MANY), cpus=1))
    assert run.trigger == "test exit", run.report("the run did not end")
    assert_healthy(run)
    want = ["00:00.0 1b36:0008 class 060000"] + [f"00:0{d}.0 1af4:1110 class 050000"
                                               for d in range(1, 9)]
    for via in ("cf8", "ecam"):
        assert functions(run, "many", via) == want, run.report(f"nine functions via {via}")
    for i in range(8):
        bar = 1 << (4 * (i + 1) * 1024 - 1).bit_length()  # the size rounded up to a power of two
        assert run.search(rf"^\[many:0\] pci 00:0{i + 1}.0 bar 0 mem size 0x100$"), run.report("BAR0")
        assert run.search(rf"^\[many:0\] pci 00:0{i + 1}.0 bar 2 mem size {bar:#x}$"), \
            run.report(f"BAR2 of r{i}")
    assert_probe_passed(run, "many")
    assert len(run.findall(r"^shmem r\d: no partition links it any more: scrubbed and freed$")) == 8, \
        run.report("the regions were not all freed")
    assert run.search(r"^moat: all partitions stopped; \d+ KiB free, 0 KiB not returned$"), \
        run.report("summary")
