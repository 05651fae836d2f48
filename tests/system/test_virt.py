# SPDX-License-Identifier: Apache-2.0
# Virtualization system tests: the test guests of tests/guests run as partitions on every CPU
# under AMD-V (QEMU EPYC: NPT without NRIPS; Bochs ryzen: NRIPS; Bochs phenom: no NRIPS) and
# Intel VT-x (Bochs tigerlake, sandy bridge), and CPUs that cannot run guests are refused
# clearly (Bochs lynnfield: no unrestricted guest; penryn: no EPT; turion: no NPT).
import re
import subprocess

import pytest

import moat_emu

GUESTS = ("selftest.bin", "prot32.bin", "real16.bin")
ALL_GUESTS = ("exit=idle guest=selftest.bin guest=selftest.bin,args=fault "
              "guest=prot32.bin,mode=prot32 guest=real16.bin,mode=real")
SELFTEST_CHECKS = ("cpuid-signature", "cpuid-leaf1", "cpuid-virt-hidden", "io-unclaimed-all-ones",
                   "io-com1-lsr", "msr-allowed", "msr-refused-gp", "hypercall-version",
                   "hypercall-write", "hlt")
BOCHS_BAD = r"VMFAIL|VMENTER FAIL|Guest State Checks|VMABORT"
MEM_MIB = 512


@pytest.fixture
def guest_esp(esp_copy, tmp_path):
    """An ESP copy with the test guests in EFI/MOAT and `cmdline` as the command line."""
    def make(cmdline):
        esp = esp_copy(cmdline)
        for g in GUESTS:
            moat_emu.mtools("mcopy", "-o", "-i", str(esp), str(moat_emu.BUILD / "guests" / g),
                            f"::/EFI/MOAT/{g}")
        return esp
    return make


def vcpus_of(run, name):
    m = run.search(rf"^partition {re.escape(name)}: \d+ MiB at host 0x[0-9a-f]+, (\d+) vCPUs")
    assert m, run.report(f"partition {name} never started")
    return int(m.group(1))


def assert_selftest(run, name, cpus):
    assert vcpus_of(run, name) == cpus, run.report(f"partition {name} does not run on {cpus} CPUs")
    assert run.search(rf"^\[{re.escape(name)}:0\] PASS io-com1-16550$"), \
        run.report(f"{name}: COM1 does not behave as a 16550A")
    assert run.search(rf"^\[{re.escape(name)}:0\] PASS pci-host-bridge$"), \
        run.report(f"{name}: its PCI bus does not show exactly the host bridge")
    for v in range(cpus):
        for check in SELFTEST_CHECKS:
            assert run.search(rf"^\[{re.escape(name)}:{v}\] PASS {check}$"), \
                run.report(f"vCPU {v} of {name}: no PASS {check}")
        assert run.search(rf"^\[{re.escape(name)}:{v}\] DONE$"), run.report(f"vCPU {v} not DONE")


def assert_all_guests(run, cpus, vendor):
    assert run.search(rf"^virt: {vendor} on {cpus} of {cpus} CPUs"), run.report("virt line")
    assert not run.search(r"\] FAIL "), run.report("a guest check failed")
    assert not run.search(r"PANIC on CPU"), run.report("the hypervisor panicked")
    assert_selftest(run, "selftest", cpus)
    assert run.search(r"^partition selftest: ended \(all vCPUs exited\), exit status 0,"), \
        run.report("selftest did not end cleanly through the exit hypercall")
    # The fault variant: every vCPU passes, then vCPU 0 writes 4 KiB past its 16 MiB of RAM.
    assert_selftest(run, "selftest-fault", cpus)
    assert run.search(r"^partition selftest-fault: stopped: vCPU 0: write at guest-physical "
                      r"0x1001000 outside its memory \(rip 0x[0-9a-f]+\)$"), \
        run.report("the out-of-memory write was not caught and reported")
    for name, check in (("prot32", "prot32-entry"), ("real16", "real-mode-entry")):
        for v in range(vcpus_of(run, name)):
            assert run.search(rf"^\[{name}:{v}\] PASS {check}$"), run.report(f"{name} vCPU {v}")
        assert run.search(rf"^partition {name}: ended \(all vCPUs exited\), exit status 0,"), \
            run.report(f"{name} did not end cleanly")
    # Every partition's memory came back.
    assert run.search(r"^moat: all partitions stopped \(some failed\); \d+ KiB free, 0 KiB not returned$"), \
        run.report("summary, or a partition leaked memory")
    assert run.trigger == "test exit", run.report("the run did not end with 'moat: test exit'")


def assert_bochs_clean(run):
    text = run.bochs_log.read_text(errors="replace") if run.bochs_log.exists() else ""
    bad = [l for l in text.splitlines() if re.search(BOCHS_BAD, l)]
    assert not bad, run.report("Bochs reports failed VM entries:\n" + "\n".join(bad[:10]))


@pytest.mark.qemu
def test_qemu_epyc_svm_guests(boot, guest_esp, log_dir):
    run = boot(moat_emu.qemu(log_dir.name, log_dir, esp=guest_esp(ALL_GUESTS), smp=2,
                             mem=MEM_MIB, cpu="EPYC", timeout=120))
    assert run.search(r"exit lengths decoded \(no NRIPS\)"), run.report("QEMU has no NRIPS")
    assert_all_guests(run, 2, "AMD-V")
    assert run.returncode == 3, run.report("QEMU status: 'some failed' (the fault partition) is 3")


@pytest.mark.qemu
def test_qemu_triple_fault_stops_only_that_partition(boot, guest_esp, log_dir):
    """Bochs cannot report a guest triple fault as an exit (it resets), so this runs on QEMU:
    the partition is stopped with a register dump, and the next partition still runs."""
    esp = guest_esp("exit=idle guest=selftest.bin,args=triple guest=prot32.bin,mode=prot32")
    run = boot(moat_emu.qemu(log_dir.name, log_dir, esp=esp, smp=2, mem=MEM_MIB, cpu="EPYC",
                             timeout=120))
    assert_selftest(run, "selftest-triple", 2)
    stop = run.search(r"^partition selftest-triple: stopped: vCPU 0: triple fault at rip 0x[0-9a-f]+$")
    assert stop, run.report("the triple fault was not reported")
    assert run.search(r"^  rip [0-9a-f]{16} rflags [0-9a-f]{16} cr0 "), run.report("no register dump")
    assert run.search(r"^\[prot32:0\] PASS prot32-entry$"), run.report("the next partition did not run")
    assert not run.search(r"PANIC on CPU"), run.report("the hypervisor panicked")
    assert run.trigger == "test exit"


@pytest.mark.bochs
@pytest.mark.parametrize("model,vendor,cpus", [
    ("tigerlake", "Intel VT-x", 2),
    ("corei7_sandy_bridge_2600k", "Intel VT-x", 1),
    ("ryzen", "AMD-V", 1),
    ("phenom_8650_toliman", "AMD-V", 1),
])
def test_bochs_guests(boot, guest_esp, log_dir, model, vendor, cpus):
    run = boot(moat_emu.bochs(log_dir.name, log_dir, esp=guest_esp(ALL_GUESTS), smp=cpus,
                              mem=MEM_MIB, cpu=model, timeout=300))
    assert_all_guests(run, cpus, vendor)
    assert_bochs_clean(run)


@pytest.mark.bochs
def test_bochs_grub_guests(boot, kernel_elf, mkiso, log_dir, tmp_path):
    """The same guests through GRUB and Multiboot2 modules, AMD-V on 2 CPUs (Bochs ryzen)."""
    cmdline = tmp_path / "cmdline.txt"
    cmdline.write_text(ALL_GUESTS + "\n")
    iso = tmp_path / "moat.iso"
    files = [str(moat_emu.BUILD / "guests" / g) for g in GUESTS]
    res = subprocess.run([str(mkiso), str(iso), str(kernel_elf), *files, str(cmdline)],
                         capture_output=True, text=True)
    assert res.returncode == 0, f"mkiso.sh failed ({res.returncode}):\n{res.stderr}"
    run = boot(moat_emu.bochs(log_dir.name, log_dir, iso=iso, smp=2, mem=MEM_MIB, cpu="ryzen",
                              timeout=300))
    assert run.search(r"booted by Multiboot2"), run.report("not booted through GRUB")
    assert_all_guests(run, 2, "AMD-V")
    assert_bochs_clean(run)


@pytest.mark.bochs
def test_bochs_lynnfield_no_unrestricted_guest(boot, guest_esp, log_dir):
    """Without unrestricted guest, real-mode and paging-off entries are refused by the
    configuration check with a sentence saying why (so nothing starts), and 64-bit guests run."""
    run = boot(moat_emu.bochs(log_dir.name, log_dir, esp=guest_esp(ALL_GUESTS), smp=1,
                              mem=MEM_MIB, cpu="corei5_lynnfield_750", timeout=300))
    assert run.search(r"unrestricted guest no"), run.report("lynnfield has no unrestricted guest")
    for mode in ("prot32", "real"):
        assert run.search(rf"^cmdline:\d+:\d+: error: mode: {mode} needs VT-x \"unrestricted guest\", "
                          r"which this CPU lacks \(hint: use mode = long64\)$"), \
            run.report(f"{mode} was not refused with a reason")
    assert run.search(r"^moat: no partition started$"), run.report("something started")
    assert run.trigger == "test exit"
    assert_bochs_clean(run)
    run = boot(moat_emu.bochs(log_dir.name, log_dir, esp=guest_esp("exit=idle guest=selftest.bin"),
                              smp=1, mem=MEM_MIB, cpu="corei5_lynnfield_750", timeout=300))
    assert_selftest(run, "selftest", 1)
    assert not run.search(r"PANIC on CPU"), run.report("the hypervisor panicked")
    assert run.trigger == "test exit"
    assert_bochs_clean(run)


@pytest.mark.bochs
@pytest.mark.parametrize("model,missing", [
    ("core2_penryn_t9600", r"no EPT"),
    ("turion64_tyler", r"no nested paging"),
])
def test_bochs_refuses_cpu_without_second_level_paging(boot, guest_esp, log_dir, model, missing):
    run = boot(moat_emu.bochs(log_dir.name, log_dir, esp=guest_esp(ALL_GUESTS), smp=1,
                              mem=MEM_MIB, cpu=model, timeout=300))
    assert run.search(rf"^virt: .*{missing}"), run.report("no clear refusal")
    assert run.search(r"^virt: no partitions can run$"), run.report("no summary of the refusal")
    assert run.search(r"^moat: no partition started$"), run.report("summary")
    assert not run.search(r"PANIC on CPU"), run.report("the hypervisor panicked")
    assert run.trigger == "test exit"
