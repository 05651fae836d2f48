#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Boots a Moat image under Bochs 2.7 (the Intel VT-x path, and a stricter AMD-V): an ESP
# through OVMF, or a GRUB ISO through the Bochs BIOS. Owns the generated bochsrc (from
# scripts/bochsrc.in); runs headless and never modifies the image it is given.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATE="$here/bochsrc.in"
OVMF_FD=/usr/share/ovmf/OVMF.fd          # the unified image: the split CODE/VARS do not load
BOCHS_BIOS=/usr/share/bochs/BIOS-bochs-latest
VGA_BIOS=/usr/share/vgabios/vgabios.bin
# The ESP is a flat ATA disk: Bochs requires size == cylinders * heads * spt * 512.
ESP_HEADS=16 ESP_SPT=63
MODELS="tigerlake corei7_skylake_x corei7_sandy_bridge_2600k corei5_lynnfield_750
core2_penryn_t9600 ryzen phenom_8650_toliman turion64_tyler"

usage() {
    cat <<EOF
usage: run-bochs.sh (--esp IMG | --iso IMG) [options]
  --esp IMG        FAT ESP image (a flat disk, size a multiple of $ESP_HEADS*$ESP_SPT*512 bytes),
                   booted by OVMF ($OVMF_FD)
  --iso IMG        GRUB rescue ISO on the CD-ROM, booted by the Bochs BIOS (Multiboot2)
  --cpu MODEL      Bochs CPU model (default tigerlake). Intel VT-x: tigerlake,
                   corei7_skylake_x, corei7_sandy_bridge_2600k, corei5_lynnfield_750,
                   core2_penryn_t9600; AMD-V: ryzen, phenom_8650_toliman, turion64_tyler
                   (run 'bochs-bin --help cpu' for the others; --any-cpu accepts them)
  --smp N          CPUs (default 1)
  --mem MIB        guest RAM in MiB (default 512)
  --serial PATH    write COM1 to PATH (default: shown live on stdout, Bochs' own
                   messages go to stderr)
  --serial2 PATH   also a COM2, written to PATH
  --rc-line TEXT   append TEXT to the bochsrc (repeatable), e.g. 'usb_uhci: enabled=1'
  --log PATH       Bochs' own log (default: build/bochs.log in the repository); grep it for
                   'VMFAIL|VMENTER FAIL|Guest State Checks|VMABORT' after a failed VM entry
  --timeout SECS   kill Bochs after SECS seconds (exit status 124)
  --keep-rc PATH   also copy the generated bochsrc to PATH
  --dry-run        print the bochsrc and the command line, then exit
Exit status: Bochs' own. The kernel ends Bochs by writing "Shutdown" to port 0x8900, which
Bochs treats as a panic: the status is 1 on success too, so judge a run by its serial log.
EOF
}

die() { echo "run-bochs.sh: $*" >&2; exit 2; }
need_val() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$1 needs a value"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
# Bochs option values are double-quoted in the bochsrc; refuse what would break the quoting.
rc_path() { [[ "$1" != *\"* && "$1" != *$'\n'* ]] || die "unusable path for Bochs: $1"; abspath "$1"; }

image="" kind="" cpu=tigerlake any_cpu=0 smp=1 mem=512 serial="" serial2="" rc_lines=() log="" timeout_s="" keep_rc="" dry=0
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
        --cpu)      need_val "$@"; cpu="$2"; shift 2 ;;
        --any-cpu)  any_cpu=1; shift ;;
        --smp)      need_val "$@"; smp="$2"; shift 2 ;;
        --mem)      need_val "$@"; mem="$2"; shift 2 ;;
        --serial)   need_val "$@"; serial="$2"; shift 2 ;;
        --serial2)  need_val "$@"; serial2="$2"; shift 2 ;;
        --rc-line)  need_val "$@"; rc_lines+=("$2"); shift 2 ;;
        --log)      need_val "$@"; log="$2"; shift 2 ;;
        --timeout)  need_val "$@"; timeout_s="$2"; shift 2 ;;
        --keep-rc)  need_val "$@"; keep_rc="$2"; shift 2 ;;
        --dry-run)  dry=1; shift ;;
        -h|--help)  usage; exit 0 ;;
        *)          usage >&2; die "unknown argument: $opt" ;;
    esac
done

[[ -n "$image" ]] || { usage >&2; die "no image: give --esp IMG or --iso IMG"; }
[[ -f "$image" ]] || die "image not found: $image"
if (( ! any_cpu )) && [[ " ${MODELS//$'\n'/ } " != *" $cpu "* ]]; then
    die "unknown --cpu '$cpu' (one of: ${MODELS//$'\n'/ }; or add --any-cpu)"
fi
[[ "$cpu" =~ ^[a-z0-9_]+$ ]] || die "bad CPU model name '$cpu'"
if ! is_uint "$smp" || (( smp < 1 || smp > 32 )); then die "--smp wants 1..32, got '$smp'"; fi
if ! is_uint "$mem" || (( mem < 32 || mem > 4096 )); then die "--mem wants 32..4096 MiB, got '$mem'"; fi
[[ -z "$timeout_s" ]] || { is_uint "$timeout_s" && (( timeout_s > 0 )); } ||
    die "--timeout wants seconds > 0, got '$timeout_s'"
[[ -r "$TEMPLATE" ]] || die "missing $TEMPLATE"
command -v bochs-bin >/dev/null || die "bochs-bin not found (install the bochs package)"
[[ -r "$VGA_BIOS" ]] || die "missing $VGA_BIOS (install the vgabios package)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-bochs.XXXXXX")
bochs_pid="" tail_pid=""
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    [[ -z "$bochs_pid" ]] || kill "$bochs_pid" 2>/dev/null || true
    [[ -z "$tail_pid" ]] || kill "$tail_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$kind" == esp ]]; then
    [[ -r "$OVMF_FD" ]] || die "missing $OVMF_FD (install the ovmf package)"
    size=$(stat -c %s "$image")
    chs=$(( ESP_HEADS * ESP_SPT * 512 ))
    (( size > 0 && size % chs == 0 )) ||
        die "$image: $size bytes is not a multiple of $chs (heads=$ESP_HEADS spt=$ESP_SPT)"
    cyls=$(( size / chs ))
    # Bochs opens a flat disk read-write and puts a .lock file beside it: give it a copy.
    disk="$tmp/esp.img"
    (( dry )) || cp --reflink=auto "$image" "$disk"
    firmware="romimage: file=$OVMF_FD, address=0xffe00000"
    boot="ata0-master: type=disk, mode=flat, path=\"$disk\", cylinders=$cyls, heads=$ESP_HEADS, spt=$ESP_SPT
boot: disk"
else
    [[ -r "$BOCHS_BIOS" ]] || die "missing $BOCHS_BIOS (install the bochsbios package)"
    firmware="romimage: file=$BOCHS_BIOS"
    boot="ata1-master: type=cdrom, path=\"$(rc_path "$image")\", status=inserted
boot: cdrom"
fi

show_live=0
if [[ -z "$serial" ]]; then
    serial="$tmp/serial.txt"
    show_live=1
fi
serial=$(rc_path "$serial")
if [[ -z "$log" ]]; then
    log="$(cd "$here/.." && pwd)/build/bochs.log"
    (( dry )) || mkdir -p "${log%/*}"
fi
log=$(rc_path "$log")

rc=$(<"$TEMPLATE")
rc="${rc//@FIRMWARE@/$firmware}"
rc="${rc//@BOOT@/$boot}"
rc="${rc//@CPU_MODEL@/$cpu}"
rc="${rc//@CPU_COUNT@/$smp}"
rc="${rc//@MEM@/$mem}"
rc="${rc//@SERIAL@/$serial}"
rc="${rc//@LOG@/$log}"
[[ -z "$serial2" ]] || rc+=$'\n'"com2: enabled=1, mode=file, dev=\"$(rc_path "$serial2")\""
for line in "${rc_lines[@]}"; do rc+=$'\n'"$line"; done
[[ "$rc" != *@[A-Z_]*@* ]] || die "unfilled marker in the bochsrc: $(grep -o '@[A-Z_]*@' <<<"$rc" | head -1)"
printf '%s\n' "$rc" >"$tmp/bochsrc"
# Debugger commands: run until the simulation ends, then leave without a prompt.
printf 'c\nquit\n' >"$tmp/cmds"
[[ -z "$keep_rc" ]] || cp "$tmp/bochsrc" "$keep_rc"

cmd=(bochs-bin -q -f "$tmp/bochsrc" -rc "$tmp/cmds")
[[ -z "$timeout_s" ]] || cmd=(timeout --foreground -k 5 "$timeout_s" "${cmd[@]}")
echo "${cmd[*]} </dev/null   # serial: $serial  log: $log" >&2
if (( dry )); then
    cat "$tmp/bochsrc"
    exit 0
fi

: >"$serial"   # a fresh log, and one that exists for tail from the start

# Bochs runs in the background so this shell can stream the serial file and still
# react to signals; stdin is /dev/null so the debugger prompt never waits for a human.
# Its own chatter goes to stderr: stdout carries only the guest's serial console.
"${cmd[@]}" </dev/null >&2 &
bochs_pid=$!
if (( show_live )); then
    tail -n +1 -F --pid="$bochs_pid" "$serial" 2>/dev/null &
    tail_pid=$!
fi
status=0
wait "$bochs_pid" || status=$?
bochs_pid=""
if [[ -n "$tail_pid" ]]; then
    wait "$tail_pid" 2>/dev/null || true   # tail prints what is left, then sees Bochs gone
    tail_pid=""
fi
exit "$status"
