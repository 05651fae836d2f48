; SPDX-License-Identifier: Apache-2.0
; Console input test guest (vCPU 0; the others exit at once): reads its UART the way a polled
; driver does -- LSR.DR (bit 0) says a byte waits in RBR -- and halts while nothing came (Moat
; wakes it at the next tick). Each line it receives (ended by CR or LF) comes back as
; "echo: <line>"; the line "quit" ends the partition with status 0.
%include "tests/guests/guest.inc"
bits 64
org 0x100000

%define LSR (COM1 + 5)
%define LSR_DR 0x01
%define LINE_MAX 100

start:
    cli
    mov r12, rdi
    DETECT_VENDOR rel is_intel
    test r12, r12
    jnz done
    mov dx, COM1 + 2                ; FCR: FIFOs on, both cleared (16550 datasheet, FCR)
    mov al, 0x07
    out dx, al
    lea rsi, [rel s_ready]
    call put_str
    call put_nl
    xor ebx, ebx                    ; bytes in line
.poll:
    mov dx, LSR
    in al, dx
    test al, LSR_DR
    jnz .byte
    hlt
    jmp .poll
.byte:
    mov dx, COM1
    in al, dx
    cmp al, 13
    je .eol
    cmp al, 10
    je .eol
    cmp ebx, LINE_MAX
    jae .poll                       ; too long: the rest is ignored
    lea rdi, [rel line]
    mov [rdi + rbx], al
    inc ebx
    jmp .poll
.eol:
    test ebx, ebx
    jz .poll                        ; CR LF: the empty line between is no line
    cmp ebx, 4
    jne .say
    cmp dword [rel line], 'quit'
    je done
.say:
    lea rsi, [rel s_echo]
    call put_str
    lea rsi, [rel line]
    mov ecx, ebx
    call put_bytes
    call put_nl
    xor ebx, ebx
    jmp .poll

done:
    EXIT_OK rel is_intel

DEFINE_PUT64

is_intel: db 0
s_ready:  db "echo: ready", 0
s_echo:   db "echo: ", 0
line:     times LINE_MAX db 0
