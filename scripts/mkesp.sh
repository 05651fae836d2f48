#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mkesp.sh OUT EFI_APP KERNEL [FILES...]: build a FAT16 "superfloppy" ESP image (no
# partition table) with mtools, no root and no mount: EFI/BOOT/BOOTX64.EFI = EFI_APP,
# EFI/MOAT/moat.elf = KERNEL, EFI/MOAT/<basename> = each FILE. 64 cylinders x 16 heads x
# 63 sectors x 512 bytes = 33030144 bytes, a geometry Bochs accepts for a flat ATA disk.
# Built as OUT.tmp and renamed, so OUT is either the old image or a complete new one.
set -eu

CYLS=64
HEADS=16
SPT=63
SECTORS=$((CYLS * HEADS * SPT))
NAME_MAX=63 # boot_module.name holds 63 characters and a NUL (common/boot_info.h)

die() {
    echo "mkesp: $*" >&2
    exit 1
}

[ $# -ge 3 ] || die "usage: mkesp.sh OUT EFI_APP KERNEL [FILES...]"
out=$1
app=$2
kernel=$3
shift 3

for tool in mformat mmd mcopy; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install the mtools package)"
done
[ -f "$app" ] || die "$app: no such file (the UEFI loader)"
[ -f "$kernel" ] || die "$kernel: no such file (the kernel)"

# Module names: unique, printable ASCII, short enough for boot_info, not the kernel's name.
seen=" "
for f in "$@"; do
    [ -f "$f" ] || die "$f: no such file"
    base=$(basename "$f")
    case "$base" in
    moat.elf | MOAT.ELF) die "$f: moat.elf is reserved for the kernel" ;;
    *[!\ -~]*) die "$f: file name is not printable ASCII" ;;
    esac
    [ ${#base} -le $NAME_MAX ] || die "$f: file name longer than $NAME_MAX characters"
    lower=$(printf '%s' "$base" | tr 'A-Z' 'a-z')
    case "$seen" in
    *" $lower "*) die "$f: a file named $base is already on the image (FAT ignores case)" ;;
    esac
    seen="$seen$lower "
done

tmp="$out.tmp"
trap 'rm -f "$tmp"' EXIT INT TERM
rm -f "$tmp"
# Sparse file of the exact size; mformat writes the FAT16 boot sector and tables into it.
dd if=/dev/zero of="$tmp" bs=512 count=0 seek=$SECTORS 2>/dev/null ||
    die "cannot create $tmp"
export MTOOLS_SKIP_CHECK=1
mformat -i "$tmp" -t $CYLS -h $HEADS -s $SPT -H 0 -m 0xf8 -N 4d4f4154 -v MOAT :: ||
    die "mformat failed on $tmp"
mmd -i "$tmp" ::/EFI ::/EFI/BOOT ::/EFI/MOAT || die "mmd failed on $tmp"

put() { # put SRC DEST
    if ! mcopy -i "$tmp" -o "$1" "::$2" 2>"$tmp.err"; then
        err=$(cat "$tmp.err")
        rm -f "$tmp.err"
        if echo "$err" | grep -qi "full"; then
            die "$1 does not fit: the image is $((SECTORS * 512)) bytes ($err)"
        fi
        die "mcopy $1 -> $2 failed: $err"
    fi
    rm -f "$tmp.err"
}

put "$app" /EFI/BOOT/BOOTX64.EFI
put "$kernel" /EFI/MOAT/moat.elf
for f in "$@"; do
    put "$f" "/EFI/MOAT/$(basename "$f")"
done

mv -f "$tmp" "$out"
trap - EXIT INT TERM
