; SPDX-License-Identifier: Apache-2.0
; Kernel entry from the UEFI loader (long mode, RDI = struct boot_info *) and the 256 interrupt
; stubs. Each stub makes the stack look the same (error code or 0, vector) and jumps to one
; common path that saves the GPRs in struct trap_frame order (kernel/trap.h) and calls C.

bits 64
default rel

extern kernel_main
extern trap_dispatch

section .bss
align 16
global bsp_stack_top
bsp_stack:
    resb 16384
bsp_stack_top:

section .text
global kernel_entry64
kernel_entry64:
    cli
    cld
    lea rsp, [bsp_stack_top]
    xor ebp, ebp
    ; RDI (boot_info) passes straight through as kernel_main's first argument.
    call kernel_main
.hang:
    cli
    hlt
    jmp .hang

; Exceptions that push an error code (SDM vol. 3A 6.13, table 6-1).
%define HAS_ERROR(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%macro STUB 1
align 16
isr_stub_%1:
%if !HAS_ERROR(%1)
    push 0
%endif
    push %1
    jmp trap_common
%endmacro

%assign v 0
%rep 256
    STUB v
%assign v v+1
%endrep

trap_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    ; Align the stack for the C ABI; rbx is callee-saved and holds the frame pointer.
    mov rbx, rsp
    and rsp, -16
    call trap_dispatch
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16             ; vector and error code
    iretq

section .rodata
align 8
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 256
    dq isr_stub_%+v
%assign v v+1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
