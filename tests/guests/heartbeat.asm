; SPDX-License-Identifier: Apache-2.0
; A well-behaved 64-bit partition that shows it keeps running and keeps its state. Every vCPU
; fills a private memory region and all 16 XMM registers with a pattern, then beats: waits
; (HLT, a busy loop or yield hypercalls), checks the region's checksum and the XMM registers,
; and prints one line per beat. It does not own the scheduler, the timer or the FPU: a
; hypervisor that loses its time slice, corrupts its memory or mixes its FPU state with
; another partition's shows up as a missing beat or a CORRUPT line. Args: docs/guest-abi.md,
; "Test guests".
; Entry (docs/guest-abi.md): RDI = vCPU id, RDX = args gpa; long64 mode only.

%include "tests/guests/guest.inc"
bits 64
org 0x100000

; Private regions: 128 KiB per vCPU from 2 MiB, so 8 vCPUs stay inside the smallest
; partition (4 MiB), below the stacks at its top and above the image at 1 MiB.
%define REGION_GPA      0x200000
%define REGION_SHIFT    17                  ; 128 KiB
%define REGION_SIZE     (1 << REGION_SHIFT)
%define REGION_VCPUS    8

; Pattern indices: qword j of the region is pattern(j); XMM register i holds
; pattern(XMM_INDEX + 2i) (low) and pattern(XMM_INDEX + 2i + 1) (high).
%define XMM_INDEX       0x10000

%define WAIT_HLT        0
%define WAIT_SPIN       1
%define WAIT_YIELD      2

%define DEFAULT_BEATS   5
%define DEFAULT_WORK    200000

; SDM vol. 3 2.5 "Control Registers"; 13.1.3/13.1.4 (SSE enabling).
%define CR0_MP          (1 << 1)
%define CR0_EM          (1 << 2)
%define CR0_TS          (1 << 3)
%define CR4_OSFXSR      (1 << 9)
%define CR4_OSXMMEXCPT  (1 << 10)

; FNV-1a, 64-bit: the seed's hash. No seed= hashes zero bytes, leaving the offset basis.
%define FNV_BASIS       0xcbf29ce484222325
%define FNV_PRIME       0x100000001b3
%define ID_STRIDE       0x8e3b5a6fc1d72f49  ; odd: distinct vCPU ids give distinct patterns

; Registers held for the whole run (the helpers preserve them):
;   r12 vCPU id          r13 beats (0 = forever)   r14 wait mode   r15 work per beat
;   rbp pattern base     rbx beat number           r8 region gpa (0: none)   r9 expected sum
; [rsp, rsp + 256): the XMM registers as stored for checking.

start:
    cli
    mov r12, rdi
    mov rsi, rdx
    DETECT_VENDOR rel is_intel

    mov r13, DEFAULT_BEATS
    mov r14d, WAIT_HLT
    mov r15, DEFAULT_WORK
    mov rbp, FNV_BASIS
.arg:
    call words_next
    test rcx, rcx
    jz .args_done
    lea rdi, [rel k_beats]
    call word_prefix
    test rax, rax
    jz .not_beats
    call value_dec
    jc bad_arg
    mov r13, rax
    jmp .arg_next
.not_beats:
    lea rdi, [rel k_work]
    call word_prefix
    test rax, rax
    jz .not_work
    call value_dec
    jc bad_arg
    mov r15, rax
    jmp .arg_next
.not_work:
    lea rdi, [rel k_seed]
    call word_prefix
    test rax, rax
    jz .not_seed
    call value_dec
    jc bad_arg
    call seed_hash
    jmp .arg_next
.not_seed:
    lea rdi, [rel k_wait]
    call word_prefix
    test rax, rax
    jz bad_arg
    push rsi
    push rcx
    add rsi, rax
    sub rcx, rax
    mov edx, WAIT_HLT
    lea rdi, [rel w_hlt]
    call word_is
    test eax, eax
    jnz .wait_known
    mov edx, WAIT_SPIN
    lea rdi, [rel w_spin]
    call word_is
    test eax, eax
    jnz .wait_known
    mov edx, WAIT_YIELD
    lea rdi, [rel w_yield]
    call word_is
.wait_known:
    pop rcx
    pop rsi
    test eax, eax
    jz bad_arg
    mov r14d, edx
.arg_next:
    add rsi, rcx
    jmp .arg
.args_done:

    ; This vCPU's pattern base: the seed's hash and the vCPU id, scrambled.
    mov rax, r12
    mov rdx, ID_STRIDE
    imul rax, rdx
    add rax, rbp
    call scramble
    mov rbp, rax

    ; SSE on for this vCPU (Moat's long64 entry has it already; a guest says what it needs).
    mov rax, cr0
    and rax, ~(CR0_EM | CR0_TS)
    or rax, CR0_MP
    mov cr0, rax
    mov rax, cr4
    or rax, CR4_OSFXSR | CR4_OSXMMEXCPT
    mov cr4, rax

    sub rsp, 256
    xor ecx, ecx
.xmm_pattern:
    lea rax, [rbp + rcx + XMM_INDEX]
    call scramble
    mov [rsp + rcx * 8], rax
    inc ecx
    cmp ecx, 32
    jb .xmm_pattern
%assign i 0
%rep 16
    movdqu xmm %+ i, [rsp + 16 * i]
%assign i i + 1
%endrep

    xor r8d, r8d
    cmp r12, REGION_VCPUS
    jae .no_region
    mov r8, r12
    shl r8, REGION_SHIFT
    add r8, REGION_GPA
    xor ecx, ecx
.fill:
    lea rax, [rbp + rcx]
    call scramble
    mov [r8 + rcx * 8], rax
    inc ecx
    cmp ecx, REGION_SIZE / 8
    jb .fill
.no_region:
    call region_sum
    mov r9d, eax

    lea rsi, [rel s_start]
    call put_str
    mov cl, 8
    call put_hex
    call put_nl

    xor ebx, ebx
.beat:
    test r13, r13
    jz .forever
    cmp rbx, r13
    jae .done
.forever:
    inc rbx
    call wait_once
    call check
    test eax, eax
    jnz .corrupt
    lea rsi, [rel s_hb]
    call put_str
    mov rax, rbx
    call put_dec
    lea rsi, [rel s_sum]
    call put_str
    mov eax, r9d
    mov cl, 8
    call put_hex
    lea rsi, [rel s_ok]
    call put_str
    call put_nl
    jmp .beat

.corrupt:
    EXIT_STATUS rel is_intel, 1
.done:
    lea rsi, [rel s_done]
    call put_str
    call put_nl
    EXIT_STATUS rel is_intel, 0

; An argument that is not one of beats=N, wait=hlt|spin|yield, work=N, seed=N: say so and
; exit with status 2 rather than run with a setting nobody asked for.
bad_arg:
    push rsi
    lea rsi, [rel s_bad_arg]
    call put_str
    pop rsi
    call put_bytes
    call put_nl
    EXIT_STATUS rel is_intel, 2

; value_dec: RSI/RCX = a key=value word, RAX = the key's length. RAX = the decimal value,
; CF set if it is not one.
value_dec:
    push rsi
    push rcx
    add rsi, rax
    sub rcx, rax
    call parse_dec
    pop rcx
    pop rsi
    ret

; seed_hash: RBP = FNV-1a of the 8 bytes of RAX, least significant first. Clobbers RAX, RDX.
seed_hash:
    push rcx
    mov rbp, FNV_BASIS
    mov ecx, 8
.byte:
    movzx edx, al
    xor rbp, rdx
    mov rdx, FNV_PRIME
    imul rbp, rdx
    shr rax, 8
    dec ecx
    jnz .byte
    pop rcx
    ret

; scramble: RAX = pattern value for index RAX (a bijective xor-shift/multiply mix, so
; neighbouring indices give unrelated values). Clobbers RDX.
scramble:
    mov rdx, rax
    shr rdx, 29
    xor rax, rdx
    mov rdx, 0x8d3a5c1e6b4f2971
    imul rax, rdx
    mov rdx, rax
    shr rdx, 32
    xor rax, rdx
    mov rdx, 0x6c8e9cf570932bd5
    imul rax, rdx
    mov rdx, rax
    shr rdx, 29
    xor rax, rdx
    ret

; region_sum: EAX = checksum of the 128 KiB at R8 (0 if R8 is 0): per dword, rotate left by
; 5, xor the dword, add its index.
region_sum:
    xor eax, eax
    test r8, r8
    jz .done
    push rcx
    xor ecx, ecx
.dword:
    rol eax, 5
    xor eax, [r8 + rcx * 4]
    add eax, ecx
    inc ecx
    cmp ecx, REGION_SIZE / 4
    jb .dword
    pop rcx
.done:
    ret

; wait_once: one beat's wait, as chosen by wait=.
wait_once:
    cmp r14d, WAIT_SPIN
    je .spin
    cmp r14d, WAIT_YIELD
    je .yield
    hlt                             ; IF=0: Moat resumes us at its next tick
    ret
.spin:
    mov rcx, r15
    test rcx, rcx
    jz .end
.burn:
    dec rcx
    jnz .burn
    ret
.yield:
    push rcx
    mov rcx, r15
    test rcx, rcx
    jz .yielded
.call:
    mov eax, HC_YIELD
    HYPERCALL rel is_intel
    dec rcx
    jnz .call
.yielded:
    pop rcx
.end:
    ret

; check: compare the region's checksum and the 16 XMM registers with what they were given,
; printing a CORRUPT line for each difference. EAX = number of differences. The XMM
; registers are only stored, never loaded, so checking leaves them as they were.
check:
    push rcx
    push rdx
    push r10
    push r11
    xor r10d, r10d
    call region_sum
    cmp eax, r9d
    je .memory_ok
    lea rdi, [rel s_memory]
    call corrupt_line
    call put_nl
    inc r10d
.memory_ok:
    ; The caller's 256-byte frame starts past our return address and four pushes.
%define FRAME 40
%assign i 0
%rep 16
    movdqu [rsp + FRAME + 16 * i], xmm %+ i
%assign i i + 1
%endrep
    xor ecx, ecx
.xmm:
    mov r11, rcx
    shl r11, 4                      ; register i is stored at FRAME + 16 * i
    lea rax, [rbp + rcx * 2 + XMM_INDEX]
    call scramble
    cmp rax, [rsp + r11 + FRAME]
    jne .xmm_bad
    lea rax, [rbp + rcx * 2 + XMM_INDEX + 1]
    call scramble
    cmp rax, [rsp + r11 + FRAME + 8]
    je .xmm_next
.xmm_bad:
    lea rdi, [rel s_xmm]
    call corrupt_line
    mov rax, rcx
    call put_dec
    call put_nl
    inc r10d
.xmm_next:
    inc ecx
    cmp ecx, 16
    jb .xmm
    mov eax, r10d
    pop r11
    pop r10
    pop rdx
    pop rcx
    ret

; corrupt_line: print "hb N CORRUPT " and the NUL-terminated text at RDI (the line is left
; open for the caller to finish).
corrupt_line:
    push rax
    push rsi
    lea rsi, [rel s_hb]
    call put_str
    mov rax, rbx
    call put_dec
    lea rsi, [rel s_corrupt]
    call put_str
    mov rsi, rdi
    call put_str
    pop rsi
    pop rax
    ret

DEFINE_PUT64
DEFINE_WORDS64

is_intel:   db 0
k_beats:    db "beats=", 0
k_wait:     db "wait=", 0
k_work:     db "work=", 0
k_seed:     db "seed=", 0
w_hlt:      db "hlt", 0
w_spin:     db "spin", 0
w_yield:    db "yield", 0
s_start:    db "hb start sum ", 0
s_hb:       db "hb ", 0
s_sum:      db " sum ", 0
s_ok:       db " ok", 0
s_corrupt:  db " CORRUPT ", 0
s_memory:   db "memory", 0
s_xmm:      db "xmm", 0
s_done:     db "hb done", 0
s_bad_arg:  db "hb bad arg ", 0
