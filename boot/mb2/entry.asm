; SPDX-License-Identifier: Apache-2.0
; The Multiboot2 entry: from the loader's 32-bit protected mode (spec 3.3) to long mode on
; throw-away page tables (first 4 GiB identity-mapped), then mb2_main() builds boot_info and
; we enter the kernel exactly as the UEFI loader does: kernel_entry64 with RDI = boot_info.
; The kernel replaces this GDT and these page tables at once.

extern mb2_main
extern kernel_entry64
extern __bss_start
extern __bss_end

MB2_BOOTLOADER_MAGIC equ 0x36d76289     ; EAX at entry (Multiboot2 spec 3.3)

; 16550 UART on COM1, polled (PC16550D datasheet, register map).
COM1            equ 0x3f8
UART_THR        equ 0                   ; transmit holding (DLAB=0)
UART_DLL        equ 0                   ; divisor latch low (DLAB=1)
UART_IER        equ 1                   ; interrupt enable (DLAB=0)
UART_DLM        equ 1                   ; divisor latch high (DLAB=1)
UART_FCR        equ 2
UART_LCR        equ 3
UART_MCR        equ 4
UART_LSR        equ 5
LCR_DLAB        equ 0x80
LCR_8N1         equ 0x03
FCR_ENABLE_CLR  equ 0x07                ; FIFOs on, both cleared
MCR_DTR_RTS     equ 0x03
LSR_THRE        equ 0x20
UART_DIV_115200 equ 1                   ; 1.8432 MHz / 16 / 115200

EFLAGS_ID       equ 1 << 21             ; toggles iff CPUID exists (SDM vol. 1 3.4.3.3)
CPUID_EXT_MAX   equ 0x80000000
CPUID_EXT_FEAT  equ 0x80000001
CPUID_EDX_LM    equ 1 << 29             ; long mode (SDM vol. 2A, CPUID leaf 80000001h)

CR0_PE          equ 1 << 0
CR0_PG          equ 1 << 31
CR4_PAE         equ 1 << 5
MSR_EFER        equ 0xc0000080
EFER_LME        equ 1 << 8

; Page-table entry bits (SDM vol. 3A 4.5, tables 4-15 to 4-17).
PTE_P           equ 1 << 0
PTE_RW          equ 1 << 1
PTE_PS          equ 1 << 7              ; in a PD entry: maps a 2 MiB page
PAGE_2M         equ 0x200000
IDMAP_PDS       equ 4                   ; 4 PDs x 512 x 2 MiB = 4 GiB

; The two legacy 8259A PICs (Intel 8259A datasheet, ICW1-ICW4 and OCW1).
PIC1_CMD        equ 0x20
PIC1_DATA       equ 0x21
PIC2_CMD        equ 0xa0
PIC2_DATA       equ 0xa1
ICW1_INIT_ICW4  equ 0x11                ; start initialization, ICW4 follows
PIC1_VECTOR     equ 0x20                ; ICW2: vector base, above the CPU exceptions
PIC2_VECTOR     equ 0x28
ICW3_PIC1_SLAVE equ 0x04                ; the slave hangs on the master's IR2
ICW3_PIC2_ID    equ 0x02
ICW4_8086       equ 0x01
OCW1_MASK_ALL   equ 0xff

GDT_CODE64      equ 0x08
GDT_DATA        equ 0x10

; ---- 32-bit protected mode ------------------------------------------------------------
section .text.boot32 progbits alloc exec nowrite align=16
bits 32

; State (spec 3.3): EAX magic, EBX info (physical), CS/DS/ES/SS flat, A20 on, paging off,
; interrupts off, ESP and GDTR undefined. ESI and EBP carry EAX and EBX through to mb2_main.
global mb2_entry32
mb2_entry32:
    cli
    cld
    mov esi, eax
    mov ebp, ebx

    ; Zero .bss first: our stack and page tables live there, and so does every zero-initialized
    ; variable of the kernel (the loader zeroes ELF bss too; this does not depend on it).
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    shr ecx, 2
    xor eax, eax
    rep stosd
    mov esp, mb2_stack_top

    cmp esi, MB2_BOOTLOADER_MAGIC
    jne .bad_magic

    ; Long mode, asked through CPUID if there is a CPUID (SDM vol. 3A 9.8.5).
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    xor eax, ecx
    test eax, EFLAGS_ID
    jz .no_long_mode
    mov eax, CPUID_EXT_MAX
    cpuid
    cmp eax, CPUID_EXT_FEAT
    jb .no_long_mode
    mov eax, CPUID_EXT_FEAT
    cpuid
    test edx, CPUID_EDX_LM
    jz .no_long_mode

    ; A BIOS leaves the 8259s unmasked with IRQ0-7 on vectors 8-15, over the CPU exceptions:
    ; the kernel's first STI would take the PIT tick as a double fault. Move them above the
    ; exceptions and mask every line; the kernel uses the local APIC, as after UEFI firmware.
    mov al, ICW1_INIT_ICW4
    out PIC1_CMD, al
    out PIC2_CMD, al
    mov al, PIC1_VECTOR
    out PIC1_DATA, al
    mov al, PIC2_VECTOR
    out PIC2_DATA, al
    mov al, ICW3_PIC1_SLAVE
    out PIC1_DATA, al
    mov al, ICW3_PIC2_ID
    out PIC2_DATA, al
    mov al, ICW4_8086
    out PIC1_DATA, al
    out PIC2_DATA, al
    mov al, OCW1_MASK_ALL
    out PIC1_DATA, al
    out PIC2_DATA, al

    ; Identity map [0, 4 GiB) with 2 MiB pages: kernel, boot information, modules and the
    ; LAPIC/IOAPIC windows all lie below 4 GiB. The PDs are contiguous: one loop fills them.
    mov edi, mb2_pd
    mov eax, PTE_P | PTE_RW | PTE_PS
    mov ecx, IDMAP_PDS * 512
.fill_pd:
    mov [edi], eax
    mov dword [edi + 4], 0
    add eax, PAGE_2M
    add edi, 8
    dec ecx
    jnz .fill_pd

    mov edi, mb2_pdpt
    mov eax, mb2_pd + (PTE_P | PTE_RW)
    mov ecx, IDMAP_PDS
.fill_pdpt:
    mov [edi], eax
    add eax, 4096
    add edi, 8
    dec ecx
    jnz .fill_pdpt
    mov dword [mb2_pml4], mb2_pdpt + (PTE_P | PTE_RW)

    ; Enter IA-32e mode (SDM vol. 3A 9.8.5): PAE, CR3, EFER.LME, then paging.
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, mb2_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE
    mov cr0, eax

    ; Compatibility mode now; a far jump through a 64-bit code segment reaches 64-bit mode.
    lgdt [mb2_gdt_ptr]
    jmp GDT_CODE64:mb2_entry64

.bad_magic:
    call mb2_serial_init
    mov ebx, mb2_msg_magic
    call mb2_puts
    mov eax, esi
    call mb2_put_hex32
    mov ebx, mb2_msg_magic_tail
    call mb2_puts
    jmp mb2_halt

.no_long_mode:
    call mb2_serial_init
    mov ebx, mb2_msg_no_lm
    call mb2_puts
    jmp mb2_halt

mb2_halt:
    cli
    hlt
    jmp mb2_halt

; 115200 8N1, FIFOs on, no interrupts. Clobbers AL and DX.
mb2_serial_init:
    mov dx, COM1 + UART_IER
    xor al, al
    out dx, al
    mov dx, COM1 + UART_LCR
    mov al, LCR_DLAB
    out dx, al
    mov dx, COM1 + UART_DLL
    mov al, UART_DIV_115200
    out dx, al
    mov dx, COM1 + UART_DLM
    xor al, al
    out dx, al
    mov dx, COM1 + UART_LCR
    mov al, LCR_8N1
    out dx, al
    mov dx, COM1 + UART_FCR
    mov al, FCR_ENABLE_CLR
    out dx, al
    mov dx, COM1 + UART_MCR
    mov al, MCR_DTR_RTS
    out dx, al
    ret

; AL = byte to send. A missing UART reads LSR as 0xff, so the wait always ends.
mb2_putc:
    push edx
    push eax
    mov dx, COM1 + UART_LSR
.wait:
    in al, dx
    test al, LSR_THRE
    jz .wait
    pop eax
    mov dx, COM1 + UART_THR
    out dx, al
    pop edx
    ret

; EBX = NUL-terminated string. Clobbers AL, EBX.
mb2_puts:
    mov al, [ebx]
    test al, al
    jz .done
    call mb2_putc
    inc ebx
    jmp mb2_puts
.done:
    ret

; EAX = value, printed as 8 hex digits. Clobbers EAX, EBX, ECX.
mb2_put_hex32:
    mov ecx, 8
.digit:
    rol eax, 4
    mov ebx, eax
    and ebx, 0xf
    push eax
    mov al, [mb2_hex + ebx]
    call mb2_putc
    pop eax
    dec ecx
    jnz .digit
    ret

; ---- 64-bit mode ------------------------------------------------------------------------
bits 64

mb2_entry64:
    mov eax, GDT_DATA
    mov ds, eax
    mov es, eax
    mov ss, eax
    xor eax, eax
    mov fs, eax
    mov gs, eax
    ; The upper halves of the GPRs are undefined after the switch (SDM vol. 1 3.4.1.1):
    ; only 32-bit moves (which zero-extend) carry values over.
    mov esp, mb2_stack_top
    mov edi, esi                        ; magic
    mov esi, ebp                        ; info structure, physical = virtual
    xor ebp, ebp
    call mb2_main                       ; -> const struct boot_info *, or NULL (it said why)
    test rax, rax
    jz .fail
    mov rdi, rax
    jmp kernel_entry64                  ; same entry, same state as from the UEFI loader
.fail:
    cli
    hlt
    jmp .fail

; ---- data ---------------------------------------------------------------------------------
section .rodata
align 8
; Flat segments (SDM vol. 3A 3.4.5); accessed bits preset so the CPU never writes here.
mb2_gdt:
    dq 0                                ; null
    dq 0x00af9b000000ffff               ; 0x08: code, 64-bit (L=1, D=0), DPL 0
    dq 0x00cf93000000ffff               ; 0x10: data, read/write
mb2_gdt_end:
mb2_gdt_ptr:
    dw mb2_gdt_end - mb2_gdt - 1
    dq mb2_gdt                          ; lgdt in 32-bit mode reads the low 4 bytes

mb2_hex:
    db "0123456789abcdef"
mb2_msg_magic:
    db "moat: not started by a Multiboot2 loader (EAX=0x", 0
mb2_msg_magic_tail:
    db "), halting", 13, 10, 0
mb2_msg_no_lm:
    db "moat: this CPU has no 64-bit long mode (CPUID 80000001h EDX bit 29), halting", 13, 10, 0

section .bss.mb2 nobits alloc noexec write align=4096
alignb 4096
mb2_pml4:
    resb 4096
mb2_pdpt:
    resb 4096
mb2_pd:
    resb 4096 * IDMAP_PDS
alignb 16
    resb 16384
mb2_stack_top:
