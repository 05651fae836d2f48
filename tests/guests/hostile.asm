; SPDX-License-Identifier: Apache-2.0
; A 64-bit partition that attacks the hypervisor and its neighbours: it writes MSRs it must
; not own, pokes the reset, shutdown and interrupt-controller ports of the machine, reads and
; then writes guest-physical memory upward from 4 MiB until it is stopped, and spins with
; interrupts off. The steps are chosen by args (docs/guest-abi.md, "Test guests") and run on
; vCPU 0 in a fixed order; the other vCPUs halt for good. The test is what happens around
; it: Moat must refuse or contain each attack, say so, and keep every other partition running.
; Entry (docs/guest-abi.md): RDI = vCPU id, RDX = args gpa; long64 mode only.

%include "tests/guests/guest.inc"
bits 64
org 0x100000

%define IDT_GPA         0x9000              ; 256 gates * 16 bytes, after the args at 0x8000
%define VEC_GP          13

; Steps, in the order they run.
%define STEP_MSR        (1 << 0)
%define STEP_PORTS      (1 << 1)
%define STEP_SCAN_READ  (1 << 2)
%define STEP_SCAN_WRITE (1 << 3)
%define STEP_SPIN       (1 << 4)
%define STEP_FLOOD      (1 << 5)
%define FLOOD_CALLS     256         ; write hypercalls of FLOOD_BYTES each: 1 MiB of lines
%define FLOOD_BYTES     4096

%define SCAN_FROM       0x400000            ; 4 MiB: the smallest partition's end
%define SCAN_STEP       0x100000            ; one access per MiB
%define SCAN_REPORT     0x1000000           ; a progress line per 16 MiB
%define SCAN_END        0x100000000         ; Moat's long64 page tables map 4 GiB
%define SCAN_VALUE      0x6e6f6d6f72706563  ; "cepromon" in memory

; MSR table entries (16 bytes): index, operation, whether a #GP is the right answer, value.
%define MSR_READ        0                   ; RDMSR, remember the value
%define MSR_WRITE       1                   ; WRMSR value
%define MSR_WRITE_OR    2                   ; WRMSR (the value last read) | value
%define MSR_READ_CHECK  3                   ; RDMSR, must read back value
%macro MSR 4
    dd %1
    db %2, %3
    dw 0
    dq %4
%endmacro

start:
    cli
    mov r12, rdi
    mov rsi, rdx
    test r12, r12
    jnz park
    DETECT_VENDOR rel is_intel

    ; Steps from the args (any order, each at most once in effect), into R13.
    xor r13d, r13d
.arg:
    call words_next
    test rcx, rcx
    jz .args_done
    lea rdi, [rel step_names]
    mov edx, 1
.name:
    call word_is
    test eax, eax
    jnz .known
    shl edx, 1
.skip_name:                             ; to the next name in the list
    inc rdi
    cmp byte [rdi - 1], 0
    jne .skip_name
    cmp byte [rdi], 0
    jne .name
    push rsi
    lea rsi, [rel s_bad_step]
    call put_str
    pop rsi
    call put_bytes
    call put_nl
    EXIT_STATUS rel is_intel, 2
.known:
    or r13d, edx
    add rsi, rcx
    jmp .arg
.args_done:
    lea rsi, [rel s_start]
    call put_str
    call put_nl

    test r13d, STEP_MSR
    jz .no_msr
    call step_msr
.no_msr:
    test r13d, STEP_PORTS
    jz .no_ports
    call step_ports
.no_ports:
    test r13d, STEP_SCAN_READ
    jz .no_scan_read
    lea rsi, [rel s_scan_read]
    xor edi, edi
    call step_scan
.no_scan_read:
    test r13d, STEP_SCAN_WRITE
    jz .no_scan_write
    lea rsi, [rel s_scan_write]
    mov edi, 1
    call step_scan
.no_scan_write:
    test r13d, STEP_FLOOD
    jz .no_flood
    call step_flood
.no_flood:
    test r13d, STEP_SPIN
    jz .no_spin
    lea rsi, [rel s_spin]
    call put_str
    call put_nl
    cli
.spin:
    jmp .spin
.no_spin:
    lea rsi, [rel s_done]
    call put_str
    call put_nl
    EXIT_STATUS rel is_intel, 0

; ---- flood: 1 MiB of console lines as fast as the write hypercall takes them ------------
step_flood:
    lea rdi, [rel flood_buf]        ; FLOOD_BYTES / 64 lines of 63 'f's and a newline
    mov ecx, FLOOD_BYTES
    mov al, 'f'
    rep stosb
    lea rdi, [rel flood_buf + 63]
    mov ecx, FLOOD_BYTES / 64
.nl:
    mov byte [rdi], 10
    add rdi, 64
    dec ecx
    jnz .nl
    mov r14d, FLOOD_CALLS
.call:
    mov eax, HC_WRITE
    lea rdi, [rel flood_buf]
    mov esi, FLOOD_BYTES
    HYPERCALL rel is_intel
    dec r14d
    jnz .call
    lea rsi, [rel s_flood]
    call put_str
    call put_nl
    ret

; vCPUs other than 0: silent, halted for good (each tick that wakes us finds another HLT).
park:
    cli
    hlt
    jmp park

; ---- msr ----------------------------------------------------------------------------------
; Each access of msr_table in turn, with a #GP handler that steps over the faulting
; RDMSR/WRMSR. An access that gets the wrong answer (a #GP where none belongs, or none where
; one does) gets a line of its own. Registers: RBX entry, R8/R9 accesses that should #GP and
; did, R10/R11 accesses that should not and did.
step_msr:
    lea rsi, [rel s_msr_start]
    call put_str
    call put_nl
    call install_idt
    lea rbx, [rel msr_table]
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
.entry:
    mov rdi, [rel gp_count]
    mov ecx, [rbx]
    movzx esi, byte [rbx + 4]
    cmp esi, MSR_WRITE
    je .write
    cmp esi, MSR_WRITE_OR
    je .write_or
    xor eax, eax
    xor edx, edx
    rdmsr                           ; a #GP leaves EDX:EAX as they were: zero
    shl rdx, 32
    or rax, rdx
    cmp rdi, [rel gp_count]
    jne .judge
    mov [rel last_read], rax
    cmp esi, MSR_READ_CHECK
    jne .judge
    cmp rax, [rbx + 8]
    je .judge
    push rsi
    lea rsi, [rel s_msr]
    call put_str
    push rax
    mov eax, [rbx]
    xor ecx, ecx
    call put_hex
    lea rsi, [rel s_read_back]
    call put_str
    pop rax
    call put_hex
    lea rsi, [rel s_not]
    call put_str
    mov rax, [rbx + 8]
    call put_hex
    call put_nl
    pop rsi
    jmp .judge
.write_or:
    mov rax, [rel last_read]
    or rax, [rbx + 8]
    jmp .wrmsr
.write:
    mov rax, [rbx + 8]
.wrmsr:
    mov rdx, rax
    shr rdx, 32
    wrmsr
.judge:
    mov rax, [rel gp_count]
    sub rax, rdi                    ; 1: this access raised #GP
    cmp byte [rbx + 5], 0
    je .allowed
    inc r8
    add r9, rax
    test rax, rax
    jnz .next
    lea rdi, [rel s_no_gp]
    call msr_surprise
    jmp .next
.allowed:
    inc r10
    add r11, rax
    test rax, rax
    jz .next
    lea rdi, [rel s_gp]
    call msr_surprise
.next:
    add rbx, 16
    lea rax, [rel msr_table_end]
    cmp rbx, rax
    jb .entry

    lea rsi, [rel s_msr_allowed]
    call put_str
    mov rax, r11
    call put_dec
    lea rsi, [rel s_of]
    call put_str
    mov rax, r10
    call put_dec
    call put_nl
    lea rsi, [rel s_msr_gp]
    call put_str
    mov rax, r9
    call put_dec
    lea rsi, [rel s_of]
    call put_str
    mov rax, r8
    call put_dec
    call put_nl
    lea rsi, [rel s_msr_done]
    call put_str
    call put_nl
    ret

; msr_surprise: "hostile: msr 0xINDEX read|write: " and the text at RDI, for the entry at RBX.
msr_surprise:
    push rax
    push rcx
    push rsi
    lea rsi, [rel s_msr]
    call put_str
    mov eax, [rbx]
    xor ecx, ecx
    call put_hex
    lea rsi, [rel s_read]
    cmp byte [rbx + 4], MSR_WRITE
    jb .kind
    cmp byte [rbx + 4], MSR_WRITE_OR
    ja .kind
    lea rsi, [rel s_write]
.kind:
    call put_str
    mov rsi, rdi
    call put_str
    call put_nl
    pop rsi
    pop rcx
    pop rax
    ret

; install_idt: an IDT whose only present gate is #GP -> gp_handler (any other exception
; triple-faults, which Moat reports and which ends this partition only).
install_idt:
    lea rax, [rel gp_handler]
    mov rdi, IDT_GPA + VEC_GP * 16
    mov [rdi], ax                   ; offset 15:0
    mov word [rdi + 2], 0x08        ; Moat's 64-bit code segment
    mov word [rdi + 4], 0x8e00      ; present, DPL 0, 64-bit interrupt gate
    shr rax, 16
    mov [rdi + 6], ax               ; offset 31:16
    shr rax, 16
    mov [rdi + 8], eax              ; offset 63:32
    mov dword [rdi + 12], 0
    lidt [rel idtr]
    ret

; #GP from RDMSR/WRMSR (0F 32 / 0F 30, two bytes): count it and resume after the instruction.
gp_handler:
    add rsp, 8                      ; the error code
    add qword [rsp], 2
    inc qword [rel gp_count]
    iretq

; ---- ports --------------------------------------------------------------------------------
; Writes to ports the partition does not own, then reads a few back. Moat must drop the
; writes (reads see all ones); the machine staying up, and this vCPU reaching the next
; line, is the test.
step_ports:
    lea rsi, [rel s_ports_start]
    call put_str
    call put_nl
    lea rbx, [rel port_writes]
.write:
    movzx edx, word [rbx]
    mov eax, [rbx + 4]
    cmp byte [rbx + 2], 2
    je .word
    out dx, al
    jmp .next
.word:
    out dx, ax
.next:
    add rbx, 8
    lea rax, [rel port_writes_end]
    cmp rbx, rax
    jb .write

    ; Bochs' shutdown port takes the word "Shutdown" a byte at a time.
    lea rsi, [rel bochs_shutdown]
    mov dx, 0x8900
.shutdown:
    lodsb
    test al, al
    jz .read_back
    out dx, al
    jmp .shutdown

.read_back:
    lea rsi, [rel s_ports_read]
    call put_str
    lea rbx, [rel port_reads]
.read:
    mov al, ' '
    call put_char
    movzx eax, word [rbx]
    lea rsi, [rel s_0x]
    call put_str
    xor ecx, ecx
    call put_hex
    mov dx, ax
    mov al, '='
    call put_char
    in al, dx
    movzx eax, al
    mov cl, 2
    call put_hex
    add rbx, 2
    lea rax, [rel port_reads_end]
    cmp rbx, rax
    jb .read
    call put_nl
    lea rsi, [rel s_ports_done]
    call put_str
    call put_nl
    ret

; ---- scan-read, scan-write ----------------------------------------------------------------
; step_scan: one access per MiB from 4 MiB up to 4 GiB: a read (EDI = 0) or a write of
; SCAN_VALUE (EDI = 1). RSI = the step's name. Moat should stop the partition at the first
; address past its memory; a progress line follows the first access and every 16 MiB.
step_scan:
    push rsi
    lea rsi, [rel s_hostile]
    call put_str
    pop rsi
    call put_str
    lea rsi, [rel s_scan_start]
    call put_str
    call put_nl
    mov rbx, SCAN_FROM
    mov rcx, SCAN_VALUE
.access:
    test edi, edi
    jnz .write
    mov rax, [rbx]
    jmp .done
.write:
    mov [rbx], rcx
.done:
    cmp rbx, SCAN_FROM
    je .report
    test ebx, SCAN_REPORT - 1
    jnz .next
.report:
    lea rsi, [rel s_hostile_read]
    test edi, edi
    jz .say
    lea rsi, [rel s_hostile_write]
.say:
    call put_str
    mov rax, rbx
    push rcx
    xor ecx, ecx
    call put_hex
    pop rcx
    call put_nl
.next:
    add rbx, SCAN_STEP
    mov rax, SCAN_END
    cmp rbx, rax
    jb .access
    lea rsi, [rel s_scan_end]
    call put_str
    call put_nl
    ret

DEFINE_PUT64
DEFINE_WORDS64

align 8
gp_count:   dq 0
last_read:  dq 0
idtr:
    dw 256 * 16 - 1
    dq IDT_GPA

; Indices: Intel SDM vol. 4 table 2-2; AMD APM vol. 2 appendix A. Values are what an attacker
; would want: the APIC moved onto the I/O APIC, VMX locked on, SVM on in its own EFER, the host
; save area at host-physical 4 KiB, the MTRRs off (everything uncached).
align 8
msr_table:
    MSR 0x0000001b, MSR_WRITE,      1, 0xfec00900          ; IA32_APIC_BASE
    MSR 0x0000003a, MSR_WRITE,      1, 0x5                 ; IA32_FEATURE_CONTROL: lock + VMX
    MSR 0xc0000080, MSR_READ,       0, 0                   ; EFER (allowed)
    MSR 0xc0000080, MSR_WRITE_OR,   1, 0x1000              ; EFER | SVME
    MSR 0xc0000080, MSR_READ,       0, 0                   ; EFER again (allowed)
    MSR 0xc0010117, MSR_WRITE,      1, 0x1000              ; VM_HSAVE_PA
    MSR 0x00000480, MSR_READ,       1, 0                   ; IA32_VMX_BASIC
    MSR 0x00000176, MSR_WRITE,      0, 0x100000            ; IA32_SYSENTER_EIP (allowed)
    MSR 0x00000176, MSR_READ_CHECK, 0, 0x100000            ; ... and read back
    MSR 0x000002ff, MSR_WRITE,      1, 0                   ; IA32_MTRR_DEF_TYPE
    MSR 0x12345678, MSR_READ,       1, 0                   ; nobody's MSR
msr_table_end:

; Port writes (8 bytes each): port, size (1 or 2), value.
%macro PORT_OUT 3
    dw %1
    db %2, 0
    dd %3
%endmacro
align 8
port_writes:
    PORT_OUT 0x0cf9, 1, 0x06        ; reset control: hard reset
    PORT_OUT 0x0064, 1, 0xfe        ; 8042: pulse the reset line
    PORT_OUT 0x0092, 1, 0x01        ; system control port A: fast reset
    PORT_OUT 0x0020, 1, 0x11        ; master 8259: ICW1, re-initialise
    PORT_OUT 0x0021, 1, 0xff        ;   mask every IRQ
    PORT_OUT 0x00a0, 1, 0x11        ; slave 8259: ICW1
    PORT_OUT 0x00a1, 1, 0xff        ;   mask every IRQ
    PORT_OUT 0x0043, 1, 0x30        ; 8254: channel 0, one-shot
    PORT_OUT 0x0040, 1, 0x01        ;   count 1, low byte
    PORT_OUT 0x0040, 1, 0x00        ;   high byte
    PORT_OUT 0x0070, 1, 0x8f        ; CMOS: NMI off, shutdown status byte
    PORT_OUT 0x0071, 1, 0x0a        ;   "jump via 40:67 on reset"
    PORT_OUT 0x0080, 1, 0x55        ; POST code
    PORT_OUT 0x0402, 1, 'h'         ; firmware debug console
    PORT_OUT 0x0604, 2, 0x2000      ; QEMU q35 ACPI PM1a control: S5 (power off)
    PORT_OUT 0xb004, 2, 0x2000      ; Bochs / QEMU i440fx ACPI: power off
    PORT_OUT 0x00f4, 1, 0x01        ; isa-debug-exit: end QEMU with status 3
port_writes_end:
port_reads:
    dw 0x21, 0x64, 0x71, 0x92, 0xcf9
port_reads_end:
bochs_shutdown: db "Shutdown", 0

is_intel:       db 0
step_names:     db "msr", 0, "ports", 0, "scan-read", 0, "scan-write", 0, "spin", 0, "flood", 0, 0
s_hostile:      db "hostile: ", 0
s_start:        db "hostile: start", 0
s_bad_step:     db "hostile: unknown step ", 0
s_msr_start:    db "hostile: msr start", 0
s_msr:          db "hostile: msr 0x", 0
s_read:         db " read: ", 0
s_write:        db " write: ", 0
s_gp:           db "#GP (expected none)", 0
s_no_gp:        db "no #GP (expected one)", 0
s_read_back:    db " read back 0x", 0
s_not:          db ", wrote 0x", 0
s_msr_allowed:  db "hostile: msr allowed gp ", 0
s_msr_gp:       db "hostile: msr gp ", 0
s_of:           db " of ", 0
s_msr_done:     db "hostile: msr done", 0
s_ports_start:  db "hostile: ports start", 0
s_ports_read:   db "hostile: ports read", 0
s_0x:           db "0x", 0
s_ports_done:   db "hostile: ports done", 0
s_scan_read:    db "scan-read", 0
s_scan_write:   db "scan-write", 0
s_scan_start:   db " start", 0
s_hostile_read: db "hostile: read 0x", 0
s_hostile_write: db "hostile: write 0x", 0
s_scan_end:     db "hostile: scan reached 4 GiB", 0
s_spin:         db "hostile: spinning with interrupts off", 0
s_flood:        db "hostile: flood done", 0
s_done:         db "hostile: done", 0

align 64
flood_buf:      times FLOOD_BYTES db 0
