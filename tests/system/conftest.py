# SPDX-License-Identifier: Apache-2.0
# Fixtures of the emulator system tests: the built images (checked, never built here), a
# per-test log folder under build/test-logs/, a scratch copy of the ESP with a command
# line, and a closing table of wall times. Emulator handling lives in moat_emu.py.
import os
import re
import shutil
from pathlib import Path

import pytest

import moat_emu

BUILD = Path(os.environ.get("MOAT_BUILD_DIR", moat_emu.REPO / "build")).resolve()
LOG_ROOT = BUILD / "test-logs"

# Per test: outcome, seconds of setup+call+teardown, and its emulator runs.
_results = {}


def _need(name: str, newer_than=()) -> Path:
    """A build output, or a test failure that says how to get it."""
    path = BUILD / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run make all first", pytrace=False)
    for dep in newer_than:
        d = BUILD / dep
        if d.is_file() and d.stat().st_mtime > path.stat().st_mtime:
            pytest.fail(f"{path} is older than {d}: run make all first", pytrace=False)
    return path


@pytest.fixture(scope="session")
def kernel_elf() -> Path:
    return _need("moat.elf")


@pytest.fixture(scope="session")
def esp_img() -> Path:
    return _need("esp.img", newer_than=("moat.elf", "BOOTX64.EFI"))


@pytest.fixture(scope="session")
def mkiso() -> Path:
    path = moat_emu.REPO / "scripts" / "mkiso.sh"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing or not executable", pytrace=False)
    return path


@pytest.fixture
def log_dir(request) -> Path:
    """build/test-logs/<test name>/, emptied first: serial.log, bochs.log, bochsrc, the
    command line and the result of every run stay there for a post-mortem."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    path = LOG_ROOT / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def esp_copy(esp_img, tmp_path):
    """make(cmdline) -> a private copy of build/esp.img whose EFI/MOAT/cmdline.txt holds
    cmdline (None: leave the file as built). Given a command line, the default moat.cfg is
    removed so that the command line's guest= words count (keep_config=True keeps it)."""
    def make(cmdline=None, name="esp.img", keep_config=False) -> Path:
        img = tmp_path / name
        shutil.copyfile(esp_img, img)
        if cmdline is not None and not keep_config:
            moat_emu.mtools("mdel", "-i", str(img), "::/EFI/MOAT/moat.cfg")
        if cmdline is not None:
            txt = tmp_path / "cmdline.txt"
            txt.write_text(cmdline + "\n")
            moat_emu.mtools("mcopy", "-o", "-i", str(img), str(txt), "::/EFI/MOAT/cmdline.txt")
        return img
    return make


@pytest.fixture
def boot(request):
    """boot(run) -> run, after running it; the run's timings join the closing table."""
    def go(run: moat_emu.Run) -> moat_emu.Run:
        _results.setdefault(request.node.nodeid, {}).setdefault("runs", []).append(run)
        return run.run()
    return go


def pytest_runtest_logreport(report):
    entry = _results.setdefault(report.nodeid, {})
    entry["seconds"] = entry.get("seconds", 0.0) + report.duration
    # The call's outcome, unless setup or teardown went wrong.
    if report.when == "call" or report.outcome != "passed":
        if entry.get("outcome", "passed") == "passed":
            entry["outcome"] = report.outcome


def pytest_terminal_summary(terminalreporter):
    runs = {k: e for k, e in _results.items() if e.get("runs")}
    if not runs:
        return
    tr = terminalreporter
    tr.section("Moat system test timings")
    tr.write_line(f"{'test':<44} {'result':<8} {'test s':>7} {'emu s':>7}  end of each run")
    for nodeid, e in runs.items():
        emu_s = sum(r.wall for r in e["runs"])
        ends = "; ".join(f"{r.end}" + (f" ({r.trigger})" if r.trigger else "") +
                         (f" status {r.returncode}" if r.returncode is not None else "") +
                         (f", waited {r.slot_wait:.0f} s for a slot" if r.slot_wait >= 1 else "")
                         for r in e["runs"])
        tr.write_line(f"{nodeid.split('::')[-1]:<44} {e.get('outcome', '?'):<8} "
                      f"{e.get('seconds', 0.0):7.1f} {emu_s:7.1f}  {ends}")
    tr.write_line(f"logs: {LOG_ROOT}/<test>/")
