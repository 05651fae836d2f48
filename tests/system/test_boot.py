# SPDX-License-Identifier: Apache-2.0
# Boot tests: Moat boots to "moat: boot complete" on every CPU under QEMU+OVMF (AMD-V),
# Bochs+OVMF and Bochs+GRUB (Intel VT-x) and ends the emulator itself (exit=boot); the
# UEFI loader names the file when the kernel is missing or corrupt. Asserts on the serial log.
import random
import re
import struct
import subprocess

import pytest

import moat_emu

BANNER = r"Moat (\S+) hypervisor, booted by (\S+)"
LOADER_ERROR = r"moat-loader: error: (.+) \(([^()\n]*)\)"
PANIC = r"PANIC on CPU \d+\b"

# Guest RAM and what the memory map may leave usable of it (firmware, ROMs, ACPI).
MEM_MIB = 512
USABLE_MIN_MIB = 400

# Hard limits per run (seconds), generous against the times measured on this machine.
QEMU_TIMEOUT = 90
LOADER_TIMEOUT = 40
BOCHS_UEFI_TIMEOUT = 240
BOCHS_GRUB_TIMEOUT = 150


def line(run, regex, after=0):
    """The first match of regex (anchored at a line start) at or after offset `after`."""
    m = re.compile(regex, re.MULTILINE).search(run.text, after)
    assert m, run.report(f"no line matching {regex!r} after the banner")
    return m


def assert_booted(run, source: str, cpus: int, acpi_tables: bool = True):
    """The kernel's boot log is complete and sane for `cpus` CPUs booted by `source`."""
    banners = run.findall(BANNER)
    assert len(banners) == 1, run.report(f"expected one kernel banner, found {len(banners)}")
    banner = banners[0]
    assert banner.group(2) == source, run.report(f"banner says {banner.group(2)!r}, not {source!r}")
    assert not run.search(PANIC), run.report("the kernel panicked")
    start = banner.end()

    mem = line(run, r"^memory: (\d+) MiB usable in (\d+) ranges?, (\d+) MiB free", start)
    usable, ranges, free = (int(g) for g in mem.groups())
    assert USABLE_MIN_MIB <= usable <= MEM_MIB, run.report(
        f"{usable} MiB usable, expected {USABLE_MIN_MIB}..{MEM_MIB} of {MEM_MIB} MiB")
    assert ranges >= 1 and free <= usable, run.report(f"odd memory line: {mem.group(0)!r}")

    if acpi_tables:
        acpi = line(run, r"^acpi: rev (\d+) OEM (.*?), (\d+) CPUs?\b", start)
        assert int(acpi.group(3)) == cpus, run.report(f"ACPI lists {acpi.group(3)} CPUs, not {cpus}")
        source = "in MADT"
    else:
        # OVMF under Bochs publishes no ACPI tables: the CPUs come from UEFI MP Services.
        acpi = line(run, r"^acpi: the loader found no RSDP", start)
        source = "listed by the firmware"

    cpu = line(run, rf"^cpus: (\d+) online of (\d+) {source}", start)
    assert (int(cpu.group(1)), int(cpu.group(2))) == (cpus, cpus), run.report(
        f"{cpu.group(0)!r}: expected {cpus} online of {cpus}")

    timer = line(run, r"^timer: ", start)
    done = line(run, r"^moat: boot complete$", start)
    assert done.start() > max(mem.start(), acpi.start(), cpu.start(), timer.start()), \
        run.report("'moat: boot complete' came before the lines it sums up")
    line(run, r"^moat: test exit$", done.end())


def assert_ended_itself(run):
    """The run ended because the kernel asked the emulator to (exit=boot), nothing else."""
    assert run.trigger == "test exit", run.report("the run did not reach 'moat: test exit'")
    assert run.end == "exited", run.report(
        f"the emulator did not end after 'moat: test exit' ({run.end})")


# ---- QEMU + OVMF: the AMD-V path ------------------------------------------------------------

def qemu_uefi(boot, esp_copy, log_dir, cpus):
    esp = esp_copy("exit=boot")
    run = boot(moat_emu.qemu(log_dir.name, log_dir, esp=esp, smp=cpus, mem=MEM_MIB,
                             cpu="EPYC", timeout=QEMU_TIMEOUT))
    assert_ended_itself(run)
    # isa-debug-exit: the kernel writes 0 (success) -> QEMU exits with (0 << 1) | 1.
    assert run.returncode == 1, run.report(f"QEMU exit status {run.returncode}, expected 1")
    assert_booted(run, "UEFI", cpus)


@pytest.mark.qemu
def test_qemu_uefi_1cpu(boot, esp_copy, log_dir):
    qemu_uefi(boot, esp_copy, log_dir, 1)


@pytest.mark.qemu
def test_qemu_uefi_4cpu(boot, esp_copy, log_dir):
    qemu_uefi(boot, esp_copy, log_dir, 4)


# ---- the UEFI loader refuses a missing or corrupt kernel ------------------------------------

def garbage(size=64 * 1024) -> bytes:
    data = random.Random(0x6d6f6174).randbytes(size)
    assert not data.startswith(b"\x7fELF")
    return data


def truncated_elf(elf: bytes) -> bytes:
    """The kernel cut in the middle of its last loadable segment (ELF gABI: e_phoff at 0x20,
    e_phentsize at 0x36, e_phnum at 0x38; p_offset at 8 and p_filesz at 0x20 of a phdr), so
    the headers parse but a segment runs past the end of the file. Cutting at half the file
    would often remove only debug sections, which leaves a loadable ELF."""
    assert elf[:4] == b"\x7fELF" and elf[4] == 2, "build/moat.elf is not an ELF64 file"
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    ends = []
    for i in range(phnum):
        ph = phoff + i * phentsize
        p_type, = struct.unpack_from("<I", elf, ph)
        p_offset, = struct.unpack_from("<Q", elf, ph + 8)
        p_filesz, = struct.unpack_from("<Q", elf, ph + 0x20)
        if p_type == 1 and p_filesz > 0:  # PT_LOAD
            ends.append((p_offset + p_filesz, p_offset, p_filesz))
    assert ends, "build/moat.elf has no PT_LOAD segment with file contents"
    _, offset, filesz = max(ends)
    cut = offset + filesz // 2
    assert cut > phoff + phnum * phentsize, "the cut would remove the program headers"
    return elf[:cut]


def loader_fails(boot, esp, log_dir, what_regex):
    run = boot(moat_emu.qemu(log_dir.name, log_dir, esp=esp, smp=1, mem=MEM_MIB,
                             timeout=LOADER_TIMEOUT))
    errors = run.findall(LOADER_ERROR)
    assert errors, run.report("no 'moat-loader: error: <what> (<path>)' line")
    kernel_errors = [m for m in errors if re.search(r"(^|[\\/])moat\.elf$", m.group(2), re.I)]
    assert kernel_errors, run.report(
        f"no loader error names the kernel's path; got: {[m.group(0) for m in errors]}")
    what = kernel_errors[0].group(1)
    assert re.search(what_regex, what, re.I), run.report(
        f"loader error {what!r} does not say {what_regex!r}")
    assert not run.search(BANNER), run.report("the kernel started although the loader failed")
    # Ended by us on the error line, by the firmware, or at worst by the timeout.
    assert run.end in ("stopped", "exited", "timeout")


@pytest.mark.qemu
def test_loader_missing_kernel(boot, esp_copy, log_dir):
    esp = esp_copy("exit=boot")
    moat_emu.mtools("mdel", "-i", str(esp), "::/EFI/MOAT/moat.elf")
    loader_fails(boot, esp, log_dir, r"missing|not found|cannot open")


@pytest.mark.qemu
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_loader_corrupt_kernel(boot, esp_copy, kernel_elf, log_dir, tmp_path, damage):
    esp = esp_copy("exit=boot")
    bad = tmp_path / "moat.elf"
    bad.write_bytes(garbage() if damage == "garbage" else truncated_elf(kernel_elf.read_bytes()))
    moat_emu.mtools("mcopy", "-o", "-i", str(esp), str(bad), "::/EFI/MOAT/moat.elf")
    loader_fails(boot, esp, log_dir, r"ELF|truncated|corrupt|invalid")


# ---- Bochs: the Intel VT-x path -------------------------------------------------------------

def assert_bochs_shutdown(run):
    """Bochs ends on "Shutdown" at port 0x8900 with a panic-level message and status 1:
    that message must be the only panic in its log."""
    text = run.bochs_log.read_text(errors="replace") if run.bochs_log.exists() else ""
    panics = re.findall(r"^\d+p\[.*$", text, re.MULTILINE)
    assert panics and all("Shutdown port: shutdown requested" in p for p in panics), \
        run.report(f"Bochs did not end by the kernel's shutdown request: {panics}")
    assert run.returncode == 1, run.report(f"Bochs exit status {run.returncode}, expected 1")


@pytest.mark.bochs
def test_bochs_uefi_tigerlake_2cpu(boot, esp_copy, log_dir):
    esp = esp_copy("exit=boot")
    run = boot(moat_emu.bochs(log_dir.name, log_dir, esp=esp, smp=2, mem=MEM_MIB,
                              cpu="tigerlake", timeout=BOCHS_UEFI_TIMEOUT))
    assert_ended_itself(run)
    assert_bochs_shutdown(run)
    assert_booted(run, "UEFI", 2, acpi_tables=False)


@pytest.mark.bochs
def test_bochs_grub_iso(boot, kernel_elf, mkiso, log_dir, tmp_path):
    cmdline = tmp_path / "cmdline.txt"
    cmdline.write_text("exit=boot\n")
    # The same files `make` puts beside the kernel (configs/default), plus the command line.
    files = sorted(str(p) for p in (moat_emu.REPO / "configs" / "default").glob("*")
                   if p.is_file() and p.name != "cmdline.txt")
    iso = tmp_path / "moat.iso"
    res = subprocess.run([str(mkiso), str(iso), str(kernel_elf), *files, str(cmdline)],
                         capture_output=True, text=True)
    assert res.returncode == 0, f"mkiso.sh failed ({res.returncode}):\n{res.stderr}"
    run = boot(moat_emu.bochs(log_dir.name, log_dir, iso=iso, smp=2, mem=MEM_MIB,
                              cpu="tigerlake", timeout=BOCHS_GRUB_TIMEOUT))
    assert_ended_itself(run)
    assert_bochs_shutdown(run)
    assert_booted(run, "Multiboot2", 2)


# ---- the panic path: an exception in the hypervisor names the CPU and stops them all --------

@pytest.mark.qemu
def test_qemu_exception_panics_naming_the_cpu(boot, esp_copy, log_dir):
    run = boot(moat_emu.qemu(log_dir.name, log_dir, esp=esp_copy("exit=boot debug=fault"), smp=2,
                             mem=MEM_MIB, cpu="EPYC", timeout=QEMU_TIMEOUT))
    assert run.trigger == "kernel panic", run.report("debug=fault did not panic")
    line(run, r"^debug: CPU 1 reads 0x10000001000, which is not mapped$")
    panic = line(run, r"^PANIC on CPU 1 \(APIC 1\): exception 14 \(#PF page fault\), error code 0x0$")
    line(run, r"^  RIP [0-9a-f]{16} CS 0008 RFLAGS ", panic.end())
    line(run, r"^  RSP [0-9a-f]{16} SS 0010 CR2 0000010000001000 CR3 ", panic.end())
    line(run, r"^moat: all CPUs halted$", panic.end())
    assert not run.search(r"^moat: boot complete$"), run.report("boot went on after the panic")
    # The panicking CPU asks QEMU to end with failure: isa-debug-exit value 1 -> status 3.
    assert run.returncode == 3, run.report(f"QEMU exit status {run.returncode}, expected 3")
