#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Boots a Moat image under QEMU TCG (the AMD-V path): an ESP through OVMF on q35, or a
# GRUB ISO through SeaBIOS. Owns the QEMU command line used by `make run` and the system
# tests; it never modifies the image (disk snapshot) nor the system OVMF variable store.
set -euo pipefail

OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

usage() {
    cat <<'EOF'
usage: run-qemu.sh (--esp IMG | --iso IMG) [options] [-- extra qemu args]
  --esp IMG          FAT ESP image, booted by OVMF (UEFI)
  --iso IMG          GRUB rescue ISO, booted by SeaBIOS (Multiboot2) unless --firmware uefi
  --firmware F       uefi | bios (default: uefi for --esp, bios for --iso)
  --smp N            CPUs (default 4)
  --mem MIB          guest RAM in MiB (default 512)
  --cpu MODEL        QEMU CPU model (default EPYC: SVM with nested paging)
  --serial S         stdio (default: this terminal, Ctrl-A x quits) | file:PATH
  --timeout SECS     kill QEMU after SECS seconds (exit status 124)
  --icount           deterministic guest time: -icount shift=0,sleep=off (slow boot)
  --dry-run          print the command line and exit
Exit status: QEMU's. isa-debug-exit (port 0xf4) writes v -> (v << 1) | 1, so a kernel
that writes 0 ends with 1 (success) and one that writes 1 ends with 3 (failure).
EOF
}

die() { echo "run-qemu.sh: $*" >&2; exit 2; }

# Prints a command line that can be pasted back into a shell.
show_cmd() {
    local a out=()
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then out+=("$a")
        else out+=("'${a//\'/\'\\\'\'}'"); fi
    done
    echo "${out[*]}"
}

# Options that take a value accept both "--opt VALUE" and "--opt=VALUE".
need_val() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$1 needs a value"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

image="" kind="" firmware="" smp=4 mem=512 cpu=EPYC serial=stdio timeout_s="" icount=0 dry=0
extra=()
while [[ $# -gt 0 ]]; do
    opt="$1"
    if [[ "$opt" == --*=* ]]; then
        set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
        opt="$1"
    fi
    case "$opt" in
        --esp|--iso)
            need_val "$@"; [[ -z "$image" ]] || die "give exactly one of --esp / --iso"
            image="$2"; kind="${opt#--}"; shift 2 ;;
        --firmware) need_val "$@"; firmware="$2"; shift 2 ;;
        --smp)      need_val "$@"; smp="$2"; shift 2 ;;
        --mem)      need_val "$@"; mem="$2"; shift 2 ;;
        --cpu)      need_val "$@"; cpu="$2"; shift 2 ;;
        --serial)   need_val "$@"; serial="$2"; shift 2 ;;
        --timeout)  need_val "$@"; timeout_s="$2"; shift 2 ;;
        --icount)   icount=1; shift ;;
        --dry-run)  dry=1; shift ;;
        -h|--help)  usage; exit 0 ;;
        --)         shift; extra=("$@"); break ;;
        *)          usage >&2; die "unknown argument: $opt" ;;
    esac
done

[[ -n "$image" ]] || { usage >&2; die "no image: give --esp IMG or --iso IMG"; }
[[ -f "$image" ]] || die "image not found: $image"
if ! is_uint "$smp" || (( smp < 1 || smp > 255 )); then die "--smp wants 1..255, got '$smp'"; fi
if ! is_uint "$mem" || (( mem < 32 )); then die "--mem wants MiB >= 32, got '$mem'"; fi
[[ -z "$timeout_s" ]] || { is_uint "$timeout_s" && (( timeout_s > 0 )); } ||
    die "--timeout wants seconds > 0, got '$timeout_s'"
[[ -n "$firmware" ]] || { [[ "$kind" == esp ]] && firmware=uefi || firmware=bios; }
case "$firmware" in uefi|bios) ;; *) die "--firmware wants uefi or bios, got '$firmware'" ;; esac
case "$serial" in
    stdio)   serial_arg=mon:stdio ;;   # mux: Ctrl-A x quits, Ctrl-A c is the monitor
    file:?*) serial_arg="$serial" ;;
    *)       die "--serial wants stdio or file:PATH, got '$serial'" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-qemu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cmd=(qemu-system-x86_64 -machine q35 -accel tcg -cpu "$cpu" -m "${mem}M" -smp "$smp")
if [[ "$firmware" == uefi ]]; then
    [[ -r "$OVMF_CODE" && -r "$OVMF_VARS" ]] || die "OVMF not found (install the ovmf package)"
    # The variable store is writable: each run gets a private copy, removed at exit.
    cp "$OVMF_VARS" "$tmp/OVMF_VARS.fd"
    cmd+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
          -drive "if=pflash,format=raw,unit=1,file=$tmp/OVMF_VARS.fd")
fi
# QEMU's -drive file= splits on commas; double them so any path works.
img_arg="${image//,/,,}"
if [[ "$kind" == esp ]]; then
    # snapshot=on: writes go to a temporary overlay, the image file is never modified.
    cmd+=(-drive "format=raw,snapshot=on,file=$img_arg")
else
    cmd+=(-drive "media=cdrom,readonly=on,format=raw,file=$img_arg" -boot d)
fi
cmd+=(-nic none -serial "$serial_arg" -display none -no-reboot
      -device "isa-debug-exit,iobase=0xf4,iosize=4")
(( icount )) && cmd+=(-icount "shift=0,sleep=off")
cmd+=("${extra[@]}")

# --foreground: QEMU stays in the caller's process group so it can own the terminal
# (serial on stdio) and a caller that signals the group reaches it.
[[ -z "$timeout_s" ]] || cmd=(timeout --foreground -k 5 "$timeout_s" "${cmd[@]}")

show_cmd "${cmd[@]}" >&2
(( dry )) && exit 0

status=0
"${cmd[@]}" || status=$?
exit "$status"
