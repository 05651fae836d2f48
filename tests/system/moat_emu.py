# SPDX-License-Identifier: Apache-2.0
# Runs one emulator boot for the system tests: waits for a free emulator slot, starts
# scripts/run-qemu.sh or scripts/run-bochs.sh with a hard timeout, watches the serial log
# and stops the run as soon as its outcome is known. Knows nothing about what a test asserts.
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("MOAT_BUILD_DIR", REPO / "build")).resolve()
RUN_QEMU = REPO / "scripts" / "run-qemu.sh"
RUN_BOCHS = REPO / "scripts" / "run-bochs.sh"

# The machine has two cores: at most this many emulators at once, counting everyone's.
MAX_EMULATORS = 2
# How long to wait for a free slot before giving up (seconds).
SLOT_WAIT = float(os.environ.get("MOAT_SYSTEST_SLOT_WAIT", "1800"))
# Multiplies every run's timeout (a slower machine, or a loaded one).
TIMEOUT_SCALE = float(os.environ.get("MOAT_SYSTEST_TIMEOUT_SCALE", "1"))
POLL = 0.1

# Lines that settle a run's outcome. After one appears the emulator gets `grace` seconds to
# end by itself (the kernel ends it after 'test exit' and after a PANIC when exit= is set),
# then it is stopped. The first match wins.
@dataclass(frozen=True)
class Trigger:
    name: str
    regex: str
    grace: float


TRIGGERS: Tuple[Trigger, ...] = (
    Trigger("test exit", r"^moat: test exit\b", 20.0),
    Trigger("kernel panic", r"PANIC on CPU \d+\b", 10.0),
    Trigger("kernel refused to boot", r"^moat: cannot boot:", 10.0),
    Trigger("loader error", r"moat-loader: error: ", 1.0),
    Trigger("firmware exception", r"!!!! X64 Exception Type", 1.0),
)

_ANSI = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]")


def clean(raw: bytes) -> str:
    """Serial bytes as text lines: no CRs, NULs or terminal escapes (OVMF draws its console
    with cursor movements)."""
    text = raw.decode("utf-8", errors="replace")
    return _ANSI.sub("", text).replace("\r", "").replace("\0", "")


def emulators_running() -> int:
    """The machine's rule for sharing its two cores: `pgrep -c -f 'qemu-system|bochs-bin'`.
    It also counts a `timeout` wrapper whose command line names the emulator, so it errs on
    the side of waiting."""
    res = subprocess.run(["pgrep", "-c", "-f", "qemu-system|bochs-bin"],
                         capture_output=True, text=True)
    return int(res.stdout.strip() or "0")


def wait_for_slot() -> float:
    """Blocks until fewer than MAX_EMULATORS emulators run; returns the seconds waited."""
    start = time.monotonic()
    while emulators_running() >= MAX_EMULATORS:
        if time.monotonic() - start > SLOT_WAIT:
            raise TimeoutError(f"{MAX_EMULATORS} emulators kept running for {SLOT_WAIT:.0f} s; "
                               "no slot for this test")
        time.sleep(1.0)
    return time.monotonic() - start


@dataclass(repr=False)
class Run:
    """One emulator run. After run(): returncode (None if it had to be stopped), end
    ('exited' | 'stopped' | 'timeout'), trigger (name of the line that settled it),
    wall (seconds from start to end), text (the cleaned serial log)."""
    name: str
    cmd: List[str]
    log_dir: Path
    serial: Path
    timeout: float
    bochs_log: Optional[Path] = None
    returncode: Optional[int] = None
    end: str = "not run"
    trigger: Optional[str] = None
    wall: float = 0.0
    slot_wait: float = 0.0
    text: str = ""
    _triggers: Tuple[Trigger, ...] = field(default=TRIGGERS, repr=False)

    def __repr__(self) -> str:
        return f"<Run {self.name}: {self.end}, trigger {self.trigger}, status {self.returncode}>"

    def run(self) -> "Run":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for p in (self.serial, self.bochs_log):
            if p is not None and p.exists():
                p.unlink()
        (self.log_dir / "command.txt").write_text(shlex.join(self.cmd) + "\n")
        self.slot_wait = wait_for_slot()
        out = open(self.log_dir / "runner.out", "wb")
        start = time.monotonic()
        # A session of its own: stopping the run signals the whole group (script, timeout,
        # emulator) and nothing else.
        proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        deadline = start + self.timeout
        settle_by = None
        try:
            while True:
                if proc.poll() is not None:
                    self.end = "exited"
                    break
                now = time.monotonic()
                if settle_by is None:
                    hit = self._match()
                    if hit is not None:
                        self.trigger = hit.name
                        settle_by = min(now + hit.grace, deadline)
                if settle_by is not None and now >= settle_by:
                    self.end = "stopped"
                    break
                if now >= deadline:
                    self.end = "timeout"
                    break
                time.sleep(POLL)
        finally:
            if proc.poll() is None:
                _stop(proc)
            else:
                # The script may leave nothing behind, but make sure of it.
                _killpg(proc.pid, signal.SIGKILL)
            out.close()
        self.wall = time.monotonic() - start
        self.returncode = proc.returncode if self.end == "exited" else None
        self._read()
        if self.trigger is None:
            hit = self._match()  # the outcome line may have arrived with the exit
            self.trigger = hit.name if hit else None
        (self.log_dir / "result.txt").write_text(
            f"end: {self.end}\ntrigger: {self.trigger}\nreturncode: {self.returncode}\n"
            f"wall: {self.wall:.1f} s\nslot wait: {self.slot_wait:.1f} s\n"
            f"timeout: {self.timeout:.0f} s\n")
        return self

    def _read(self) -> str:
        try:
            self.text = clean(self.serial.read_bytes())
        except FileNotFoundError:
            self.text = ""
        return self.text

    def _match(self) -> Optional[Trigger]:
        text = self._read()
        for t in self._triggers:
            if re.search(t.regex, text, re.MULTILINE):
                return t
        return None

    # ---- for assertions -------------------------------------------------------------------
    def search(self, regex: str) -> Optional[re.Match]:
        return re.search(regex, self.text, re.MULTILINE)

    def findall(self, regex: str) -> List[re.Match]:
        return list(re.finditer(regex, self.text, re.MULTILINE))

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text.rstrip("\n").split("\n")[-lines:])

    def bochs_errors(self, lines: int = 15) -> str:
        """The last error/panic lines of the Bochs log ('' for QEMU)."""
        if self.bochs_log is None or not self.bochs_log.exists():
            return ""
        bad = [l for l in self.bochs_log.read_text(errors="replace").splitlines()
               if re.match(r"^\d+[ep]\[", l)]
        return "\n".join(bad[-lines:])

    def report(self, what: str) -> str:
        """An assertion message: what went wrong, how the run ended, and the log tails."""
        msg = [f"{what}",
               f"[{self.name}: end={self.end} trigger={self.trigger} "
               f"status={self.returncode} after {self.wall:.1f} s of {self.timeout:.0f} s]",
               f"--- serial log tail ({self.serial}) ---", self.tail()]
        errs = self.bochs_errors()
        if errs:
            msg += [f"--- Bochs log errors ({self.bochs_log}) ---", errs]
        runner = self.log_dir / "runner.out"
        if runner.exists():
            lines = runner.read_text(errors="replace").splitlines()
            lines = [l for l in lines if "TCG doesn't support requested feature" not in l]
            msg += [f"--- runner output tail ({runner}) ---", "\n".join(lines[-8:])]
        return "\n".join(msg)


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the run's process group, SIGKILL if it is still there after 5 s."""
    _killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    _killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def mtools(*args: str) -> None:
    """Runs an mtools command (mcopy, mdel, ...) on an image file; raises on failure."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    res = subprocess.run(args, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} failed ({res.returncode}): {res.stderr.strip()}")


def scaled(seconds: float) -> float:
    return seconds * TIMEOUT_SCALE


def qemu(name: str, log_dir: Path, *, esp: Optional[Path] = None, iso: Optional[Path] = None,
         smp: int = 1, mem: int = 512, cpu: str = "EPYC", timeout: float = 60,
         extra: Tuple[str, ...] = (), com2: bool = False) -> Run:
    """A QEMU run of an ESP (OVMF) or ISO (SeaBIOS); the serial log is log_dir/serial.log.
    com2: a second UART whose output is log_dir/serial.log (where Moat's console is then
    expected), COM1's going to log_dir/com1.log."""
    assert (esp is None) != (iso is None), "give exactly one of esp / iso"
    serial = log_dir / "serial.log"
    t = scaled(timeout)
    # run-qemu.sh's own hard timeout backs up ours, a little later, in case we die.
    cmd = [str(RUN_QEMU), "--esp" if esp else "--iso", str(esp or iso),
           "--smp", str(smp), "--mem", str(mem), "--cpu", cpu,
           "--serial", f"file:{log_dir / 'com1.log' if com2 else serial}",
           "--timeout", str(int(t) + 10)]
    if com2:
        extra = ("-serial", f"file:{serial}", *extra)
    if extra:
        cmd += ["--", *extra]
    return Run(name, cmd, log_dir, serial, t)


def bochs(name: str, log_dir: Path, *, esp: Optional[Path] = None, iso: Optional[Path] = None,
          smp: int = 1, mem: int = 512, cpu: str = "tigerlake", timeout: float = 240,
          com2: bool = False, rc_lines: Tuple[str, ...] = ()) -> Run:
    """A Bochs run of an ESP (OVMF.fd) or ISO (Bochs BIOS + GRUB); serial in
    log_dir/serial.log, Bochs' own log in log_dir/bochs.log. com2: as for qemu(); rc_lines:
    extra bochsrc lines (devices)."""
    assert (esp is None) != (iso is None), "give exactly one of esp / iso"
    serial = log_dir / "serial.log"
    blog = log_dir / "bochs.log"
    t = scaled(timeout)
    cmd = [str(RUN_BOCHS), "--esp" if esp else "--iso", str(esp or iso),
           "--smp", str(smp), "--mem", str(mem), "--cpu", cpu,
           "--serial", str(log_dir / "com1.log" if com2 else serial), "--log", str(blog),
           "--timeout", str(int(t) + 10), "--keep-rc", str(log_dir / "bochsrc")]
    if com2:
        cmd += ["--serial2", str(serial)]
    for line in rc_lines:
        cmd += ["--rc-line", line]
    return Run(name, cmd, log_dir, serial, t, bochs_log=blog)
