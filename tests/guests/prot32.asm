; SPDX-License-Identifier: Apache-2.0
; Test guest for the 32-bit protected-mode entry (paging off): checks CR0, CPUID's hypervisor
; leaf, prints the result on COM1 and exits through the hypercall.
%include "tests/guests/guest.inc"
bits 32
org 0x100000

start:
    mov ebp, edi                    ; vCPU id
    DETECT_VENDOR is_intel

    mov eax, cr0
    mov esi, s_mode
    test eax, 0x80000000            ; PG must be clear, PE set
    jnz .fail
    test eax, 1
    jz .fail
    mov eax, 0x40000000
    cpuid
    cmp ebx, 'Moat'
    jne .fail
    mov esi, s_pass
    jmp .out
.fail:
    mov esi, s_fail
.out:
    call print
    EXIT_OK is_intel

DEFINE_PRINT

is_intel: db 0
s_mode: db "FAIL prot32-cr0", 10, 0
s_pass: db "PASS prot32-entry", 10, 0
s_fail: db "FAIL prot32-entry", 10, 0
