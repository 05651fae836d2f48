#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes sure the Debian 12 packages Moat builds and tests with are installed.
# As root: installs what is missing with apt-get. Otherwise: prints the exact apt-get line and
# fails. `--install` only differs in saying so when everything is already there.
set -euo pipefail

PACKAGES=(
    gcc make binutils nasm gnu-efi          # toolchain, UEFI loader
    mtools xorriso grub-common grub-pc-bin grub-efi-amd64-bin   # ESP and GRUB ISO images
    qemu-system-x86 ovmf                    # AMD-V path, UEFI firmware
    bochs bochsbios vgabios                 # Intel VT-x path (and stricter AMD-V)
    libcmocka-dev python3 python3-pytest python3-pexpect    # unit and system tests
    clang libclang-rt-14-dev                # libFuzzer for the parser fuzz targets
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    [ "${1:-}" = "--install" ] && echo "deps: all ${#PACKAGES[@]} packages are installed"
    exit 0
fi

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them as root with:  apt-get update && $line" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
