# SPDX-License-Identifier: Apache-2.0
# The console: the hypervisor shell and input to a partition, driven through QEMU's serial
# input with pexpect; and a partition that floods its UART without holding up the others
# (both vendors).
import re
import time

import pexpect
import pytest

import moat_emu
from test_partitions import (GUESTS, VENDORS, assert_beats, assert_healthy, cfg_esp,  # noqa: F401
                             emulator, partition)

ESC = "\x1d"  # Ctrl-]

SHELL = ("[moat]\n\n"
         + partition("echo", "0", "", image="echo.bin", memory="4M")
         + partition("beat", "1", "beats=0 wait=spin work=100000000 seed=51", memory="4M")
         + partition("crashy", "1", "scan-read", image="hostile.bin", memory="4M")
         + partition("later", "0", "beats=2 wait=hlt seed=52", memory="4M", extra="autostart = no\n"))


@pytest.fixture
def console_esp(cfg_esp):
    """An ESP whose Moat never ends the run by itself: the test drives it."""
    return lambda cfg: cfg_esp(cfg, "exit=never", guests=GUESTS + ("echo.bin",))


class Console:
    """QEMU with COM1 on a pseudo-terminal driven by pexpect; everything read goes to log."""

    def __init__(self, esp, log_dir, smp=2):
        moat_emu.wait_for_slot()
        self.log = open(log_dir / "serial.log", "w", errors="replace")
        self.p = pexpect.spawn(str(moat_emu.REPO / "scripts" / "run-qemu.sh"),
                               ["--esp", str(esp), "--smp", str(smp), "--mem", "512", "--cpu", "EPYC",
                                "--serial", "stdio", "--timeout", str(int(moat_emu.scaled(150)))],
                               encoding="utf-8", codec_errors="replace", timeout=moat_emu.scaled(60))
        self.p.logfile_read = self.log

    def expect(self, regex):
        try:
            self.p.expect(regex)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            self.log.flush()
            raise AssertionError(f"no {regex!r} on the console; the last of it:\n"
                                 f"{self.p.before[-2000:] if isinstance(self.p.before, str) else ''}") from e
        return self.p.match

    def expect_all(self, regexes):
        """Each of regexes, in any order."""
        left = list(regexes)
        while left:
            i = self.p.expect(left + [pexpect.TIMEOUT, pexpect.EOF])
            if i >= len(left):
                raise AssertionError(f"none of {left!r} on the console; see serial.log")
            del left[i]

    def type(self, text):
        # A person types: a few bytes at a time, so the UART's receive FIFO never overflows.
        for i in range(0, len(text), 8):
            self.p.send(text[i:i + 8])
            time.sleep(0.05)

    def command(self, line):
        self.type(line + "\r")

    def close(self):
        self.p.terminate(force=True)
        self.log.close()


@pytest.mark.qemu
def test_console_shell_and_input(console_esp, log_dir):
    con = Console(console_esp(SHELL), log_dir)
    try:
        con.expect_all([r"\[echo:0\] echo: ready",
                        r"partition crashy: ended \(stopped: vCPU 0: read at guest-physical"])
        con.command("")
        con.expect(r"moat> ")
        con.command("list")
        for name, state in (("echo", "running"), ("beat", "running"), ("crashy", "crashed"),
                            ("later", "off")):
            con.expect(rf"\n{name}\s+{state}\s+\S+\s+4\s+\d+\s+\d+\s+0\s+\d+")
        con.command("crash crashy")
        con.expect(r"crashy: vCPU 0: read at guest-physical 0x[0-9a-f]+ outside its memory "
                   r"\(rip 0x[0-9a-f]+\) \(\d+ ms after the partitions started")
        con.command("frobnicate")
        con.expect(r"unknown command 'frobnicate' \('help' lists them\)")
        con.command("start later")
        con.expect(r"\[later:0\] hb done")
        con.expect(r"partition later: ended \(all vCPUs exited\), exit status 0")
        # Input to a partition, and back.
        con.command("console echo")
        con.expect(r"\[input: partition echo; Ctrl-\] returns to the shell\]")
        con.type("hello moat\r")
        con.expect(r"\[echo:0\] echo: hello moat")
        con.type(ESC)
        con.expect(r"moat> ")
        con.command("mem")
        con.expect(r"memory: \d+ KiB free")
        con.expect(r"echo\s+4 MiB of memory, \d+ KiB held by Moat for it")
        con.command("stop beat")
        con.expect(r"partition beat: ended \(stopped: stopped on request\)")
        con.command("restart echo")
        con.expect(r"partition echo: ended \(stopped: stopped on request\)")
        con.expect(r"partition echo: 4 MiB at host 0x[0-9a-f]+, 1 vCPUs on CPU 0")
        con.expect(r"\[echo:0\] echo: ready")
        con.command("console echo")
        con.type("quit\r")
        con.expect(r"partition echo: ended \(all vCPUs exited\), exit status 0")
        con.type(ESC)
        con.command("list")
        con.expect(r"\nbeat\s+stopped\s")
        assert "PANIC" not in open(log_dir / "serial.log", errors="replace").read()
    finally:
        con.close()


FLOOD = ("[moat]\ntimeslice = 2ms\n\n"
         + partition("flood", "0", "flood", image="hostile.bin", memory="4M")
         + partition("calm-a", "0", "beats=5 wait=hlt seed=61", memory="4M")
         + partition("calm-b", "1", "beats=5 wait=spin work=200000 seed=62", memory="4M"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_flooding_partition_does_not_hold_up_the_others(boot, cfg_esp, log_dir, vendor):
    run = boot(emulator(vendor, log_dir, cfg_esp(FLOOD), cpus=2))
    assert_healthy(run)
    assert_beats(run, "calm-a", 5)
    assert_beats(run, "calm-b", 5)
    # Its own last line may be dropped too: the partition ending is what counts.
    assert run.search(r"^partition flood: ended \(all vCPUs exited\), exit status 0"), \
        run.report("the flood did not end")
    m = run.search(r"^partition flood: cpu time \d+ us, .* (\d+) console bytes dropped$")
    assert m and int(m.group(1)) > 0, run.report("the flood lost nothing: not bounded?")
    # Only whole lines were printed: every flood line that came out is complete.
    assert all(len(l.group(1)) == 63 for l in run.findall(r"^\[flood:0\] (f+)$"))
    assert run.trigger == "test exit"


# ---- serial passthrough ---------------------------------------------------------------------

PASSTHROUGH = ("[moat]\nconsole = com2\n\n"
               + partition("raw", "0", "beats=3 wait=hlt seed=71", memory="4M",
                           extra="serial = passthrough\nserial_port = com1\n")
               + partition("virt", "1", "beats=3 wait=hlt seed=72", memory="4M"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_serial_passthrough(cfg_esp, boot, log_dir, vendor):
    """COM1 belongs to partition `raw`: its bytes reach the emulator's first serial port
    unaltered, without exits; Moat's console is on COM2 with the other partition's lines."""
    esp = cfg_esp(PASSTHROUGH, cmdline="console=com2 exit=idle")
    if vendor == "qemu":
        run = moat_emu.qemu(log_dir.name, log_dir, esp=esp, smp=2, mem=512, cpu="EPYC",
                            timeout=90, com2=True)
    else:
        run = moat_emu.bochs(log_dir.name, log_dir, esp=esp, smp=2, mem=512, cpu="tigerlake",
                             timeout=300, com2=True)
    run = boot(run)
    assert_healthy(run)
    assert run.trigger == "test exit", run.report("Moat's console is not on COM2")
    com1 = (log_dir / "com1.log").read_text(errors="replace")
    for line in ["hb start sum [0-9a-f]{8}", "hb 1 sum [0-9a-f]{8} ok", "hb 3 sum [0-9a-f]{8} ok",
                 "hb done"]:
        assert re.search(rf"^{line}$", com1, re.M), f"COM1 lacks the guest's own '{line}':\n{com1[-2000:]}"
    assert "[raw:" not in com1 and not run.search(r"^\[raw:"), run.report("raw's output was relayed")
    assert_beats(run, "virt", 3)
    # The guest wrote COM1 itself: none of its port accesses left the guest.
    assert run.search(r"^partition raw: vCPU 0: \d+ exits \(cpuid \d+, io 0, "), \
        run.report("raw's port accesses exited")
    assert run.search(r"^partition raw: ended \(all vCPUs exited\), exit status 0"), run.report("raw")
