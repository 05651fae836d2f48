; SPDX-License-Identifier: Apache-2.0
; The AMD-V world switch: an ordinary function that loads the guest's GPRs from struct vcpu,
; runs the guest with VMRUN until its next #VMEXIT, saves them back and returns to C. The
; VMCB, the host save area and the exit decoding belong to svm/svm.c.

bits 64
default rel

; struct vcpu starts with struct guest_gprs (kernel/vcpu.h): gpr[i] at 8 * i, x86 order.
%define GPR(i) (8 * (i))
%define RAX_ 0
%define RCX_ 1
%define RDX_ 2
%define RBX_ 3
%define RSP_ 4
%define RBP_ 5
%define RSI_ 6
%define RDI_ 7
; Guest RAX and RSP live in the VMCB state save area (APM vol. 2 table B-2), asserted in
; svm/vmcb.h as VMCB_RAX_OFF and VMCB_RSP_OFF.
%define VMCB_RAX 0x5f8
%define VMCB_RSP 0x5d8

section .text

; void svm_world_switch(struct vcpu *v, uint64_t vmcb_pa, uint64_t host_vmcb_pa)
;
; The VMCB is identity-mapped, so vmcb_pa is also its address. Sequence (APM vol. 2 15.5
; "VMRUN Instruction", 15.17 "Global Interrupt Flag, STGI and CLGI"):
;   CLGI               hold every interrupt, NMI and SMI from here to STGI
;   VMLOAD guest       FS, GS, TR, LDTR (hidden parts too), KernelGSBase, STAR/LSTAR/CSTAR/
;                      SFMASK, SYSENTER_*: VMRUN does not switch them (APM vol. 3 "VMLOAD")
;   VMRUN              saves host RSP/RIP/RFLAGS/RAX/CR*/EFER/segments in VM_HSAVE_PA and
;                      restores them on #VMEXIT; the other GPRs keep the guest's values
;   VMSAVE guest       the same set back into the guest VMCB
;   VMLOAD host        this CPU's own copy (GS base = its percpu, TR = its TSS with the IST
;                      stacks the NMI and #DF handlers need)
;   STGI               what arrived meanwhile (an NMI that caused the exit, say) is taken now
global svm_world_switch
svm_world_switch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdx                        ; [rsp + 8]: host VMCB
    push rdi                        ; [rsp]: struct vcpu *

    mov rax, rsi
    mov rcx, [rdi + GPR(RAX_)]
    mov [rax + VMCB_RAX], rcx
    mov rcx, [rdi + GPR(RSP_)]
    mov [rax + VMCB_RSP], rcx

    ; GIF=0 holds host interrupts off from here to VMRUN; STI makes the host's RFLAGS.IF,
    ; which VMRUN saves, 1: with V_INTR_MASKING that saved IF is what lets physical
    ; interrupts reach the INTR intercept while the guest runs, whatever the guest's own IF
    ; (APM vol. 2 15.17 "Global Interrupt Flag", 15.21.1 "Physical Interrupt Masking").
    ; Without it a guest that spins never gives its CPU back.
    clgi
    sti
    vmload                          ; [rax]: the guest's FS, GS, TR, LDTR, ...
    mov rcx, [rdi + GPR(RCX_)]
    mov rdx, [rdi + GPR(RDX_)]
    mov rbx, [rdi + GPR(RBX_)]
    mov rbp, [rdi + GPR(RBP_)]
    mov rsi, [rdi + GPR(RSI_)]
    mov r8,  [rdi + GPR(8)]
    mov r9,  [rdi + GPR(9)]
    mov r10, [rdi + GPR(10)]
    mov r11, [rdi + GPR(11)]
    mov r12, [rdi + GPR(12)]
    mov r13, [rdi + GPR(13)]
    mov r14, [rdi + GPR(14)]
    mov r15, [rdi + GPR(15)]
    mov rdi, [rdi + GPR(RDI_)]

    vmrun                           ; [rax]
    ; #VMEXIT: RAX = guest VMCB again (host RAX), RSP = as pushed above, GIF = 0.
    vmsave                          ; [rax]

    push rdi
    mov rdi, [rsp + 8]
    pop qword [rdi + GPR(RDI_)]
    mov [rdi + GPR(RCX_)], rcx
    mov [rdi + GPR(RDX_)], rdx
    mov [rdi + GPR(RBX_)], rbx
    mov [rdi + GPR(RBP_)], rbp
    mov [rdi + GPR(RSI_)], rsi
    mov [rdi + GPR(8)], r8
    mov [rdi + GPR(9)], r9
    mov [rdi + GPR(10)], r10
    mov [rdi + GPR(11)], r11
    mov [rdi + GPR(12)], r12
    mov [rdi + GPR(13)], r13
    mov [rdi + GPR(14)], r14
    mov [rdi + GPR(15)], r15
    mov rcx, [rax + VMCB_RAX]
    mov [rdi + GPR(RAX_)], rcx
    mov rcx, [rax + VMCB_RSP]
    mov [rdi + GPR(RSP_)], rcx

    mov rax, [rsp + 8]
    vmload                          ; [rax]: the host's own
    cli                             ; the caller runs with interrupts off, as it called us
    stgi

    add rsp, 16
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
