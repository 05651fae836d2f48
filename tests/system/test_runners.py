# SPDX-License-Identifier: Apache-2.0
# Argument handling of scripts/run-qemu.sh and scripts/run-bochs.sh, checked through
# --dry-run: the emulator command line and bochsrc they would use, and the refusals.
# Starts no emulator and needs no build.
import shlex
import subprocess

import pytest

import moat_emu

ESP_BYTES = 64 * 16 * 63 * 512  # the geometry Bochs is given for the ESP


def run(script, *args):
    return subprocess.run([str(script), *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)


@pytest.fixture
def esp(tmp_path):
    img = tmp_path / "esp.img"
    with open(img, "wb") as f:
        f.truncate(ESP_BYTES)
    return img


def qemu_argv(res):
    """The QEMU command line run-qemu.sh printed on stderr (its last line)."""
    assert res.returncode == 0, res.stderr
    return shlex.split(res.stderr.strip().splitlines()[-1])


def test_qemu_defaults(esp):
    argv = qemu_argv(run(moat_emu.RUN_QEMU, "--esp", esp, "--dry-run"))
    assert argv[0] == "qemu-system-x86_64"
    pairs = list(zip(argv, argv[1:]))
    for pair in [("-machine", "q35"), ("-accel", "tcg"), ("-cpu", "EPYC"), ("-m", "512M"),
                 ("-smp", "4"), ("-nic", "none"), ("-display", "none"),
                 ("-serial", "mon:stdio"), ("-device", "isa-debug-exit,iobase=0xf4,iosize=4")]:
        assert pair in pairs, f"{pair} missing from {argv}"
    assert "-no-reboot" in argv and "-icount" not in argv
    drives = [b for a, b in pairs if a == "-drive"]
    assert drives[0] == ("if=pflash,format=raw,unit=0,readonly=on,"
                         "file=/usr/share/OVMF/OVMF_CODE_4M.fd")
    # The variable store is a private copy, never the system file.
    assert drives[1].startswith("if=pflash,format=raw,unit=1,file=")
    assert "/usr/share" not in drives[1] and drives[1].endswith("/OVMF_VARS.fd")
    assert drives[2] == f"format=raw,snapshot=on,file={esp}"


def test_qemu_options(esp, tmp_path):
    log = tmp_path / "s.log"
    argv = qemu_argv(run(moat_emu.RUN_QEMU, f"--esp={esp}", "--smp", "1", "--mem", "256",
                         "--cpu", "qemu64,+svm,+npt", "--serial", f"file:{log}", "--icount",
                         "--timeout", "7", "--dry-run", "--", "-d", "int"))
    assert argv[:6] == ["timeout", "--foreground", "-k", "5", "7", "qemu-system-x86_64"]
    pairs = list(zip(argv, argv[1:]))
    for pair in [("-smp", "1"), ("-m", "256M"), ("-cpu", "qemu64,+svm,+npt"),
                 ("-serial", f"file:{log}"), ("-icount", "shift=0,sleep=off")]:
        assert pair in pairs, f"{pair} missing from {argv}"
    assert argv[-2:] == ["-d", "int"]


def test_qemu_iso_boots_bios(tmp_path):
    iso = tmp_path / "m,o.iso"  # a comma must survive QEMU's option parser
    iso.write_bytes(b"\0" * 2048)
    argv = qemu_argv(run(moat_emu.RUN_QEMU, "--iso", iso, "--dry-run"))
    assert not any("pflash" in a for a in argv)
    assert f"media=cdrom,readonly=on,format=raw,file={str(iso).replace(',', ',,')}" in argv


@pytest.mark.parametrize("args, message", [
    ([], "no image"),
    (["--esp", "/nonexistent.img"], "image not found"),
    (["--esp", "ESP", "--smp", "0"], "--smp wants 1..255"),
    (["--esp", "ESP", "--smp", "two"], "--smp wants 1..255"),
    (["--esp", "ESP", "--mem", "8"], "--mem wants MiB >= 32"),
    (["--esp", "ESP", "--timeout", "-3"], "--timeout wants seconds > 0"),
    (["--esp", "ESP", "--serial", "pty"], "--serial wants stdio or file:PATH"),
    (["--esp", "ESP", "--iso", "ESP"], "exactly one of --esp / --iso"),
    (["--esp", "ESP", "--firmware", "coreboot"], "--firmware wants uefi or bios"),
    (["--esp", "ESP", "--bogus"], "unknown argument: --bogus"),
    (["--esp"], "--esp needs a value"),
])
def test_qemu_refuses(esp, args, message):
    res = run(moat_emu.RUN_QEMU, *[esp if a == "ESP" else a for a in args], "--dry-run")
    assert res.returncode == 2, res
    assert message in res.stderr
    assert "qemu-system" not in res.stderr  # refused before any command line


def bochs_rc(res):
    assert res.returncode == 0, res.stderr
    return {l.split(":", 1)[0]: l.split(":", 1)[1].strip()
            for l in res.stdout.splitlines() if l and not l.startswith("#") and ":" in l}


def test_bochs_esp(esp, tmp_path):
    serial, log = tmp_path / "serial.txt", tmp_path / "bochs.log"
    res = run(moat_emu.RUN_BOCHS, "--esp", esp, "--smp", "2", "--mem", "256", "--serial", serial,
              "--log", log, "--dry-run")
    rc = bochs_rc(res)
    assert rc["display_library"] == 'rfb, options="timeout=0"'
    assert rc["romimage"] == "file=/usr/share/ovmf/OVMF.fd, address=0xffe00000"
    assert rc["vgaromimage"] == "file=/usr/share/vgabios/vgabios.bin"
    assert rc["cpu"].startswith("model=tigerlake, count=2,")
    assert rc["memory"] == "guest=256, host=256"
    assert rc["pci"] == "enabled=1, chipset=i440fx"
    assert rc["clock"] == "sync=none, time0=946684800"
    assert rc["boot"] == "disk"
    # The disk is a private copy (Bochs writes a .lock beside it) with the ESP's geometry.
    assert rc["ata0-master"].startswith('type=disk, mode=flat, path="/')
    assert str(esp) not in rc["ata0-master"]
    assert rc["ata0-master"].endswith("cylinders=64, heads=16, spt=63")
    assert rc["com1"] == f'enabled=1, mode=file, dev="{serial}"'
    assert rc["log"] == f'"{log}"'
    for key, value in [("panic", "action=fatal"), ("error", "action=report"),
                       ("info", "action=ignore"), ("debug", "action=ignore"),
                       ("speaker", "enabled=0"), ("mouse", "enabled=0")]:
        assert rc[key] == value
    assert "dummy" in rc["sound"]
    assert "bochs-bin -q -f" in res.stderr and " -rc " in res.stderr
    assert not serial.exists()  # a dry run writes nothing


def test_bochs_iso(tmp_path):
    iso = tmp_path / "moat.iso"
    iso.write_bytes(b"\0" * 2048)
    rc = bochs_rc(run(moat_emu.RUN_BOCHS, "--iso", iso, "--cpu", "ryzen", "--timeout", "9",
                      "--log", tmp_path / "l", "--dry-run"))
    assert rc["romimage"] == "file=/usr/share/bochs/BIOS-bochs-latest"
    assert rc["ata1-master"] == f'type=cdrom, path="{iso}", status=inserted'
    assert rc["boot"] == "cdrom"
    assert rc["cpu"].startswith("model=ryzen, count=1,")
    assert rc["memory"] == "guest=512, host=512"


@pytest.mark.parametrize("model", ["tigerlake", "corei7_skylake_x", "corei7_sandy_bridge_2600k",
                                   "corei5_lynnfield_750", "core2_penryn_t9600", "ryzen",
                                   "phenom_8650_toliman", "turion64_tyler"])
def test_bochs_models(esp, tmp_path, model):
    rc = bochs_rc(run(moat_emu.RUN_BOCHS, "--esp", esp, "--cpu", model, "--log", tmp_path / "l",
                      "--dry-run"))
    assert rc["cpu"].startswith(f"model={model}, ")


@pytest.mark.parametrize("args, message", [
    ([], "no image"),
    (["--esp", "ESP", "--cpu", "pentium"], "unknown --cpu 'pentium'"),
    (["--esp", "ESP", "--smp", "0"], "--smp wants 1..32"),
    (["--esp", "ESP", "--mem", "100000"], "--mem wants 32..4096 MiB"),
    (["--esp", "ESP", "--serial", 'a"b'], "unusable path for Bochs"),
    (["--esp", "ESP", "--frobnicate"], "unknown argument: --frobnicate"),
    (["--esp", "SHORT"], "is not a multiple of 516096"),
])
def test_bochs_refuses(esp, tmp_path, args, message):
    short = tmp_path / "short.img"
    short.write_bytes(b"\0" * 512)
    subst = {"ESP": str(esp), "SHORT": str(short)}
    res = run(moat_emu.RUN_BOCHS, *[subst.get(a, a) for a in args], "--log", tmp_path / "l",
              "--dry-run")
    assert res.returncode == 2, res
    assert message in res.stderr
