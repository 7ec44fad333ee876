; bios_video: a diskette boot sector for the built-in BIOS (tests/bios.rs): INT 10h text
; services. Sets mode 03h, writes with AH=09h/0Ah and AH=13h, reads back with AH=08h,
; scrolls a window with AH=06h, then prints 30 numbered lines by teletype so the screen
; scrolls. The test reads the screen at B8000h afterwards. Output on port E9h.

%include "inc/common.inc"

[bits 16]
[org 0x7C00]

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ax, 0x0003
    int 0x10
    mov ah, 0x0F
    int 0x10
    PUTS16 "mode ax="
    call rm_hex16
    PUTS16 " bh="
    mov al, bh
    call rm_hex8
    call rm_nl
    ; 'X' x3 in attribute 1Eh at row 2, column 10; then 'y' over the first, attr kept.
    mov ah, 0x02
    xor bh, bh
    mov dx, 0x020A
    int 0x10
    mov ax, 0x0958
    mov bx, 0x001E
    mov cx, 3
    int 0x10
    mov ax, 0x0A79
    mov cx, 1
    int 0x10
    mov ah, 0x08
    int 0x10
    PUTS16 "read ax="
    call rm_hex16
    call rm_nl
    ; AH=13h, AL=1: string at row 4 column 0, attribute 2Fh, cursor moves.
    mov ax, 0x1301
    mov bx, 0x002F
    mov cx, msg_end - msg
    mov dx, 0x0400
    mov bp, msg
    int 0x10
    mov ah, 0x03
    int 0x10
    PUTS16 "after 13h dx="
    mov ax, dx
    call rm_hex16
    call rm_nl
    ; Scroll rows 2-4 up by one in columns 0-79 with attribute 70h: row 4 goes to 3.
    mov ax, 0x0601
    mov bh, 0x70
    mov cx, 0x0200
    mov dx, 0x044F
    int 0x10
    mov dx, 0x0300
    call readat
    mov dx, 0x0400
    call readat
    call rm_nl
    ; VGA information.
    mov ah, 0x12
    mov bl, 0x10
    int 0x10
    mov ax, 0x1A00
    int 0x10
    PUTS16 "dcc al="
    call rm_hex8
    PUTS16 " bx="
    mov ax, bx
    call rm_hex16
    call rm_nl
    ; 30 teletype lines: "line NN".
    mov ax, 0x0200
    xor bx, bx
    mov dx, 0x1800
    int 0x10
    mov cx, 0
.line:
    mov si, txt
.c: lodsb
    test al, al
    jz .num
    mov ah, 0x0E
    int 0x10
    jmp .c
.num:
    mov al, cl
    aam
    add ax, 0x3030
    push ax
    mov al, ah
    mov ah, 0x0E
    int 0x10
    pop ax
    mov ah, 0x0E
    int 0x10
    mov ax, 0x0E0D
    int 0x10
    mov ax, 0x0E0A
    int 0x10
    inc cx
    cmp cx, 30
    jb .line
    mov ah, 0x03
    xor bh, bh
    int 0x10
    PUTS16 "end dx="
    mov ax, dx
    call rm_hex16
    call rm_nl
    EXIT 0

; Prints " XXXX": char/attribute at row DH, column DL of page 0.
readat:
    mov ah, 0x02
    xor bh, bh
    int 0x10
    mov ah, 0x08
    int 0x10
    push ax
    mov al, ' '
    out DEBUGCON, al
    pop ax
    jmp rm_hex16

msg: db 'Hi there'
msg_end:
txt: db 'line ', 0

%include "inc/print16.inc"

    times 510 - ($ - $$) db 0
    dw 0xAA55
