; multiboot: a Multiboot v1 kernel in the a.out-kludge format (Multiboot Specification
; 0.6.96 §3.1), loaded at 1 MiB by `rx86 run --kernel` (or QEMU's -kernel). It checks
; the boot state §3.2 promises — EAX = 2BADB002h, EBX -> information structure, flat
; protected mode, paging off — and prints the information fields: flags, memory sizes,
; the command line, the module list and the memory map, then exits through port F4h.
; QEMU 7.2 agrees except that it prefixes the command line with the kernel's file name
; (as GRUB does; the specification does not ask for it) and reports 128 KiB less
; upper memory.
%define DEBUGCON  0xE9
%define EXIT_PORT 0xF4
%define MB_MAGIC  0x1BADB002
%define MB_FLAGS  0x00010003          ; page-align modules, memory info, a.out kludge

[bits 32]
org 0x100000

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header                   ; header_addr
    dd header                   ; load_addr
    dd image_end                ; load_end_addr
    dd bss_end                  ; bss_end_addr
    dd start                    ; entry_addr

%macro PUTS 1+
    jmp %%go
    %%s: db %1, 0
%%go:
    push esi
    mov esi, %%s
    call pm_puts
    pop esi
%endmacro

start:
    mov esp, stack_top
    mov [info], ebx
    PUTS "eax: "
    call pm_hex32
    call pm_nl
    mov ebx, [info]
    PUTS "flags: "
    mov eax, [ebx]
    call pm_hex32
    call pm_nl
    PUTS "mem_lower KiB: "
    mov eax, [ebx + 4]
    call pm_hex32
    call pm_nl
    PUTS "mem_upper KiB: "
    mov eax, [ebx + 8]
    call pm_hex32
    call pm_nl
    PUTS "cmdline: "
    mov esi, [ebx + 16]
    call pm_puts
    call pm_nl
    PUTS "mods_count: "
    mov eax, [ebx + 20]
    call pm_hex32
    call pm_nl
    ; bss must be zero
    PUTS "bss zero: "
    mov eax, [bss_probe]
    call pm_hex32
    call pm_nl
    ; CR0: PE set, PG clear
    mov eax, cr0
    and eax, 0x80000001
    PUTS "cr0 pe/pg: "
    call pm_hex32
    call pm_nl
    ; memory map: the type of the entry that starts at 1 MiB
    mov ecx, [ebx + 44]         ; mmap_length
    mov esi, [ebx + 48]         ; mmap_addr (points at an entry's size field)
.mm:
    cmp ecx, 24
    jb .mmdone
    cmp dword [esi + 4], 0x100000
    jne .next
    PUTS "mmap at 1 MiB: type "
    mov eax, [esi + 20]
    call pm_hex32
    call pm_nl
    mov ebx, [info]
.next:
    mov eax, [esi]
    add eax, 4
    add esi, eax
    sub ecx, eax
    jmp .mm
.mmdone:
    PUTS "done", 10
    mov al, 0
    out EXIT_PORT, al
    cli
    hlt

%include "inc/print32.inc"

image_end:
section .bss
bss_probe: resd 1
info:      resd 1
stack:     resb 1024
stack_top:
bss_end:
