; bios_resume: a diskette boot sector for the built-in BIOS (tests/bios.rs): sets CMOS
; shutdown status 0Ah with a resume pointer at 0040:0067, resets the machine through
; the keyboard controller (command FEh), and continues at `resumed` without a POST.
; Output on port E9h, exit through F4h.

%include "inc/common.inc"

[bits 16]
[org 0x7C00]

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    PUTS16 "resetting", 10
    mov word [0x467], resumed
    mov word [0x469], 0
    mov al, 0x0F
    out 0x70, al
    mov al, 0x0A
    out 0x71, al
    mov al, 0xFE
    out 0x64, al
.wait:
    hlt
    jmp .wait

resumed:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    PUTS16 "resumed cmos0f="
    mov al, 0x0F
    out 0x70, al
    in al, 0x71
    call rm_hex8
    call rm_nl
    EXIT 0

%include "inc/print16.inc"

    times 510 - ($ - $$) db 0
    dw 0xAA55
