; SPDX-License-Identifier: Apache-2.0
; AP start-up trampoline. kernel/smp.c copies [trampoline_start, trampoline_end) to a page
; below 1 MiB and sends STARTUP IPIs naming that page: the AP begins in real mode at CS:0 with
; CS = page << 8 (SDM vol. 3A 8.4.4.1). The code is position-independent: it derives its linear
; base from CS and patches its own far-jump pointers. It goes real -> protected (flat 32-bit) ->
; long mode (SDM vol. 3A 9.8.5: PAE, CR3, EFER.LME, then CR0.PG) and calls the C entry with
; the parameters smp.c wrote into the block at trampoline_params.

bits 16
section .rodata
align 16
global trampoline_start
global trampoline_end
global trampoline_params

%define OFF(label) ((label) - trampoline_start)

trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                          ; ebx = linear base of this page
    lea eax, [ebx + OFF(tr_gdt)]
    mov [OFF(tr_gdtr) + 2], eax
    lea eax, [ebx + OFF(tr_pm32)]
    mov [OFF(tr_far32)], eax
    lea eax, [ebx + OFF(tr_lm64)]
    mov [OFF(tr_far64)], eax
    o32 lgdt [OFF(tr_gdtr)]
    mov eax, cr0
    or eax, 1                           ; CR0.PE
    mov cr0, eax
    o32 jmp far [OFF(tr_far32)]

bits 32
tr_pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, (1 << 5) | (1 << 7)         ; PAE, PGE
    mov cr4, eax
    mov eax, [ebx + OFF(trampoline_params) + 0]   ; cr3 (below 4 GiB)
    mov cr3, eax
    mov ecx, 0xc0000080                 ; IA32_EFER
    rdmsr
    or eax, (1 << 8)                    ; LME
    wrmsr
    mov eax, cr0
    and eax, ~((1 << 30) | (1 << 29))   ; CD, NW: INIT leaves the caches disabled (SDM 9.1.1)
    or eax, (1 << 31) | (1 << 16) | (1 << 5) | 1   ; PG, WP, NE, PE
    mov cr0, eax
    jmp far [ebx + OFF(tr_far64)]

bits 64
tr_lm64:
    mov ebx, ebx                        ; upper halves are undefined after the mode switch
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, [rbx + OFF(trampoline_params) + 8]
    mov rdi, [rbx + OFF(trampoline_params) + 24]
    mov rax, [rbx + OFF(trampoline_params) + 16]
    xor ebp, ebp
    call rax
.hang:
    cli
    hlt
    jmp .hang

align 8
tr_gdt:
    dq 0
    dq 0x00cf9a000000ffff               ; 0x08: flat 32-bit code
    dq 0x00cf92000000ffff               ; 0x10: flat data
    dq 0x00af9a000000ffff               ; 0x18: 64-bit code
tr_gdtr:
    dw 4 * 8 - 1
    dd 0                                ; patched: linear address of tr_gdt
align 4
tr_far32:
    dd 0                                ; patched: linear address of tr_pm32
    dw 0x08
align 4
tr_far64:
    dd 0                                ; patched: linear address of tr_lm64
    dw 0x18
align 8
trampoline_params:                      ; struct trampoline_params in kernel/smp.c
    dq 0                                ; +0  cr3
    dq 0                                ; +8  stack top
    dq 0                                ; +16 C entry
    dq 0                                ; +24 argument (struct percpu *)
trampoline_end:

section .note.GNU-stack noalloc noexec nowrite progbits
