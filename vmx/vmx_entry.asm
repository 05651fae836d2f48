; SPDX-License-Identifier: Apache-2.0
; The VT-x world switch: an ordinary C-callable function that loads the guest's GPRs from
; struct guest_gprs (register-number order; RSP lives in the VMCS), enters with VMLAUNCH or
; VMRESUME, and at the VM exit saves them back and returns to C. Offsets and encodings used
; here are asserted in vmx/vmx_internal.h and vmx/vmcs_fields.h.

bits 64
default rel

%define VX_HOST_RSP   0x00       ; struct vmx_vcpu.host_rsp
%define VX_LAUNCHED   0x08       ; struct vmx_vcpu.launched
%define VMCS_HOST_RSP 0x6c14     ; SDM vol. 3D B.4.4

%define VMX_FAIL_INVALID 1      ; enum in vmx/vmx_internal.h
%define VMX_FAIL_VALID   2

%define G_RAX 0*8
%define G_RCX 1*8
%define G_RDX 2*8
%define G_RBX 3*8
%define G_RBP 5*8
%define G_RSI 6*8
%define G_RDI 7*8
%define G_R8  8*8
%define G_R9  9*8
%define G_R10 10*8
%define G_R11 11*8
%define G_R12 12*8
%define G_R13 13*8
%define G_R14 14*8
%define G_R15 15*8

section .text

; struct vmx_switch_result vmx_world_switch(struct guest_gprs *regs /* rdi */,
;                                           struct vmx_vcpu *vx /* rsi */)
; Returns regs in rdx and in rax 0 after a VM exit, 1 for VMfailInvalid (CF), 2 for VMfailValid (ZF): SDM vol. 3C
; 31.2 "Conventions". Called with interrupts disabled: a VM exit loads RFLAGS with only bit 1
; set (28.5.3 "Loading Host RIP, RSP, RFLAGS, and SSP"), so it returns with them disabled.
global vmx_world_switch
global vmx_exit_landing
vmx_world_switch:
    push    rbp
    push    rbx
    push    r12
    push    r13
    push    r14
    push    r15
    push    rdi                         ; the exit finds regs at [rsp]
    ; HOST_RSP is this very stack pointer: write it only when it moved since the last entry.
    cmp     rsp, [rsi + VX_HOST_RSP]
    je      .rsp_ok
    mov     [rsi + VX_HOST_RSP], rsp
    mov     eax, VMCS_HOST_RSP
    vmwrite rax, rsp
.rsp_ok:
    cmp     byte [rsi + VX_LAUNCHED], 0 ; MOVs below leave the flags alone
    mov     rax, [rdi + G_RAX]
    mov     rcx, [rdi + G_RCX]
    mov     rdx, [rdi + G_RDX]
    mov     rbx, [rdi + G_RBX]
    mov     rbp, [rdi + G_RBP]
    mov     rsi, [rdi + G_RSI]
    mov     r8,  [rdi + G_R8]
    mov     r9,  [rdi + G_R9]
    mov     r10, [rdi + G_R10]
    mov     r11, [rdi + G_R11]
    mov     r12, [rdi + G_R12]
    mov     r13, [rdi + G_R13]
    mov     r14, [rdi + G_R14]
    mov     r15, [rdi + G_R15]
    mov     rdi, [rdi + G_RDI]
    jne     .resume
    vmlaunch
    jmp     .failed
.resume:
    vmresume
.failed:
    ; Still on the host stack with the host's state; the GPRs hold guest values (the C caller
    ; treats rax, rcx, rdx, rsi, rdi, r8-r11 as clobbered; the rest is restored below).
    mov     eax, VMX_FAIL_VALID
    mov     ecx, VMX_FAIL_INVALID
    cmovc   eax, ecx
    pop     rdx                         ; regs, the second return value
    jmp     vmx_switch_return

; HOST_RIP. RSP = HOST_RSP: [rsp] holds regs. Every flag and interrupt is off here.
vmx_exit_landing:
    push    rdi
    mov     rdi, [rsp + 8]
    mov     [rdi + G_RAX], rax
    mov     [rdi + G_RCX], rcx
    mov     [rdi + G_RDX], rdx
    mov     [rdi + G_RBX], rbx
    mov     [rdi + G_RBP], rbp
    mov     [rdi + G_RSI], rsi
    mov     [rdi + G_R8],  r8
    mov     [rdi + G_R9],  r9
    mov     [rdi + G_R10], r10
    mov     [rdi + G_R11], r11
    mov     [rdi + G_R12], r12
    mov     [rdi + G_R13], r13
    mov     [rdi + G_R14], r14
    mov     [rdi + G_R15], r15
    pop     qword [rdi + G_RDI]
    pop     rdx                         ; regs, the second return value
    xor     eax, eax
vmx_switch_return:
    pop     r15
    pop     r14
    pop     r13
    pop     r12
    pop     rbx
    pop     rbp
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
