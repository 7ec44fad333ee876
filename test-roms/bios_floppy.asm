; bios_floppy: a 1.44 MB diskette boot sector for the built-in BIOS (tests/bios.rs).
; Prints the boot drive, the INT 13h AH=08h geometry and diskette parameter table, and
; reads CHS 1/1/1 (LBA 54, "floppy-ok") and 79/1/18 (LBA 2879, "last-ok") that the test
; marks; cylinder 80 does not exist (status 04h). Output on port E9h, exit via F4h.

%include "inc/common.inc"

; SVC n: INT n, keeping AX and FLAGS of the result for `show`.
%macro SVC 1
    int %1
    pushf
    pop word [res_fl]
    mov [res_ax], ax
%endmacro

[bits 16]
[org 0x7C00]

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [drive], dl
    PUTS16 "boot dl="
    mov al, dl
    call rm_hex8
    call rm_nl
    mov ah, 0x08
    SVC 0x13
    PUTS16 "bl="
    mov al, bl
    call rm_hex8
    PUTS16 " cx="
    mov ax, cx
    call rm_hex16
    PUTS16 " dx="
    mov ax, dx
    call rm_hex16
    PUTS16 " spt="
    mov al, [es:di + 4]
    call rm_hex8
    call show
    xor ax, ax
    mov es, ax
    mov cx, 0x0101
    mov dh, 1
    call read
    mov cx, 0x4F12
    mov dh, 1
    call read
    mov cx, 0x5001
    mov dh, 0
    call read
    EXIT 0

; Reads CX/DH of the boot drive to 0000:8000 and prints the status and the text.
read:
    mov byte [0x8000], 0
    mov ax, 0x0201
    mov dl, [drive]
    mov bx, 0x8000
    SVC 0x13
    PUTS16 "read"
    call show
    mov si, 0x8000
.l: lodsb
    test al, al
    jz .d
    out DEBUGCON, al
    jmp .l
.d: call rm_nl
    ret

show:
    PUTS16 " ah="
    mov al, [res_ax + 1]
    call rm_hex8
    PUTS16 " cf="
    mov al, [res_fl]
    and al, 1
    add al, '0'
    out DEBUGCON, al
    call rm_nl
    ret

%include "inc/print16.inc"

drive: db 0
res_ax: dw 0
res_fl: dw 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
