; SPDX-License-Identifier: Apache-2.0
; Test guest for the real-mode entry: runs at 1000:0000, checks CR0.PE is clear and CPUID's
; hypervisor leaf, prints the result on COM1 and exits through the hypercall.
%include "tests/guests/guest.inc"
bits 16
org 0

start:
    mov ax, cs
    mov ds, ax
    xor eax, eax
    cpuid
    xor al, al
    cmp ebx, 'Genu'
    sete al
    mov [is_intel], al

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
    mov eax, HC_EXIT
    xor edi, edi
    cmp byte [is_intel], 0
    je .amd
    VMCALL_INSN
    jmp .hang
.amd:
    VMMCALL_INSN
.hang:
    hlt
    jmp .hang

print:
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .end
    out dx, al
    jmp .next
.end:
    ret

is_intel: db 0
s_pass: db "PASS real-mode-entry", 10, 0
s_fail: db "FAIL real-mode-entry", 10, 0
