; SPDX-License-Identifier: Apache-2.0
; A 64-bit partition that probes its PCI bus 0 (docs/guest-abi.md, "PCI", and "Test guests"):
; every function through 0xCF8/0xCFC and through ECAM (base from CPUID 0x40000002), both must
; agree; every BAR sized through both; absent functions read all ones before and after writes;
; reads of every width through ECAM. With the arguments `ivshmem left` or `ivshmem right` it
; then talks to its peer through the first ivshmem device: left writes a message and rings
; right, right checks it, replies and rings left, left checks the reply; each prints `shm ok`.
; With `string` or `straddle` it ends with an ECAM access Moat must refuse (REP MOVSD, or a
; qword running past the window), with `peek` with a read of 0xc0000000 (another partition's
; shared memory, if any): each stops the partition. `ivshmem right restart` crashes once on
; purpose and checks after its restart that the region kept what it wrote. With `edu` or
; `uhci` it then uses the device Moat assigned at 00:10.0: QEMU's edu through its memory BAR0
; (the ID register, and the liveness register that returns what was written inverted), or a
; UHCI controller through its I/O BAR4 (SOFMOD resets to 0x40; FRBASEADD keeps bits 31:12).
; vCPU 0 only; the others exit at once. Exit status 0 when every check passed, 1 otherwise,
; 2 for a bad argument.

%include "tests/guests/guest.inc"
bits 64
org 0x100000

%define CPUID_HV_BASE   0x40000000
%define CPUID_HV_PCI    0x40000002
%define CF8             0xcf8
%define CFC             0xcfc
%define CF8_ENABLE      0x80000000

%define MECH_CF8        0
%define MECH_ECAM       1

%define IVSHMEM_ID      0x11101af4          ; device 1110, vendor 1af4
%define IVSHMEM_CLASSREV 0x05000001         ; class 05/00/00, revision 1
%define REG_INTR_STATUS 0x04
%define REG_IV_POSITION 0x08
%define REG_DOORBELL    0x0c

; The shared region's layout (both peers agree on it): a message and a reply of MSG_QWORDS
; qwords each, with their sums.
%define MSG_QWORDS      64
%define SHM_MARK        0x040               ; right's mark before its planned crash
%define MARK            0x6b72616d74726174  ; "tartmark"
%define SHM_MSG_SUM     0x080
%define SHM_MSG         0x100
%define SHM_REPLY_SUM   0x780
%define SHM_REPLY       0x800
%define MSG_MULT        0x9e3779b97f4a7c15  ; message qword i = (i + 1) * MSG_MULT

%define POLLS           3000                ; IntrStatus polls, one HLT (a host tick) apart

%define DEV_DEVFN       0x80                ; 00:10.0, where Moat puts the first assigned device
%define DEV_NONE        0
%define DEV_EDU         1
%define DEV_UHCI        2
%define EDU_ID          0x010000ed          ; edu's register 0x00: major 1, minor 0, 0xed
%define UHCI_FRBASEADD  0x08
%define UHCI_SOFMOD     0x0c

%define ROLE_NONE       0
%define ROLE_LEFT       1
%define ROLE_RIGHT      2

%define REFUSE_NONE     0
%define REFUSE_STRING   1
%define REFUSE_STRADDLE 2
%define REFUSE_PEEK     3
%define PEEK_GPA        0xc0000000          ; where Moat maps a first shared region, if any

start:
    cli
    mov r12, rdi
    mov r13, rdx                            ; the argument string (CPUID clobbers RDX)
    DETECT_VENDOR rel is_intel
    test r12, r12
    jz .vcpu0
    EXIT_STATUS rel is_intel, 0
.vcpu0:
    mov rsi, r13
    call parse_args

    ; The ECAM window from the hypervisor's PCI leaf.
    mov eax, CPUID_HV_BASE
    cpuid
    cmp eax, CPUID_HV_PCI
    jae .has_leaf
    lea rsi, [rel s_no_leaf]
    call put_str
    call put_nl
    EXIT_STATUS rel is_intel, 1
.has_leaf:
    mov eax, CPUID_HV_PCI
    xor ecx, ecx
    cpuid
    mov r15d, eax
    shl rbx, 32
    or r15, rbx                             ; R15 = ECAM base for the rest of the run
    mov r8d, ecx                            ; buses
    lea rsi, [rel s_ecam]
    call put_str
    mov rax, r15
    xor ecx, ecx
    call put_hex
    lea rsi, [rel s_buses]
    call put_str
    mov eax, r8d
    call put_dec
    call put_nl

    mov r14d, MECH_CF8
    lea rdi, [rel found_cf8]
    call enumerate
    mov [rel count_cf8], eax
    mov r14d, MECH_ECAM
    lea rdi, [rel found_ecam]
    call enumerate
    mov [rel count_ecam], eax
    call compare
    call size_bars
    mov ebx, 0x01                           ; 00:00.1: a function of a present device
    call check_absent
    mov ebx, 0xff                           ; 00:1f.7
    call check_absent
    call check_widths
    cmp byte [rel role], ROLE_NONE
    je .no_ivshmem
    call ivshmem
.no_ivshmem:
    cmp byte [rel dev], DEV_NONE
    je .no_dev
    call assigned
.no_dev:
    cmp byte [rel refuse], REFUSE_NONE
    je .done
    call refused
.done:
    lea rsi, [rel s_done]
    call put_str
    call put_nl
    movzx eax, byte [rel failed]
    EXIT_STATUS rel is_intel, eax

; ---- arguments: none, or `ivshmem left` / `ivshmem right` ------------------------------------
parse_args:
.word:
    call words_next
    test rcx, rcx
    jz .end
    lea rdi, [rel w_ivshmem]
    call word_is
    test eax, eax
    jnz .next
    lea rdi, [rel w_left]
    call word_is
    test eax, eax
    jz .not_left
    mov byte [rel role], ROLE_LEFT
    jmp .next
.not_left:
    lea rdi, [rel w_right]
    call word_is
    test eax, eax
    jz .not_right
    mov byte [rel role], ROLE_RIGHT
    jmp .next
.not_right:
    lea rdi, [rel w_string]
    call word_is
    test eax, eax
    jz .not_string
    mov byte [rel refuse], REFUSE_STRING
    jmp .next
.not_string:
    lea rdi, [rel w_straddle]
    call word_is
    test eax, eax
    jz .not_straddle
    mov byte [rel refuse], REFUSE_STRADDLE
    jmp .next
.not_straddle:
    lea rdi, [rel w_peek]
    call word_is
    test eax, eax
    jz .not_peek
    mov byte [rel refuse], REFUSE_PEEK
    jmp .next
.not_peek:
    lea rdi, [rel w_edu]
    call word_is
    test eax, eax
    jz .not_edu
    mov byte [rel dev], DEV_EDU
    jmp .next
.not_edu:
    lea rdi, [rel w_uhci]
    call word_is
    test eax, eax
    jz .not_uhci
    mov byte [rel dev], DEV_UHCI
    jmp .next
.not_uhci:
    lea rdi, [rel w_restart]
    call word_is
    test eax, eax
    jz .bad
    mov byte [rel crash_once], 1
.next:
    add rsi, rcx
    jmp .word
.bad:
    push rsi
    lea rsi, [rel s_bad_arg]
    call put_str
    pop rsi
    call put_bytes
    call put_nl
    EXIT_STATUS rel is_intel, 2
.end:
    ret

; ---- configuration space access --------------------------------------------------------------
; cfg_read: EBX = devfn, ECX = register (dword aligned), R14 = mechanism. Returns EAX.
cfg_read:
    push rdx
    cmp r14d, MECH_ECAM
    je .ecam
    mov eax, ebx
    shl eax, 8
    or eax, ecx
    or eax, CF8_ENABLE
    mov dx, CF8
    out dx, eax
    mov dx, CFC
    in eax, dx
    pop rdx
    ret
.ecam:
    mov edx, ebx
    shl edx, 12
    add edx, ecx
    mov eax, [r15 + rdx]
    pop rdx
    ret

; cfg_write: EBX = devfn, ECX = register (dword aligned), EAX = value, R14 = mechanism.
cfg_write:
    push rdx
    cmp r14d, MECH_ECAM
    je .ecam
    push rax
    mov eax, ebx
    shl eax, 8
    or eax, ecx
    or eax, CF8_ENABLE
    mov dx, CF8
    out dx, eax
    pop rax
    mov dx, CFC
    out dx, eax
    pop rdx
    ret
.ecam:
    mov edx, ebx
    shl edx, 12
    add edx, ecx
    mov [r15 + rdx], eax
    pop rdx
    ret

; ---- enumeration --------------------------------------------------------------------------------
; enumerate: R14 = mechanism, RDI = a 256-byte list. Scans bus 0 (function 0 of each device,
; the others when its header type says multi-function), prints each function found, records
; its devfn in the list. Returns EAX = functions found.
enumerate:
    push rbx
    push rcx
    push r8
    push r9
    xor ebx, ebx
    xor r8d, r8d
.next:
    xor ecx, ecx
    call cfg_read
    cmp ax, 0xffff
    je .absent
    mov [rdi + r8], bl
    inc r8d
    mov r9d, eax
    lea rsi, [rel s_pci]
    call put_str
    call put_bdf
    mov al, ' '
    call put_char
    mov eax, r9d
    and eax, 0xffff
    mov cl, 4
    call put_hex
    mov al, ':'
    call put_char
    mov eax, r9d
    shr eax, 16
    mov cl, 4
    call put_hex
    lea rsi, [rel s_class]
    call put_str
    mov ecx, 0x08
    call cfg_read
    shr eax, 8
    mov cl, 6
    call put_hex
    call put_via
    call put_nl
    test bl, 7
    jnz .step
    mov ecx, 0x0c
    call cfg_read
    test eax, 0x00800000                    ; header type (byte 0x0e) bit 7: multi-function
    jnz .step
    jmp .next_device
.absent:
    test bl, 7
    jnz .step
.next_device:
    add ebx, 8
    jmp .check
.step:
    inc ebx
.check:
    cmp ebx, 256
    jb .next
    mov eax, r8d
    pop r9
    pop r8
    pop rcx
    pop rbx
    ret

; compare: both mechanisms found the same functions, and their 64-byte headers read the same.
compare:
    mov eax, [rel count_cf8]
    cmp eax, [rel count_ecam]
    jne .lists
    xor r8d, r8d
.func:
    cmp r8d, [rel count_cf8]
    jae .ok
    lea rdi, [rel found_cf8]
    movzx ebx, byte [rdi + r8]
    lea rdi, [rel found_ecam]
    cmp bl, [rdi + r8]
    jne .lists
    xor ecx, ecx
.reg:
    mov r14d, MECH_CF8
    call cfg_read
    mov r9d, eax
    mov r14d, MECH_ECAM
    call cfg_read
    cmp eax, r9d
    je .same
    push rcx
    push rax
    lea rsi, [rel s_fail_header]
    call put_str
    call put_bdf
    lea rsi, [rel s_reg]
    call put_str
    mov eax, ecx
    mov cl, 2
    call put_hex
    lea rsi, [rel s_cf8_reads]
    call put_str
    mov eax, r9d
    mov cl, 8
    call put_hex
    lea rsi, [rel s_ecam_reads]
    call put_str
    pop rax
    mov cl, 8
    call put_hex
    call put_nl
    pop rcx
    call fail
.same:
    add ecx, 4
    cmp ecx, 0x40
    jb .reg
    inc r8d
    jmp .func
.lists:
    lea rsi, [rel s_fail_lists]
    call put_str
    call put_nl
    call fail
.ok:
    ret

; ---- BARs -----------------------------------------------------------------------------------
; size_bars: every BAR of every function found, sized through both mechanisms (which must
; agree), one line per implemented BAR.
size_bars:
    xor r8d, r8d
.func:
    cmp r8d, [rel count_cf8]
    jae .end
    lea rdi, [rel found_cf8]
    movzx ebx, byte [rdi + r8]
    xor esi, esi                            ; BAR index
.bar:
    cmp esi, 6
    jae .next_func
    mov r14d, MECH_CF8
    call size_bar
    mov r9, rax
    mov r10d, edx
    mov r11d, edi
    mov r14d, MECH_ECAM
    call size_bar
    cmp rax, r9
    jne .disagree
    cmp edx, r10d
    jne .disagree
    test rax, rax
    jz .bar_next
    push rsi
    lea rsi, [rel s_pci]
    call put_str
    call put_bdf
    lea rsi, [rel s_bar]
    call put_str
    pop rsi
    mov eax, esi
    call put_dec
    push rsi
    lea rsi, [rel s_mem]
    test r10d, r10d
    jz .kind
    lea rsi, [rel s_io]
.kind:
    call put_str
    lea rsi, [rel s_size]
    call put_str
    pop rsi
    mov rax, r9
    xor ecx, ecx
    call put_hex
    call put_nl
    jmp .bar_next
.disagree:
    push rsi
    lea rsi, [rel s_fail_bar]
    call put_str
    call put_bdf
    pop rsi
    mov eax, esi
    call put_dec
    call put_nl
    call fail
.bar_next:
    add esi, r11d                           ; 2 after a 64-bit BAR, else 1
    jmp .bar
.next_func:
    inc r8d
    jmp .func
.end:
    ret

; size_bar: EBX = devfn, ESI = BAR index, R14 = mechanism. Writes all ones, reads, restores
; (and checks the restore). Returns RAX = size (0: unimplemented), EDX = 1 for I/O, EDI = 2
; for a 64-bit BAR, else 1.
size_bar:
    push rcx
    push r8
    push r9
    lea ecx, [0x10 + rsi * 4]
    call cfg_read
    mov r8d, eax                            ; the original value
    mov eax, 0xffffffff
    call cfg_write
    call cfg_read
    mov r9d, eax                            ; the size mask
    mov eax, r8d
    call cfg_write
    call restored
    mov edi, 1
    xor edx, edx
    xor eax, eax
    test r9d, r9d
    jz .end
    test r8d, 1
    jnz .io
    mov eax, r9d
    and eax, 0xfffffff0
    mov ecx, r8d
    and ecx, 6
    cmp ecx, 4                              ; type 10b: 64-bit, the next register is the top
    jne .mem32
    mov edi, 2
    push rax
    lea ecx, [0x14 + rsi * 4]
    call cfg_read
    mov r8d, eax
    mov eax, 0xffffffff
    call cfg_write
    call cfg_read
    mov r9d, eax
    mov eax, r8d
    call cfg_write
    call restored
    pop rax
    shl r9, 32
    or rax, r9
    neg rax                                 ; ~mask + 1
    jmp .end
.mem32:
    neg eax                                 ; zero-extends into RAX
    jmp .end
.io:
    mov edx, 1
    mov eax, r9d
    and eax, 0xfffffffc
    test eax, 0xffff0000
    jnz .io32
    or eax, 0xffff0000                      ; a BAR that decodes 16 bits only
.io32:
    neg eax
.end:
    pop r9
    pop r8
    pop rcx
    ret

; restored: the register at EBX/ECX must read R8D again (the original value was written back).
restored:
    push rax
    push rsi
    call cfg_read
    cmp eax, r8d
    je .ok
    lea rsi, [rel s_fail_restore]
    call put_str
    call put_bdf
    lea rsi, [rel s_reg]
    call put_str
    mov eax, ecx
    push rcx
    mov cl, 2
    call put_hex
    pop rcx
    call put_nl
    call fail
.ok:
    pop rsi
    pop rax
    ret

; ---- absent functions ------------------------------------------------------------------------
; check_absent: EBX = devfn of a function that does not exist. Registers 0x00, 0x04, 0x10 and
; 0x3c read all ones through both mechanisms, before and after writes through both.
check_absent:
    xor r9d, r9d                            ; lines printed: failures
    call absent_reads
    mov r14d, MECH_CF8
    call absent_writes
    mov r14d, MECH_ECAM
    call absent_writes
    call absent_reads
    test r9d, r9d
    jnz .end
    lea rsi, [rel s_pci]
    call put_str
    call put_bdf
    lea rsi, [rel s_absent_ok]
    call put_str
    call put_nl
.end:
    ret

absent_writes:
    lea rdi, [rel absent_regs]
.reg:
    movzx ecx, byte [rdi]
    cmp ecx, 0xff
    je .end
    mov eax, 0x12345670
    or eax, ecx
    call cfg_write
    inc rdi
    jmp .reg
.end:
    ret

absent_reads:
    mov r14d, MECH_CF8
.mech:
    lea rdi, [rel absent_regs]
.reg:
    movzx ecx, byte [rdi]
    cmp ecx, 0xff
    je .next_mech
    call cfg_read
    cmp eax, 0xffffffff
    je .ok
    push rax
    lea rsi, [rel s_fail_absent]
    call put_str
    call put_bdf
    lea rsi, [rel s_reg]
    call put_str
    mov eax, ecx
    mov cl, 2
    call put_hex
    call put_via
    lea rsi, [rel s_reads]
    call put_str
    pop rax
    mov cl, 8
    call put_hex
    call put_nl
    inc r9d
    call fail
.ok:
    inc rdi
    jmp .reg
.next_mech:
    inc r14d
    cmp r14d, MECH_ECAM
    jbe .mech
    ret

; ---- ECAM access widths ------------------------------------------------------------------------
; check_widths: on the host bridge (00:00.0) the bytes, words and the qword at 0 through ECAM
; make the same value as dword reads; an absent function reads 0xff / 0xffff with MOVZX and
; -1 with MOVSX.
check_widths:
    mov r14d, MECH_ECAM
    xor ebx, ebx
    xor ecx, ecx
    call cfg_read
    mov r8d, eax                            ; dword 0
    mov ecx, 4
    call cfg_read
    mov r9d, eax                            ; dword 4
    movzx eax, byte [r15 + 3]
    shl eax, 8
    mov al, [r15 + 2]
    shl eax, 8
    mov al, [r15 + 1]
    shl eax, 8
    mov al, [r15]
    cmp eax, r8d
    jne .bad
    movzx eax, word [r15 + 2]
    shl eax, 16
    mov ax, [r15]
    cmp eax, r8d
    jne .bad
    mov rax, [r15]
    mov rdx, r9
    shl rdx, 32
    or rdx, r8
    cmp rax, rdx
    jne .bad
    mov edx, 0xff << 12                     ; 00:1f.7, absent
    movzx eax, byte [r15 + rdx + 1]
    cmp eax, 0xff
    jne .bad
    movzx eax, word [r15 + rdx + 2]
    cmp eax, 0xffff
    jne .bad
    movsx rax, word [r15 + rdx]
    cmp rax, -1
    jne .bad
    mov eax, 0x5a5a5a5a
    mov [r15 + rdx + 4], eax                ; writes go nowhere
    mov byte [r15 + rdx + 4], 0x5a
    mov dword [r15 + rdx + 4], 0x5a5a5a5a
    mov eax, [r15 + rdx + 4]
    cmp eax, 0xffffffff
    jne .bad
    lea rsi, [rel s_widths_ok]
    call put_str
    call put_nl
    ret
.bad:
    lea rsi, [rel s_fail_widths]
    call put_str
    call put_nl
    call fail
    ret

; ---- ivshmem ------------------------------------------------------------------------------------
; ivshmem: the first ivshmem function found. Its identity, fixed BARs, memory decoding, then
; the exchange with the peer (R10 = BAR0, R11 = BAR2 for the rest).
ivshmem:
    mov r14d, MECH_ECAM
    xor r8d, r8d
.find:
    cmp r8d, [rel count_ecam]
    jae .none
    lea rdi, [rel found_ecam]
    movzx ebx, byte [rdi + r8]
    xor ecx, ecx
    call cfg_read
    cmp eax, IVSHMEM_ID
    je .found
    inc r8d
    jmp .find
.none:
    lea rsi, [rel s_fail_no_ivshmem]
    call put_str
    call put_nl
    jmp fail
.found:
    mov ecx, 0x08
    call cfg_read
    cmp eax, IVSHMEM_CLASSREV
    jne .bad_identity
    mov ecx, 0x10
    call cfg_read
    and eax, 0xfffffff0
    mov r10d, eax                           ; BAR0: registers
    mov ecx, 0x18
    call cfg_read
    mov r11d, eax
    and r11d, 0xfffffff0
    mov ecx, 0x1c
    call cfg_read
    shl rax, 32
    or r11, rax                             ; BAR2: shared memory
    ; moving BAR0 is refused: it reads its address again
    mov ecx, 0x10
    mov eax, 0xfe000000
    call cfg_write
    call cfg_read
    and eax, 0xfffffff0
    cmp eax, r10d
    jne .moved
    ; memory space off: nobody answers at BAR0
    mov eax, [r10 + REG_IV_POSITION]
    cmp eax, 0xffffffff
    jne .decoding
    ; memory space on (a word write to the command register through ECAM)
    mov edx, ebx
    shl edx, 12
    mov ax, [r15 + rdx + 4]
    or ax, 2
    mov [r15 + rdx + 4], ax
    mov eax, [r10 + REG_IV_POSITION]
    mov r13d, eax                           ; R13 = our peer index
    lea rsi, [rel s_ivshmem]
    call put_str
    call put_bdf
    lea rsi, [rel s_regs]
    call put_str
    mov rax, r10
    xor ecx, ecx
    call put_hex
    lea rsi, [rel s_shm]
    call put_str
    mov rax, r11
    call put_hex
    lea rsi, [rel s_peer]
    call put_str
    mov eax, r13d
    call put_dec
    call put_nl
    cmp byte [rel role], ROLE_LEFT
    je left
    jmp right
.bad_identity:
    lea rsi, [rel s_fail_identity]
    jmp .say
.moved:
    lea rsi, [rel s_fail_moved]
    jmp .say
.decoding:
    lea rsi, [rel s_fail_decoding]
.say:
    call put_str
    call put_nl
    jmp fail

; left: write the message and its sum, ring the other peer, wait for the reply and check it.
left:
    xor ecx, ecx
    xor edx, edx                            ; the sum
.fill:
    lea rax, [rcx + 1]
    mov r8, MSG_MULT
    imul rax, r8
    mov [r11 + SHM_MSG + rcx * 8], rax
    add rdx, rax
    inc ecx
    cmp ecx, MSG_QWORDS
    jb .fill
    mov [r11 + SHM_MSG_SUM], rdx
    call ring_other
    call wait_doorbell
    ; the reply: each qword the complement of the message's, and its sum
    xor ecx, ecx
    xor edx, edx
.check:
    mov rax, [r11 + SHM_REPLY + rcx * 8]
    add rdx, rax
    not rax
    cmp rax, [r11 + SHM_MSG + rcx * 8]
    jne shm_bad
    inc ecx
    cmp ecx, MSG_QWORDS
    jb .check
    cmp rdx, [r11 + SHM_REPLY_SUM]
    jne shm_bad
    jmp shm_ok

; right: wait for the message, check it, write the reply and ring the other peer. With
; `restart`, the first incarnation leaves a mark in the region and crashes (an access Moat
; refuses); the restarted one must find the mark: the region outlived it, its peer holds it.
right:
    cmp byte [rel crash_once], 0
    je .wait
    mov rax, MARK
    cmp [r11 + SHM_MARK], rax
    je .kept
    mov [r11 + SHM_MARK], rax
    lea rsi, [rel s_crashing]
    call put_str
    call put_nl
    mov rax, [r15 + 0xffffc]                ; refused: this partition is stopped here
    jmp shm_bad
.kept:
    lea rsi, [rel s_kept]
    call put_str
    call put_nl
.wait:
    call wait_doorbell
    xor ecx, ecx
    xor edx, edx
.check:
    mov rax, [r11 + SHM_MSG + rcx * 8]
    add rdx, rax
    lea r8, [rcx + 1]
    mov r9, MSG_MULT
    imul r8, r9
    cmp rax, r8
    jne shm_bad
    not rax
    mov [r11 + SHM_REPLY + rcx * 8], rax
    inc ecx
    cmp ecx, MSG_QWORDS
    jb .check
    cmp rdx, [r11 + SHM_MSG_SUM]
    jne shm_bad
    xor ecx, ecx
    xor edx, edx
.sum:
    add rdx, [r11 + SHM_REPLY + rcx * 8]
    inc ecx
    cmp ecx, MSG_QWORDS
    jb .sum
    mov [r11 + SHM_REPLY_SUM], rdx
    call ring_other
    jmp shm_ok

shm_ok:
    lea rsi, [rel s_shm_ok]
    call put_str
    call put_nl
    ret

shm_bad:
    lea rsi, [rel s_fail_shm]
    call put_str
    call put_nl
    jmp fail

; ring_other: a doorbell for the other of two peers (our index XOR 1), vector 0.
ring_other:
    mov eax, r13d
    xor eax, 1
    shl eax, 16
    mov [r10 + REG_DOORBELL], eax
    ret

; wait_doorbell: poll IntrStatus until a doorbell came (then it must read 0 again: reading
; cleared it), one HLT between polls. A timeout is a failure that ends the run.
wait_doorbell:
    mov ecx, POLLS
.poll:
    mov eax, [r10 + REG_INTR_STATUS]
    test eax, eax
    jnz .rung
    hlt
    dec ecx
    jnz .poll
    lea rsi, [rel s_fail_timeout]
    call put_str
    call put_nl
    call fail
    pop rax                                 ; leave the caller too: back to ivshmem's caller
    ret
.rung:
    push rax
    lea rsi, [rel s_doorbells]
    call put_str
    call put_dec
    call put_nl
    pop rax
    mov eax, [r10 + REG_INTR_STATUS]
    test eax, eax
    jz .cleared
    lea rsi, [rel s_fail_not_cleared]
    call put_str
    call put_nl
    call fail
.cleared:
    ret

; ---- accesses Moat must refuse ------------------------------------------------------------------
; refused: a string read from ECAM (REP MOVSD), a qword read whose last 4 bytes lie past the
; ECAM window, or a read of 0xc0000000 where this partition has nothing. Moat stops the
; partition; returning from here is a failure.
refused:
    lea rsi, [rel s_refuse]
    call put_str
    call put_nl
    cmp byte [rel refuse], REFUSE_STRING
    jne .straddle
    mov rsi, r15
    lea rdi, [rel found_cf8]
    mov ecx, 4
    cld
    rep movsd
    jmp .survived
.straddle:
    cmp byte [rel refuse], REFUSE_STRADDLE
    jne .peek
    mov rax, [r15 + 0xffffc]
    jmp .survived
.peek:
    mov rax, PEEK_GPA
    mov rax, [rax]
.survived:
    lea rsi, [rel s_fail_survived]
    call put_str
    call put_nl
    jmp fail

; ---- output helpers ---------------------------------------------------------------------------
; put_bdf: "00:DD.F" for devfn EBX.
put_bdf:
    push rax
    push rcx
    push rsi
    lea rsi, [rel s_bus0]
    call put_str
    mov eax, ebx
    shr eax, 3
    mov cl, 2
    call put_hex
    mov al, '.'
    call put_char
    mov eax, ebx
    and eax, 7
    mov cl, 1
    call put_hex
    pop rsi
    pop rcx
    pop rax
    ret

; put_via: " via cf8" or " via ecam" for R14.
put_via:
    push rsi
    lea rsi, [rel s_via_cf8]
    cmp r14d, MECH_ECAM
    jne .say
    lea rsi, [rel s_via_ecam]
.say:
    call put_str
    pop rsi
    ret

fail:
    mov byte [rel failed], 1
    ret

; ---- the assigned device at 00:10.0 -------------------------------------------------------------
; assigned: decoding on through the command register, then the device's own registers.
assigned:
    mov r14d, MECH_CF8
    mov ebx, DEV_DEVFN
    mov ecx, 0x04
    call cfg_read
    or eax, 0x3                             ; I/O and memory space
    call cfg_write
    cmp byte [rel dev], DEV_UHCI
    je .uhci
    mov ecx, 0x10                           ; BAR0, 32-bit memory
    call cfg_read
    and eax, 0xfffffff0
    mov rdi, rax
    mov eax, [rdi]                          ; identification
    lea rsi, [rel s_edu_id]
    call put_str
    mov ecx, 8
    call put_hex
    call put_nl
    cmp eax, EDU_ID
    je .live
    call fail
.live:
    mov dword [rdi + 4], 0x12345678         ; card liveness check: reads back inverted
    mov eax, [rdi + 4]
    cmp eax, ~0x12345678 & 0xffffffff
    lea rsi, [rel s_edu_live]
    jne .bad
    jmp .ok
.uhci:
    mov ecx, 0x20                           ; BAR4, I/O
    call cfg_read
    and eax, 0xfffc
    mov edi, eax
    lea edx, [rdi + UHCI_SOFMOD]
    in al, dx
    movzx eax, al
    lea rsi, [rel s_uhci_sof]
    call put_str
    mov ecx, 2
    call put_hex
    call put_nl
    cmp eax, 0x40
    je .frbase
    call fail
.frbase:
    lea edx, [rdi + UHCI_FRBASEADD]
    mov eax, 0x12345000
    out dx, eax
    in eax, dx
    cmp eax, 0x12345000
    lea rsi, [rel s_uhci_frbase]
    jne .bad
.ok:
    call put_str
    lea rsi, [rel s_ok]
    call put_str
    call put_nl
    ret
.bad:
    call put_str
    lea rsi, [rel s_bad]
    call put_str
    call put_nl
    jmp fail

DEFINE_PUT64
DEFINE_WORDS64

is_intel:       db 0
failed:         db 0
role:           db ROLE_NONE
refuse:         db REFUSE_NONE
crash_once:     db 0
absent_regs:    db 0x00, 0x04, 0x10, 0x3c, 0xff
w_ivshmem:      db "ivshmem", 0
w_left:         db "left", 0
w_right:        db "right", 0
w_string:       db "string", 0
w_straddle:     db "straddle", 0
w_peek:         db "peek", 0
w_restart:      db "restart", 0
w_edu:          db "edu", 0
w_uhci:         db "uhci", 0
dev:            db DEV_NONE
s_edu_id:       db "dev edu id ", 0
s_edu_live:     db "dev edu liveness", 0
s_uhci_sof:     db "dev uhci sofmod ", 0
s_uhci_frbase:  db "dev uhci frbaseadd", 0
s_ok:           db " ok", 0
s_bad:          db " FAIL", 0
s_crashing:     db "shm crashing on purpose, leaving a mark", 0
s_kept:         db "shm mark kept across the restart", 0
s_refuse:       db "pci: an access Moat must refuse", 0
s_fail_survived: db "pci FAIL: the refused access returned", 0
s_bad_arg:      db "pci: unknown argument ", 0
s_no_leaf:      db "pci FAIL: no PCI leaf (CPUID 0x40000002)", 0
s_ecam:         db "pci ecam 0x", 0
s_buses:        db " buses ", 0
s_pci:          db "pci ", 0
s_bus0:         db "00:", 0
s_class:        db " class ", 0
s_via_cf8:      db " via cf8", 0
s_via_ecam:     db " via ecam", 0
s_bar:          db " bar ", 0
s_mem:          db " mem", 0
s_io:           db " io", 0
s_size:         db " size 0x", 0
s_reg:          db " reg 0x", 0
s_reads:        db " reads 0x", 0
s_cf8_reads:    db " cf8 0x", 0
s_ecam_reads:   db " ecam 0x", 0
s_absent_ok:    db " absent: all ones before and after writes", 0
s_widths_ok:    db "pci ecam widths ok", 0
s_ivshmem:      db "ivshmem ", 0
s_regs:         db " regs 0x", 0
s_shm:          db " shm 0x", 0
s_peer:         db " peer ", 0
s_doorbells:    db "shm doorbells ", 0
s_shm_ok:       db "shm ok", 0
s_done:         db "pci done", 0
s_fail_lists:   db "pci FAIL: cf8 and ecam found different functions", 0
s_fail_header:  db "pci FAIL header ", 0
s_fail_bar:     db "pci FAIL: cf8 and ecam size differently: ", 0
s_fail_restore: db "pci FAIL: not restored ", 0
s_fail_absent:  db "pci FAIL absent ", 0
s_fail_widths:  db "pci FAIL: ecam reads of other widths disagree", 0
s_fail_no_ivshmem: db "ivshmem FAIL: no ivshmem device", 0
s_fail_identity: db "ivshmem FAIL: class or revision", 0
s_fail_moved:   db "ivshmem FAIL: BAR0 moved", 0
s_fail_decoding: db "ivshmem FAIL: registers answer with memory space off", 0
s_fail_shm:     db "shm FAIL: the peer's data is not what was sent", 0
s_fail_timeout: db "shm FAIL: no doorbell", 0
s_fail_not_cleared: db "shm FAIL: IntrStatus not cleared by reading it", 0

align 4
count_cf8:      dd 0
count_ecam:     dd 0
found_cf8:      times 256 db 0
found_ecam:     times 256 db 0
