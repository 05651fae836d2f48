# SPDX-License-Identifier: Apache-2.0
# Partitions from moat.cfg on both vendors (QEMU EPYC: AMD-V; Bochs tigerlake: Intel VT-x):
# several partitions sharing CPUs all make progress with their memory and SSE registers intact;
# a hostile partition is contained while its neighbours keep going; a crashing partition is
# restarted with a back-off and gives back all its memory; a broken configuration starts nothing;
# and 16 partitions run on 4 CPUs.
import dataclasses
import re
import subprocess

import pytest

import moat_emu

GUESTS = ("heartbeat.bin", "hostile.bin", "selftest.bin")
BOCHS_BAD = r"VMFAIL|VMENTER FAIL|Guest State Checks|VMABORT"
VENDORS = [
    pytest.param("qemu", marks=pytest.mark.qemu),
    pytest.param("bochs", marks=pytest.mark.bochs),
]


@pytest.fixture
def cfg_esp(esp_copy, tmp_path):
    """An ESP copy with `guests` (default: GUESTS) and `cfg` as EFI/MOAT/moat.cfg."""
    def make(cfg, cmdline="exit=idle", guests=GUESTS):
        esp = esp_copy(cmdline)
        path = tmp_path / "moat.cfg"
        path.write_text(cfg)
        moat_emu.mtools("mcopy", "-o", "-i", str(esp), str(path), "::/EFI/MOAT/moat.cfg")
        for g in guests:
            moat_emu.mtools("mcopy", "-o", "-i", str(esp), str(moat_emu.BUILD / "guests" / g),
                            f"::/EFI/MOAT/{g}")
        return esp
    return make


def emulator(vendor, log_dir, esp, cpus, timeout_qemu=90, timeout_bochs=300, until=None):
    """A QEMU EPYC or Bochs tigerlake run; `until` (a regex) ends it early, as 'done'."""
    if vendor == "qemu":
        run = moat_emu.qemu(log_dir.name, log_dir, esp=esp, smp=cpus, mem=512, cpu="EPYC",
                            timeout=timeout_qemu)
    else:
        run = moat_emu.bochs(log_dir.name, log_dir, esp=esp, smp=cpus, mem=512, cpu="tigerlake",
                             timeout=timeout_bochs)
    if until:
        run = dataclasses.replace(run, _triggers=(moat_emu.Trigger("done", until, 1.0),)
                                  + moat_emu.TRIGGERS)
    return run


def all_lines(*names):
    """A regex that matches once every one of the given lines has appeared."""
    return r"\A" + "".join(rf"(?=[\s\S]*^{n})" for n in names)


def assert_healthy(run):
    assert not run.search(r"PANIC on CPU"), run.report("the hypervisor panicked")
    assert not run.search(r"CORRUPT"), run.report("a partition's memory or registers changed")
    if run.bochs_log:
        text = run.bochs_log.read_text(errors="replace") if run.bochs_log.exists() else ""
        bad = [l for l in text.splitlines() if re.search(BOCHS_BAD, l)]
        assert not bad, run.report("Bochs reports failed VM entries:\n" + "\n".join(bad[:10]))


def assert_beats(run, name, beats, vcpus=1):
    for v in range(vcpus):
        for n in range(1, beats + 1):
            assert run.search(rf"^\[{name}:{v}\] hb {n} sum [0-9a-f]{{8}} ok$"), \
                run.report(f"{name} vCPU {v} missed heartbeat {n}")
        assert run.search(rf"^\[{name}:{v}\] hb done$"), run.report(f"{name} vCPU {v} not done")
    assert run.search(rf"^partition {name}: ended \(all vCPUs exited\), exit status 0,"), \
        run.report(f"{name} did not end cleanly")


def line_no(run, regex):
    m = run.search(regex)
    assert m, run.report(f"no line {regex}")
    return run.text.count("\n", 0, m.start())


def partition(name, cpus, cmdline, image="heartbeat.bin", memory="8M", extra=""):
    return (f"[partition {name}]\ncpus = {cpus}\nmemory = {memory}\nimage = {image}\n"
            f"cmdline = \"{cmdline}\"\n{extra}\n")


# ---- (a) sharing CPUs ---------------------------------------------------------------------------

# Spinning partitions never give the CPU away: only the timer makes room for the others.
THREE_ON_ONE = ("[moat]\ntimeslice = 2ms\n\n"
                + partition("spin-a", "0", "beats=4 wait=spin work=300000 seed=1")
                + partition("spin-b", "0", "beats=4 wait=spin work=300000 seed=2")
                + partition("sleepy", "0", "beats=4 wait=hlt seed=3"))

FOUR_ON_TWO = ("[moat]\ntimeslice = 2ms\n\n"
               + partition("spin-0", "0", "beats=4 wait=spin work=300000 seed=4")
               + partition("spin-1", "1", "beats=4 wait=spin work=300000 seed=5")
               + partition("both-hlt", "0-1", "beats=4 wait=hlt seed=6")
               + partition("both-yield", "0-1", "beats=4 wait=yield work=50 seed=7"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_three_partitions_share_one_cpu(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(THREE_ON_ONE), cpus=1))
    assert_healthy(run)
    for name in ("spin-a", "spin-b", "sleepy"):
        assert_beats(run, name, 4)
    # Time-sliced, not one after another: every partition beat before either spinner finished.
    first = max(line_no(run, rf"^\[{n}:0\] hb 1 sum") for n in ("spin-a", "spin-b", "sleepy"))
    last = min(line_no(run, rf"^\[{n}:0\] hb done") for n in ("spin-a", "spin-b"))
    assert first < last, run.report("the partitions did not share the CPU")
    assert run.search(r"^partition spin-a: cpu time \d+ us, [1-9]\d* switches, "), \
        run.report("no per-partition counters")
    assert run.search(r"^moat: all partitions stopped; \d+ KiB free, 0 KiB not returned$"), \
        run.report("summary")
    assert run.trigger == "test exit"


@pytest.mark.parametrize("vendor", VENDORS)
def test_four_partitions_share_two_cpus(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(FOUR_ON_TWO), cpus=2))
    assert_healthy(run)
    assert_beats(run, "spin-0", 4)
    assert_beats(run, "spin-1", 4)
    assert_beats(run, "both-hlt", 4, vcpus=2)
    assert_beats(run, "both-yield", 4, vcpus=2)
    assert run.search(r"^moat: all partitions stopped; \d+ KiB free, 0 KiB not returned$"), \
        run.report("summary")
    assert run.trigger == "test exit"


# ---- the other scheduling policies ------------------------------------------------------------

# Fixed priority: `capped` is the most important but may use only 2 ms in every 10 ms; `high`
# takes the rest; `low` runs only when neither can.
PRIORITY = ("[moat]\nscheduler = priority\n\n"
            + partition("capped", "0", "beats=3 wait=spin work=3000000 seed=31",
                        extra="priority = 20\nbudget = 2ms\nperiod = 10ms\n")
            + partition("high", "0", "beats=3 wait=spin work=3000000 seed=32", extra="priority = 10\n")
            + partition("low", "0", "beats=3 wait=spin work=3000000 seed=33", extra="priority = 1\n"))

# Cyclic: a 20 ms major frame, `major` owns 15 ms of it and `minor` 5 ms.
CYCLIC = ("[moat]\nscheduler = cyclic\nmajor_frame = 20ms\n\n"
          + partition("major", "0", "beats=6 wait=spin work=3000000 seed=41", extra="window = 0ms+15ms\n")
          + partition("minor", "0", "beats=3 wait=spin work=3000000 seed=42", extra="window = 15ms+5ms\n"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_fixed_priority_with_budget(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(PRIORITY), cpus=1))
    assert_healthy(run)
    for name in ("capped", "high", "low"):
        assert_beats(run, name, 3)
    assert run.search(r"^sched: fixed priority"), run.report("scheduler")
    # The budget lets `high` run while `capped` still has work; `low` waits for both.
    assert line_no(run, r"^\[high:0\] hb 1 sum") < line_no(run, r"^\[capped:0\] hb done"), \
        run.report("capped's budget did not make room for high")
    assert line_no(run, r"^\[low:0\] hb 1 sum") > line_no(run, r"^\[high:0\] hb done"), \
        run.report("low ran while a higher priority could")
    assert run.trigger == "test exit"


@pytest.mark.parametrize("vendor", VENDORS)
def test_cyclic_windows(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(CYCLIC), cpus=1))
    assert_healthy(run)
    assert_beats(run, "major", 6)
    assert_beats(run, "minor", 3)
    assert run.search(r"^sched: cyclic, major frame 20000 us$"), run.report("scheduler")
    # Both run in every frame, `major` three times as long: with twice the work it still
    # finishes first.
    assert line_no(run, r"^\[minor:0\] hb 1 sum") < line_no(run, r"^\[major:0\] hb done"), \
        run.report("the windows did not interleave")
    assert line_no(run, r"^\[major:0\] hb done") < line_no(run, r"^\[minor:0\] hb done"), \
        run.report("major did not get the larger share")
    assert run.trigger == "test exit"


# ---- (b) containment ----------------------------------------------------------------------------

HOSTILE = ("[moat]\ntimeslice = 2ms\n\n"
           + partition("good-a", "0", "beats=6 wait=spin work=200000 seed=11")
           + partition("good-b", "1", "beats=6 wait=hlt seed=12")
           + partition("bad-read", "0", "msr ports scan-read", image="hostile.bin")
           + partition("bad-write", "1", "scan-write", image="hostile.bin")
           + partition("bad-spin", "0-1", "msr ports spin", image="hostile.bin"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_hostile_partition_is_contained(boot, cfg_esp, log_dir, vendor):
    done = all_lines(r"partition good-a: ended", r"partition good-b: ended",
                     r"partition bad-read: ended", r"partition bad-write: ended")
    run = boot(emulator(vendor, log_dir, cfg_esp(HOSTILE), cpus=2, until=done))
    assert run.trigger == "done", run.report("the neighbours did not all end")
    assert_healthy(run)
    # The neighbours kept their heartbeats, memory checksums and SSE registers.
    assert_beats(run, "good-a", 6)
    assert_beats(run, "good-b", 6)
    # Reads and writes past its memory stop the partition that made them, naming the address.
    assert run.search(r"^partition bad-read: stopped: vCPU 0: read at guest-physical 0x[0-9a-f]+ "
                      r"outside its memory"), run.report("the read scan was not stopped")
    assert run.search(r"^partition bad-write: stopped: vCPU 0: write at guest-physical 0x[0-9a-f]+ "
                      r"outside its memory"), run.report("the write scan was not stopped")
    assert not run.search(r"scan reached 4 GiB"), run.report("a scan was never stopped")
    # MSRs it does not own raise #GP in the guest; ports it does not own do nothing.
    for name in ("bad-read", "bad-spin"):
        m = run.search(rf"^\[{name}:0\] hostile: msr gp (\d+) of (\d+)$")
        assert m and m.group(1) == m.group(2), run.report(f"{name}: an MSR write was not refused")
        assert run.search(rf"^\[{name}:0\] hostile: ports done$"), run.report(f"{name}: ports")
    # The spinner (interrupts off) is still running: it was preempted, not trusted to yield.
    assert run.search(r"^\[bad-spin:0\] hostile: spinning with interrupts off$")
    assert not run.search(r"^partition bad-spin: ended"), run.report("the spinner ended?")


# ---- (c) restart with back-off --------------------------------------------------------------

RESTART = ("[moat]\n\n"
           + partition("crasher", "0", "scan-read", image="hostile.bin",
                       extra="on_crash = restart\nmax_restarts = 3\nrestart_delay = 10ms\n"
                             "restart_delay_max = 30ms\n")
           + partition("steady", "0", "beats=8 wait=hlt seed=21"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_crashing_partition_restarts_and_returns_its_memory(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(RESTART), cpus=1))
    assert_healthy(run)
    starts = run.findall(r"^partition crasher: 8 MiB at host 0x[0-9a-f]+, 1 vCPUs")
    assert len(starts) == 4, run.report("crasher should start once and be restarted 3 times")
    for n, delay in ((1, 10), (2, 20), (3, 30)):
        assert run.search(rf"^partition crasher: restart {n} of 3 in {delay} ms$"), \
            run.report(f"restart {n}: back-off")
    assert run.search(r"^partition crasher: not restarted: it crashed 4 times \(max_restarts = 3\)$")
    returned = {m.group(1) for m in run.findall(r"^memory: partition crasher returned (\d+) KiB;")}
    assert len(run.findall(r"^memory: partition crasher returned")) == 4 and len(returned) == 1, \
        run.report("every incarnation must return the same memory")
    assert_beats(run, "steady", 8)
    assert run.search(r"^moat: all partitions stopped \(some failed\); \d+ KiB free, "
                      r"0 KiB not returned$"), run.report("free memory did not end where it began")
    assert run.trigger == "test exit"


# ---- (d) a broken configuration -----------------------------------------------------------------

BROKEN = """\
[moat]
console = com1

[partition web]
cpus = 0
memory = 64M
image = heartbeat.bin
serial = passthrough
serial_port = com2

[partition web]
cpus = 0
memory = 16M
image = heartbeat.bin

[partition db]
cpus = 7
memroy = 16M
image = missing.bin

[partition big]
cpus = 0
memory = 12Q
image = heartbeat.bin

[partition huge]
cpus = 0
memory = 64G
image = heartbeat.bin

[partition fixed1]
cpus = 0
memory = 16M
image = heartbeat.bin
base = 0x10000000

[partition fixed2]
cpus = 0
memory = 16M
image = heartbeat.bin
base = 0x10800000
serial = passthrough
serial_port = com2
"""


@pytest.mark.parametrize("vendor", VENDORS)
def test_broken_config_starts_nothing(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(BROKEN), cpus=1))
    expected = [  # one of each class of error, all reported, with file:line:column
        r"moat\.cfg:11:1: error: duplicate partition 'web' \(first defined on line 4\)",
        r"moat\.cfg:16:1: error: partition 'db': missing required key 'memory'",
        r"moat\.cfg:17:8: error: cpus: CPU 7 does not exist; this machine has 1 ",
        r"moat\.cfg:18:1: error: unknown key 'memroy' \(hint: did you mean 'memory'\?\)",
        r"moat\.cfg:19:9: error: image: no module named 'missing\.bin'",
        r"moat\.cfg:23:10: error: memory: '12Q' is not a size",
        r"moat\.cfg:28:10: error: memory: partitions and shared memory need 65632 MiB in total; "
        r"this machine has \d+ [KMG]iB usable",
        r"moat\.cfg:28:10: error: memory: 64 GiB is more than a partition can have: its RAM must "
        r"end below the PCI ECAM window at 0xb0000000 \(hint: use at most 2816M\)",
        r"moat\.cfg:41:8: error: base: 0x10800000-0x117fffff overlaps partition 'fixed1'",
        r"moat\.cfg:43:15: error: serial_port: the UART at 0x2f8 is already passed through to "
        r"partition 'web' \(line 9\)",
    ]
    for e in expected:
        assert run.search("^" + e), run.report(f"missing diagnostic {e}")
    assert run.search(r"^config: 10 errors, 0 warnings: no partition started"), \
        run.report("no summary")
    assert not run.search(r"^partition \S+: \d+ MiB at host"), run.report("a partition started")
    assert not run.search(r"^\[\S+:\d+\] "), run.report("a guest ran")
    assert run.search(r"^moat: no partition started$"), run.report("summary")
    assert not run.search(r"PANIC on CPU"), run.report("the hypervisor panicked")
    assert run.trigger == "test exit"


# ---- scale ---------------------------------------------------------------------------------------

SIXTEEN = "[moat]\ntimeslice = 5ms\n\n" + "".join(
    partition(f"p{i:02d}", str(i % 4), f"beats=3 wait={'spin' if i % 2 else 'hlt'} work=100000 seed={i}",
              memory="4M")
    for i in range(16))


@pytest.mark.qemu
def test_sixteen_partitions_on_four_cpus(boot, cfg_esp, log_dir):
    run = boot(emulator("qemu", log_dir, cfg_esp(SIXTEEN), cpus=4, timeout_qemu=120))
    assert_healthy(run)
    for i in range(16):
        assert_beats(run, f"p{i:02d}", 3)
    assert run.search(r"^moat: all partitions stopped; \d+ KiB free, 0 KiB not returned$"), \
        run.report("summary")
    assert run.trigger == "test exit"


# ---- the configuration as a Multiboot2 module ------------------------------------------------

@pytest.mark.bochs
def test_grub_module_config(boot, kernel_elf, mkiso, log_dir, tmp_path):
    """GRUB passes moat.cfg as a module2 named moat.cfg (Bochs ryzen, AMD-V, BIOS + GRUB)."""
    cfg = tmp_path / "moat.cfg"
    cfg.write_text(THREE_ON_ONE)
    cmdline = tmp_path / "cmdline.txt"
    cmdline.write_text("exit=idle\n")
    iso = tmp_path / "moat.iso"
    res = subprocess.run([str(mkiso), str(iso), str(kernel_elf),
                          str(moat_emu.BUILD / "guests" / "heartbeat.bin"), str(cfg), str(cmdline)],
                         capture_output=True, text=True)
    assert res.returncode == 0, f"mkiso.sh failed ({res.returncode}):\n{res.stderr}"
    run = boot(moat_emu.bochs(log_dir.name, log_dir, iso=iso, smp=1, mem=512, cpu="ryzen",
                              timeout=300))
    assert run.search(r"booted by Multiboot2"), run.report("not booted through GRUB")
    assert run.search(r"^config: moat\.cfg, \d+ bytes$"), run.report("moat.cfg not read")
    assert_healthy(run)
    for name in ("spin-a", "spin-b", "sleepy"):
        assert_beats(run, name, 4)
    assert run.trigger == "test exit"
