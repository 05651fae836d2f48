#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# `make bench`: boots the benchmark guest (tests/guests/bench.asm) on every backend and turns
# its TSC readings into instructions per exit round trip. The guest TSC counts instructions
# under QEMU -icount shift=0,sleep=off and under Bochs clock sync=none, so the figures are
# deterministic. A second partition on the same CPU (the same guest with the argument "peer")
# only yields, so the benchmark's yield hypercalls become partition switches. Prints a table
# and writes build/bench.json, with the memory Moat holds per partition besides its RAM.
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
sys.path.insert(0, str(REPO / "tests" / "system"))
import moat_emu  # noqa: E402

# The floor: a hand-written minimal exit loop, measured on this machine (docs/design.md).
FLOOR = {"svm-qemu": 111, "svm-bochs": 85, "vmx-bochs": 93}
CMDLINE = "exit=idle"
# A long slice: the peer runs only when the benchmark yields (its slice ends seldom).
CONFIG = """[moat]
timeslice = 1s

[partition bench]
cpus = 0
memory = 16M
image = bench.bin

[partition peer]
cpus = 0
memory = 4M
image = bench.bin
cmdline = "peer"
"""
TARGETS = [
    ("svm-qemu", "QEMU EPYC (AMD-V, no NRIPS)", "qemu", "EPYC"),
    ("svm-bochs", "Bochs ryzen (AMD-V, NRIPS)", "bochs", "ryzen"),
    ("vmx-bochs", "Bochs tigerlake (Intel VT-x)", "bochs", "tigerlake"),
]
LINE = re.compile(r"^\[bench:0\] BENCH (\w+) ([0-9a-f]+) ([0-9a-f]+)$", re.M)
HELD = re.compile(r"^partition bench: running; Moat holds (\d+) KiB for it besides its memory$", re.M)
DONE = moat_emu.Trigger("bench done", r"^\[bench:0\] BENCH yield ", 1.0)


def esp(tmp: Path) -> Path:
    img = tmp / "esp.img"
    shutil.copyfile(BUILD / "esp.img", img)
    (tmp / "cmdline.txt").write_text(CMDLINE + "\n")
    (tmp / "moat.cfg").write_text(CONFIG)
    moat_emu.mtools("mcopy", "-o", "-i", str(img), str(tmp / "cmdline.txt"), "::/EFI/MOAT/cmdline.txt")
    moat_emu.mtools("mcopy", "-o", "-i", str(img), str(tmp / "moat.cfg"), "::/EFI/MOAT/moat.cfg")
    moat_emu.mtools("mcopy", "-o", "-i", str(img), str(BUILD / "guests" / "bench.bin"), "::/EFI/MOAT/bench.bin")
    return img


def measure(key, kind, cpu, tmp: Path) -> dict:
    log = BUILD / "bench" / key
    shutil.rmtree(log, ignore_errors=True)
    log.mkdir(parents=True)
    img = esp(tmp)
    if kind == "qemu":
        run = moat_emu.qemu(key, log, esp=img, smp=1, mem=512, cpu=cpu, timeout=600,
                            extra=("-icount", "shift=0,sleep=off"))
    else:
        run = moat_emu.bochs(key, log, esp=img, smp=1, mem=512, cpu=cpu, timeout=600)
    run = dataclasses.replace(run, _triggers=(DONE,) + moat_emu.TRIGGERS)
    run.run()
    raw = {m.group(1): (int(m.group(2), 16), int(m.group(3), 16)) for m in LINE.finditer(run.text)}
    if "nop" not in raw or "loop" not in raw:
        raise SystemExit(f"bench: {key}: no BENCH lines; see {log}/serial.log\n{run.tail(20)}")
    # 18 instructions per calibration iteration, 2 per empty-loop iteration.
    ticks_per_insn = raw["nop"][0] / raw["nop"][1] / 18
    loop = raw["loop"][0] / raw["loop"][1]
    out = {}
    for name in ("cpuid", "pio", "msr", "hypercall", "pcicfg", "pciecam", "yield"):
        ticks, n = raw[name]
        # Each iteration also runs the loop and the set-up instructions in the guest (2 for
        # DEC+JNZ, plus 1-3 register moves): subtract the empty loop only; report the rest.
        out[name] = round((ticks / n - loop) / ticks_per_insn, 1)
    # A yield round trip is two hypercall exits (the benchmark's and the peer's) and two
    # partition switches: what is beyond the two exits is the cost of the two switches.
    out["switch"] = round((out["yield"] - 2 * out["hypercall"]) / 2, 1)
    held = HELD.search(run.text)
    out["partition_overhead_bytes"] = int(held.group(1)) * 1024 if held else None
    out["ticks_per_instruction"] = round(ticks_per_insn, 4)
    return out


def main():
    # Optional arguments name the targets to run (svm-qemu, svm-bochs, vmx-bochs); default all.
    wanted = set(sys.argv[1:]) or {t[0] for t in TARGETS}
    unknown = wanted - {t[0] for t in TARGETS}
    if unknown:
        raise SystemExit(f"bench: unknown target(s) {sorted(unknown)}; known: {[t[0] for t in TARGETS]}")
    results = {}
    with tempfile.TemporaryDirectory() as t:
        for key, label, kind, cpu in TARGETS:
            if key not in wanted:
                continue
            results[key] = {"label": label, **measure(key, kind, cpu, Path(t))}
    print(f"{'backend':34} {'cpuid':>8} {'vuart':>8} {'msr':>8} {'hcall':>8} {'pci cfg':>8} {'ecam':>8} {'floor':>6} "
          f"{'cpuid/floor':>11} {'switch':>8} {'held/part':>10}")
    for key, r in results.items():
        ratio = r["cpuid"] / FLOOR[key]
        r["floor_cpuid"] = FLOOR[key]
        r["cpuid_ratio"] = round(ratio, 2)
        held = r["partition_overhead_bytes"]
        print(f"{r['label']:34} {r['cpuid']:8.1f} {r['pio']:8.1f} {r['msr']:8.1f} {r['hypercall']:8.1f} "
              f"{r['pcicfg']:8.1f} {r['pciecam']:8.1f} {FLOOR[key]:6d} {ratio:10.2f}x {r['switch']:8.1f} {held if held is not None else '?':>10}")
    print("(instructions per exit round trip, guest side included; floor = bare exit loop;\n"
          " vuart = a virtual 16550 register read; pci cfg = a config read through 0xCF8/0xCFC,\n"
          " two exits; ecam = the same read through ECAM, one MMIO exit (decoded and emulated);\n"
          " switch = instructions per partition switch on one CPU; held/part = bytes Moat holds\n"
          " for a 1-vCPU partition besides its memory: descriptor, vCPU, stage-2 tables, VMCS/VMCB)")
    (BUILD / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {BUILD / 'bench.json'}")


if __name__ == "__main__":
    main()
