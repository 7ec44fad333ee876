; bios_services: a hard-disk boot program for the built-in BIOS (tests/bios.rs) that
; calls the system services and prints their results on the debug console (port E9h):
; INT 11h/12h, INT 15h E820h (the whole map), E801h, 88h, C0h, 86h (with the tick
; count), INT 1Ah PCI BIOS (installation check, find 8086:7010, config reads, a device
; that is not there), INT 10h teletype/cursor, INT 16h keys typed on COM1.
; Sector 0 loads sectors 1-3 to 0000:7E00 with INT 13h AH=02h.

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
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov ax, 0x0203
    mov cx, 0x0002
    mov dh, 0
    mov bx, 0x7E00
    int 0x13
    jc .fail
    jmp stage2
.fail:
    PUTS16 "stage 1 failed", 10
    EXIT 2

%include "inc/print16.inc"

    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---- Sector 1 onwards ----

; Prints " ah=XX cf=N" and a newline for the last SVC result.
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

stage2:
    SVC 0x11
    PUTS16 "equipment="
    call rm_hex16
    call rm_nl
    SVC 0x12
    PUTS16 "base kib="
    call rm_hex16
    call rm_nl

    ; E820h: walk the map with the continuation value.
    xor ebx, ebx
.e820:
    mov eax, 0xE820
    mov edx, 0x534D4150
    mov ecx, 20
    mov di, e820_buf
    SVC 0x15
    jc .e820_done
    cmp eax, 0x534D4150
    jne .e820_done
    PUTS16 "e820 "
    mov eax, [e820_buf + 4]
    call rm_hex32
    mov eax, [e820_buf]
    call rm_hex32
    mov al, ' '
    out DEBUGCON, al
    mov eax, [e820_buf + 12]
    call rm_hex32
    mov eax, [e820_buf + 8]
    call rm_hex32
    mov al, ' '
    out DEBUGCON, al
    mov al, [e820_buf + 16]
    call rm_hex8
    call rm_nl
    test ebx, ebx
    jnz .e820
.e820_done:
    ; A bad continuation value fails.
    mov eax, 0xE820
    mov edx, 0x534D4150
    mov ebx, 99
    mov ecx, 20
    mov di, e820_buf
    SVC 0x15
    PUTS16 "e820 bad"
    call show

    mov ax, 0xE801
    SVC 0x15
    PUTS16 "e801 ax="
    call rm_hex16
    PUTS16 " bx="
    mov ax, bx
    call rm_hex16
    call rm_nl
    mov ah, 0x88
    SVC 0x15
    PUTS16 "ext kib="
    call rm_hex16
    call rm_nl
    mov ah, 0xC0
    SVC 0x15
    PUTS16 "model="
    mov al, [es:bx + 2]
    call rm_hex8
    call show
    xor ax, ax
    mov es, ax
    mov ah, 0x99
    SVC 0x15
    PUTS16 "int15 99h"
    call show

    ; AH=86h: wait 200 ms; the timer must have ticked meanwhile.
    mov ah, 0x00
    int 0x1A
    mov [ticks], dx
    mov ah, 0x86
    mov cx, 0x0003
    mov dx, 0x0D40
    SVC 0x15
    mov ah, 0x00
    int 0x1A
    sub dx, [ticks]
    cmp dx, 3
    jb .slow
    PUTS16 "wait ticks ok"
    jmp .waited
.slow:
    PUTS16 "wait ticks short"
.waited:
    call show

    ; PCI BIOS.
    mov ax, 0xB101
    xor edi, edi
    SVC 0x1A
    PUTS16 "pci "
    mov [sig], edx
    mov si, sig
    call rm_puts
    PUTS16 "al="
    call rm_hex8
    PUTS16 " bx="
    mov ax, bx
    call rm_hex16
    call show
    mov ax, 0xB102
    mov cx, 0x7010
    mov dx, 0x8086
    xor si, si
    SVC 0x1A
    PUTS16 "ide at bx="
    mov ax, bx
    call rm_hex16
    call show
    mov ax, 0xB10A
    mov di, 0x00
    SVC 0x1A
    PUTS16 "id="
    mov eax, ecx
    call rm_hex32
    call show
    mov ax, 0xB10A
    mov di, 0x20
    SVC 0x1A
    PUTS16 "bar4="
    mov eax, ecx
    call rm_hex32
    call show
    mov ax, 0xB109
    mov di, 0x03
    SVC 0x1A
    PUTS16 "odd word"
    call show
    mov ax, 0xB103
    mov ecx, 0x010180
    xor si, si
    SVC 0x1A
    PUTS16 "class ide bx="
    mov ax, bx
    call rm_hex16
    call show
    mov ax, 0xB102
    mov cx, 0x1234
    mov dx, 0x8086
    xor si, si
    SVC 0x1A
    PUTS16 "absent"
    call show

    ; INT 10h: teletype (mirrored to COM1), then the cursor position.
    mov si, hello
.tty:
    lodsb
    test al, al
    jz .tty_done
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .tty
.tty_done:
    mov ah, 0x03
    mov bh, 0
    int 0x10
    PUTS16 "cursor="
    mov ax, dx
    call rm_hex16
    call rm_nl

    ; INT 16h: two keys typed on the serial console.
    PUTS16 "type", 10
    mov ah, 0x00
    int 0x16
    PUTS16 "key="
    call rm_hex16
    call rm_nl
    mov ah, 0x10
    int 0x16
    PUTS16 "key="
    call rm_hex16
    call rm_nl
    mov ah, 0x01
    SVC 0x16
    PUTS16 "empty zf="
    mov al, [res_fl]
    shr al, 6
    and al, 1
    call rm_hex8
    call rm_nl

    EXIT 0

hello: db 'Hello from INT 10h', 13, 10, 0
res_ax: dw 0
res_fl: dw 0
ticks: dw 0
sig: dd 0
    db 0
e820_buf: times 24 db 0

    times 2048 - ($ - $$) db 0
