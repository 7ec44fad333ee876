; triple_fault: an exception with an empty IDT in protected mode escalates to #DF and
; then to shutdown (SDM Vol. 3A §6.15, "Interrupt 8"). rx86 --no-reboot exits with
; status 4; without it the machine resets, and this ROM then prints "boot 2" and exits.
%include "inc/common.inc"
[bits 16]
org 0
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    ; Count boots in RAM at 0x500 (RAM survives a shutdown reset).
    inc byte [0x500]
    PUTS16 "boot "
    mov al, [0x500]
    call rm_hex8
    call rm_nl
    cmp byte [0x500], 1
    jne .second
    lidt [cs:empty_idt]
    int3                        ; IVT limit 0: #GP, then #DF, then shutdown
    PUTS16 "not reached", 10
.second:
    EXIT 0
empty_idt:
    dw 0
    dd 0
%include "inc/print16.inc"
ROM_FOOTER
