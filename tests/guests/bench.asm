; SPDX-License-Identifier: Apache-2.0
; Exit round-trip benchmark guest (vCPU 0 only; the others exit at once). For each kind of
; exit it times N round trips with RDTSC and prints "BENCH <name> <tsc ticks> <N>" in hex on
; COM1; "BENCH nop ..." times a loop of 16 one-byte NOPs per iteration, so the host script can
; turn ticks into instructions (under QEMU -icount and Bochs clock sync=none the TSC counts
; retired instructions at a fixed rate). scripts/bench.py reads the lines.
; With the argument string "peer" it only yields, forever: run beside the benchmark on the same
; CPU it makes each of the benchmark's yields a switch to another partition and back.
%include "tests/guests/guest.inc"
bits 64
org 0x100000

%define N 2000

start:
    cli
    mov r12, rdi
    mov r13, rdx                    ; the argument string (docs/guest-abi.md)
    DETECT_VENDOR rel is_intel
    cmp dword [r13], 'peer'
    je peer
    test r12, r12
    jnz exit

    ; calibration: N * (16 NOPs + DEC + JNZ) = 18 instructions per iteration
    lea rsi, [rel n_nop]
    mov ecx, N
    call tsc_start
.nop:
    times 16 nop
    dec ecx
    jnz .nop
    call tsc_stop

    ; empty loop (DEC + JNZ): subtracted from every measurement
    lea rsi, [rel n_loop]
    mov ecx, N
    call tsc_start
.loop:
    dec ecx
    jnz .loop
    call tsc_stop

    lea rsi, [rel n_cpuid]
    mov r8d, N
    call tsc_start
.cpuid:
    mov eax, 0x40000000
    xor ecx, ecx
    cpuid
    dec r8d
    jnz .cpuid
    call tsc_stop

    lea rsi, [rel n_pio]
    mov ecx, N
    call tsc_start
    mov dx, COM1 + 7                ; the scratch register of the partition's UART
.pio:
    in al, dx
    dec ecx
    jnz .pio
    call tsc_stop

    lea rsi, [rel n_msr]
    mov r8d, N
    call tsc_start
.msr:
    mov ecx, 0xc0000080             ; EFER: held by the backend
    rdmsr
    dec r8d
    jnz .msr
    call tsc_stop

    lea rsi, [rel n_hcall]
    mov r8d, N
    call tsc_start
.hc:
    mov eax, HC_VERSION
    HYPERCALL rel is_intel
    dec r8d
    jnz .hc
    call tsc_stop

    ; a PCI config-space read: CONFIG_ADDRESS (0xCF8) then CONFIG_DATA (0xCFC), two exits
    lea rsi, [rel n_pcicfg]
    mov r8d, N
    call tsc_start
.pcicfg:
    mov dx, 0xcf8
    mov eax, 0x80000000             ; bus 0, device 0, function 0, register 0: the IDs
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    dec r8d
    jnz .pcicfg
    call tsc_stop

    ; the same read through ECAM (base from Moat's PCI leaf): one MMIO exit, decoded and emulated
    mov eax, 0x40000002
    xor ecx, ecx
    cpuid                           ; EBX:EAX = the ECAM base
    shl rbx, 32
    mov r14d, eax
    or r14, rbx
    lea rsi, [rel n_pciecam]
    mov r8d, N
    call tsc_start
.pciecam:
    mov eax, [r14]                  ; 00:00.0, register 0
    dec r8d
    jnz .pciecam
    call tsc_stop

    ; yield: with a peer partition on this CPU, two partition switches per round trip
    lea rsi, [rel n_yield]
    mov r8d, N
    call tsc_start
.yield:
    mov eax, HC_YIELD
    HYPERCALL rel is_intel
    dec r8d
    jnz .yield
    call tsc_stop

exit:
    EXIT_OK rel is_intel

peer:
    mov eax, HC_YIELD
    HYPERCALL rel is_intel
    jmp peer

; tsc_start: remember the TSC (in r9) and the name (in r10). Preserves ecx and r8.
tsc_start:
    mov r10, rsi
    push rcx
    lfence
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r9, rax
    pop rcx
    ret

; tsc_stop: print "BENCH <name> <ticks> <N>".
tsc_stop:
    lfence
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r9
    mov rbx, rax
    lea rsi, [rel s_bench]
    call print
    mov rsi, r10
    call print
    mov al, ' '
    call putc
    mov rax, rbx
    call hex
    mov al, ' '
    call putc
    mov eax, N
    call hex
    mov al, 10
    call putc
    ret

hex:                                ; RAX in hex, no leading zeros
    mov rbx, rax
    mov ecx, 64
    xor edi, edi                    ; printed a digit yet
.h:
    sub ecx, 4
    mov rax, rbx
    shr rax, cl
    and eax, 15
    test edi, edi
    jnz .emit
    test eax, eax
    jnz .emit
    test ecx, ecx
    jnz .skip
.emit:
    mov edi, 1
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'a' - '9' - 1
.d:
    call putc
.skip:
    test ecx, ecx
    jnz .h
    ret

putc:
    push rdx
    mov dx, COM1
    out dx, al
    pop rdx
    ret

DEFINE_PRINT

is_intel: db 0
s_bench: db "BENCH ", 0
n_nop:   db "nop", 0
n_loop:  db "loop", 0
n_cpuid: db "cpuid", 0
n_pio:   db "pio", 0
n_msr:   db "msr", 0
n_hcall: db "hypercall", 0
n_yield: db "yield", 0
n_pcicfg: db "pcicfg", 0
n_pciecam: db "pciecam", 0
