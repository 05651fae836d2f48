; SPDX-License-Identifier: Apache-2.0
; The Multiboot2 header (Multiboot2 spec 2.0, section 3.1) that lets GRUB or iPXE load moat.elf.
; linker.ld puts section .mb2_header first in .text, well inside the 32 KiB the loader scans.
; It only describes; the code it points at is boot/mb2/entry.asm.

bits 32

extern mb2_entry32

MB2_HEADER_MAGIC    equ 0xe85250d6  ; spec 3.1.2
MB2_ARCH_I386       equ 0           ; 32-bit protected mode entry

; Header tag types and flags (spec 3.1.3 onwards).
MB2_HTAG_END        equ 0
MB2_HTAG_INFO_REQ   equ 1           ; spec 3.1.4
MB2_HTAG_ENTRY      equ 3           ; spec 3.1.6
MB2_HTAG_MOD_ALIGN  equ 6           ; spec 3.1.11
MB2_HTAG_REQUIRED   equ 0
MB2_HTAG_OPTIONAL   equ 1           ; flags bit 0: the loader may ignore the tag

; Boot information tag types we ask for (spec 3.6).
MB2_INFO_CMDLINE    equ 1
MB2_INFO_MODULE     equ 3
MB2_INFO_MMAP       equ 6
MB2_INFO_FB         equ 8
MB2_INFO_ACPI_OLD   equ 14
MB2_INFO_ACPI_NEW   equ 15

section .mb2_header progbits alloc noexec nowrite align=8

; The header and every tag start on an 8-byte boundary (spec 3.1.1, 3.1.3).
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    ; magic + architecture + header_length + checksum == 0 (mod 2^32)
    dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

; What Moat cannot start without: a loader that cannot give these must refuse to boot us.
align 8, db 0
.req:
    dw MB2_HTAG_INFO_REQ, MB2_HTAG_REQUIRED
    dd .req_end - .req
    dd MB2_INFO_CMDLINE, MB2_INFO_MODULE, MB2_INFO_MMAP
.req_end:

; Nice to have: a machine may lack ACPI or a linear framebuffer. Asking for the framebuffer
; *information* never changes the video mode (that would take a framebuffer tag, type 5,
; which we leave out to keep the text console).
align 8, db 0
.opt:
    dw MB2_HTAG_INFO_REQ, MB2_HTAG_OPTIONAL
    dd .opt_end - .opt
    dd MB2_INFO_ACPI_NEW, MB2_INFO_ACPI_OLD, MB2_INFO_FB
.opt_end:

; The ELF entry (kernel_entry64) is the UEFI loader's long-mode entry; a Multiboot2 loader
; starts us in 32-bit protected mode, so point it at the 32-bit entry instead. For ELF images
; GRUB takes this address over e_entry. No address tag (type 2): the ELF program headers say
; where everything goes.
align 8, db 0
.entry:
    dw MB2_HTAG_ENTRY, MB2_HTAG_REQUIRED
    dd 12
    dd mb2_entry32

; Modules start on page boundaries, as struct boot_module promises the kernel.
align 8, db 0
.mod_align:
    dw MB2_HTAG_MOD_ALIGN, MB2_HTAG_REQUIRED
    dd 8

align 8, db 0
.end:
    dw MB2_HTAG_END, 0
    dd 8
mb2_header_end:
