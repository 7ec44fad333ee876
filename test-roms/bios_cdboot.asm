; bios_cdboot: an El Torito no-emulation boot image for the built-in BIOS
; (tests/bios.rs builds the ISO around it). Loaded at 07C0:0000 with DL = E0h; it reads
; the CD through INT 13h extensions (2048-byte sectors): LBA 25 holds "cd-ok". Writes
; are refused (03h), CHS functions are not for CDs (01h), AX=4B01h describes the boot.
; Output on port E9h, exit through F4h.

%include "inc/common.inc"

%macro SVC 1
    int %1
    pushf
    pop word [res_fl]
    mov [res_ax], ax
%endmacro

[bits 16]
[org 0x7C00]

start:
    jmp 0x0000:normal
normal:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov [drive], dl
    PUTS16 "cd boot dl="
    mov al, dl
    call rm_hex8
    call rm_nl

    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, [drive]
    SVC 0x13
    PUTS16 "ext bx="
    mov ax, bx
    call rm_hex16
    call show

    mov word [params], 0x1A
    mov ah, 0x48
    mov dl, [drive]
    mov si, params
    SVC 0x13
    PUTS16 "sectors="
    mov eax, [params + 16]
    call rm_hex32
    PUTS16 " bps="
    mov ax, [params + 24]
    call rm_hex16
    call show

    mov ah, 0x42
    mov dl, [drive]
    mov si, dap
    SVC 0x13
    PUTS16 "read"
    call show
    mov si, 0x9000
    call rm_puts
    call rm_nl

    mov ax, 0x4300
    mov dl, [drive]
    mov si, dap
    SVC 0x13
    PUTS16 "write"
    call show

    mov ax, 0x0201
    mov cx, 0x0001
    mov dh, 0
    mov dl, [drive]
    mov bx, 0x9000
    SVC 0x13
    PUTS16 "chs"
    call show

    mov ax, 0x4B01
    mov dl, [drive]
    mov si, spec
    SVC 0x13
    PUTS16 "spec drive="
    mov al, [spec + 2]
    call rm_hex8
    PUTS16 " rba="
    mov eax, [spec + 4]
    call rm_hex32
    call show
    EXIT 0

show:
    push ax
    PUTS16 " ah="
    mov al, [res_ax + 1]
    call rm_hex8
    PUTS16 " cf="
    mov al, [res_fl]
    and al, 1
    add al, '0'
    out DEBUGCON, al
    call rm_nl
    pop ax
    ret

%include "inc/print16.inc"

drive: db 0
res_ax: dw 0
res_fl: dw 0
align 4
dap: db 0x10, 0
    dw 1
    dw 0x9000, 0
    dd 25, 0
params: times 0x1A db 0
spec: times 0x13 db 0

    times 2048 - ($ - $$) db 0
