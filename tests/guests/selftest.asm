; SPDX-License-Identifier: Apache-2.0
; Moat's first test guest, 64-bit. Every vCPU checks the exits the hypervisor handles (CPUID
; policy, port I/O, allowed and refused MSRs, hypercalls, HLT), printing one PASS or FAIL line
; per check on COM1, then leaves through the exit hypercall. With args "fault", vCPU 0 then
; waits for the others and writes outside the partition's memory; with "triple" it takes an
; exception with no usable IDT (a triple fault). Either way the hypervisor must stop the
; partition and say why.
; Entry (docs/guest-abi.md): RDI = vCPU id, RSI = vCPU count, RDX = args gpa, RCX = RAM size.

%include "tests/guests/guest.inc"
bits 64
org 0x100000

%define IDT_GPA     0x9000          ; 256 gates * 16 bytes
%define SHARED_GPA  0xa000          ; vCPU rendezvous counter
%define EFER        0xc0000080
%define FEATURE_CONTROL 0x3a
%define VM_CR       0xc0010114

start:
    cli
    mov r12, rdi                    ; vCPU id
    mov r13, rsi                    ; vCPU count
    mov r14, rdx                    ; args
    mov rbp, rcx                    ; RAM size
    xor r15d, r15d                  ; #GP count (the handler increments it)

    DETECT_VENDOR rel is_intel       ; Intel uses VMCALL, AMD VMMCALL

    ; IDT with a #GP handler at vector 13 (the others stay not-present: any other exception
    ; triple-faults, which the hypervisor reports).
    lea rax, [rel gp_handler]
    mov rdi, IDT_GPA + 13 * 16
    mov [rdi], ax                   ; offset 15:0
    mov word [rdi + 2], 0x08        ; selector: the 64-bit code segment of Moat's GDT
    mov word [rdi + 4], 0x8e00      ; present, DPL 0, 64-bit interrupt gate
    shr rax, 16
    mov [rdi + 6], ax               ; offset 31:16
    shr rax, 16
    mov [rdi + 8], eax              ; offset 63:32
    mov dword [rdi + 12], 0
    lidt [rel idtr]

    ; 1. the hypervisor leaf names Moat
    mov eax, 0x40000000
    cpuid
    cmp ebx, 'Moat'
    jne .f1
    cmp ecx, 'Moat'
    jne .f1
    cmp edx, 'Moat'
    jne .f1
    lea rsi, [rel s_cpuid_sig]
    call pass
    jmp .t2
.f1:
    lea rsi, [rel s_cpuid_sig]
    call fail

    ; 2. leaf 1: hypervisor bit set, VMX hidden, APIC ID = vCPU id
.t2:
    mov eax, 1
    cpuid
    lea rsi, [rel s_cpuid_leaf1]
    bt ecx, 31
    jnc .f2
    bt ecx, 5
    jc .f2
    shr ebx, 24
    cmp rbx, r12
    jne .f2
    call pass
    jmp .t3
.f2:
    call fail

    ; 3. SVM hidden
.t3:
    mov eax, 0x80000001
    cpuid
    lea rsi, [rel s_cpuid_svm]
    bt ecx, 2
    jc .f3
    call pass
    jmp .t4
.f3:
    call fail

    ; 4. an unclaimed port reads all ones at every width
.t4:
    mov dx, 0x510
    xor eax, eax
    in al, dx
    cmp al, 0xff
    jne .f4
    xor eax, eax
    in ax, dx
    cmp ax, 0xffff
    jne .f4
    xor eax, eax
    in eax, dx
    cmp eax, 0xffffffff
    jne .f4
    mov al, 0x5a
    out dx, al                      ; dropped
    lea rsi, [rel s_io_unclaimed]
    call pass
    jmp .t5
.f4:
    lea rsi, [rel s_io_unclaimed]
    call fail

    ; 5. COM1's line status says the transmitter is empty
.t5:
    mov dx, COM1 + 5
    in al, dx
    lea rsi, [rel s_io_lsr]
    test al, 0x20
    jz .f5
    call pass
    jmp .t6
.f5:
    call fail

    ; 6. an allowed MSR: EFER shows long mode, and not SVME
.t6:
    mov ecx, EFER
    mov rbx, r15
    rdmsr
    lea rsi, [rel s_msr_allowed]
    cmp rbx, r15
    jne .f6
    and eax, 0x1500
    cmp eax, 0x0500
    jne .f6
    call pass
    jmp .t7
.f6:
    call fail

    ; 7. refused MSRs raise #GP, for a read and for a write
.t7:
    mov rbx, r15
    mov ecx, FEATURE_CONTROL
    rdmsr
    mov ecx, VM_CR
    xor eax, eax
    xor edx, edx
    wrmsr
    lea rsi, [rel s_msr_refused]
    sub r15, rbx
    cmp r15, 2
    jne .f7
    call pass
    jmp .t8
.f7:
    call fail

    ; 8. hypercalls: version, then a line written through HC_WRITE
.t8:
    mov eax, HC_VERSION
    call hypercall
    lea rsi, [rel s_hc_version]
    cmp rax, 1
    jne .f8
    call pass
    jmp .t9
.f8:
    call fail
.t9:
    mov eax, HC_WRITE
    lea rdi, [rel s_hc_write]
    mov esi, s_hc_write_len
    call hypercall
    cmp rax, s_hc_write_len
    je .t10
    lea rsi, [rel s_hc_write_fail]
    call fail

    ; 10. HLT gives the CPU away and comes back
.t10:
    hlt
    lea rsi, [rel s_hlt]
    call pass

    ; Rendezvous: count this vCPU as done.
    lock inc dword [SHARED_GPA]
    lea rsi, [rel s_done]
    call print

    cmp r12, 0
    jne .exit
.wait:
    pause
    mov eax, [SHARED_GPA]
    cmp rax, r13
    jb .wait
    call com_check
    call pci_check
    cmp dword [r14], 'faul'
    je .outside
    cmp dword [r14], 'trip'
    jne .exit
    ; #UD with an empty IDT: no handler for #UD, none for #DF, so the CPU shuts down.
    lea rsi, [rel s_triple]
    call print
    lidt [rel empty_idtr]
    ud2
.outside:
    ; Write 4 KiB past the end of RAM: the hypervisor must stop the partition here.
    lea rsi, [rel s_fault]
    call print
    mov rax, rbp
    add rax, 0x1000
    mov qword [rax], 0x5a5a
    lea rsi, [rel s_fault_missed]
    call fail

.exit:
    EXIT_OK rel is_intel

; COM1 is a 16550A: the scratch register keeps a value, the divisor latch sits behind
; LCR.DLAB, and the FIFO-enabled IIR says 16550A (bits 7:6 = 11). vCPU 0 runs this once the
; others are done: they share the partition's UART, and their THR writes would land in the
; divisor latch while DLAB is set (as on real hardware).
com_check:
    mov dx, COM1 + 7
    mov al, 0x5a
    out dx, al
    in al, dx
    cmp al, 0x5a
    jne .fail
    mov dx, COM1 + 3
    mov al, 0x80                    ; DLAB
    out dx, al
    mov dx, COM1
    mov al, 0x01                    ; divisor 1: 115200 baud
    out dx, al
    in al, dx
    mov bl, al
    mov dx, COM1 + 3
    mov al, 0x03                    ; 8N1, DLAB off
    out dx, al
    cmp bl, 0x01
    jne .fail
    mov dx, COM1 + 2
    mov al, 0x07                    ; FCR: enable and clear the FIFOs
    out dx, al
    in al, dx                       ; IIR
    and al, 0xc0
    cmp al, 0xc0
    jne .fail
    lea rsi, [rel s_io_16550]
    jmp pass
.fail:
    lea rsi, [rel s_io_16550]
    jmp fail

; The partition's PCI bus through 0xCF8/0xCFC (PCI Local Bus 3.0, 3.2.2.3.2): Moat's host
; bridge (1b36:0008, class 06/00/00) at 00:00.0, nothing at 00:01.0, all ones with the
; enable bit clear. vCPU 0 only: the address latch is shared, as on hardware.
pci_check:
    mov dx, 0xcf8
    mov eax, 0x80000000             ; enable, bus 0, device 0, function 0, register 0
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x00081b36
    jne .fail
    mov dx, 0xcf8
    mov eax, 0x80000008             ; class code / revision
    out dx, eax
    mov dx, 0xcfe                   ; 16-bit read of the upper half: class and subclass
    in ax, dx
    cmp ax, 0x0600
    jne .fail
    mov dx, 0xcf8
    mov eax, 0x80000800             ; device 1: absent
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0xffffffff
    jne .fail
    mov dx, 0xcf8
    xor eax, eax                    ; enable bit clear
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0xffffffff
    jne .fail
    lea rsi, [rel s_pci]
    jmp pass
.fail:
    lea rsi, [rel s_pci]
    jmp fail

; #GP from RDMSR/WRMSR (both 2 bytes long): count it and step over the instruction.
gp_handler:
    add rsp, 8                      ; error code
    add qword [rsp], 2
    inc r15
    iretq

; hypercall: RAX = number, RDI/RSI/RDX = arguments; result in RAX.
hypercall:
    HYPERCALL rel is_intel
    ret

DEFINE_PRINT

pass:
    push rsi
    lea rsi, [rel s_pass]
    call print
    pop rsi
    call print
    jmp newline
fail:
    push rsi
    lea rsi, [rel s_fail]
    call print
    pop rsi
    call print
newline:
    push rsi
    lea rsi, [rel s_nl]
    call print
    pop rsi
    ret

align 8
empty_idtr:
    dw 0
    dq 0
idtr:
    dw 256 * 16 - 1
    dq IDT_GPA
is_intel: db 0

s_pass:          db "PASS ", 0
s_fail:          db "FAIL ", 0
s_nl:            db 10, 0
s_cpuid_sig:     db "cpuid-signature", 0
s_cpuid_leaf1:   db "cpuid-leaf1", 0
s_cpuid_svm:     db "cpuid-virt-hidden", 0
s_io_unclaimed:  db "io-unclaimed-all-ones", 0
s_io_lsr:        db "io-com1-lsr", 0
s_io_16550:      db "io-com1-16550", 0
s_pci:           db "pci-host-bridge", 0
s_msr_allowed:   db "msr-allowed", 0
s_msr_refused:   db "msr-refused-gp", 0
s_hc_version:    db "hypercall-version", 0
s_hc_write:      db "PASS hypercall-write", 10
s_hc_write_len   equ $ - s_hc_write
s_hc_write_fail: db "hypercall-write", 0
s_hlt:           db "hlt", 0
s_done:          db "DONE", 10, 0
s_fault:         db "writing outside memory", 10, 0
s_triple:        db "triple-faulting", 10, 0
s_fault_missed:  db "fault-not-caught", 0
