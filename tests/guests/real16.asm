; SPDX-License-Identifier: Apache-2.0
; Test guest for the real-mode entry: runs at 1000:0000, checks CR0.PE is clear and CPUID's
; hypervisor leaf, prints the result on COM1 and exits through the hypercall.
%include "tests/guests/guest.inc"
bits 16
org 0

start:
    mov ax, cs
    mov ds, ax
    DETECT_VENDOR is_intel

    mov eax, cr0
    mov si, s_fail
    test al, 1                      ; PE must be clear
    jnz .out
    mov eax, 0x40000000
    cpuid
    cmp ebx, 'Moat'
    jne .out
    mov si, s_pass
.out:
    call print
    EXIT_OK is_intel

DEFINE_PRINT

is_intel: db 0
s_pass: db "PASS real-mode-entry", 10, 0
s_fail: db "FAIL real-mode-entry", 10, 0
