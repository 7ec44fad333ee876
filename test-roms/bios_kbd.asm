; bios_kbd: a hard-disk boot program for the built-in BIOS (tests/bios.rs): the
; keyboard path end to end, and INT 15h AH=87h/24h, INT 1Ah midnight rollover.
; Scan codes are put into the i8042 output buffer with controller command D2h, so they
; raise IRQ1 as keys do: INT 09h -> INT 15h AH=4Fh -> the BIOS key buffer -> INT 16h.
; Sector 0 loads sectors 1-2 to 0000:7E00. Output on port E9h, exit through F4h.

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
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov ax, 0x0202
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

; Puts AL into the keyboard output buffer (i8042 command D2h) and waits until INT 09h
; has taken it.
key:
    push ax
.ibf:
    in al, 0x64
    test al, 2
    jnz .ibf
    mov al, 0xD2
    out 0x64, al
.ibf2:
    in al, 0x64
    test al, 2
    jnz .ibf2
    pop ax
    out 0x60, al
.obf:
    in al, 0x64
    test al, 1
    jnz .obf
    ret

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
    mov si, codes
.next:
    lodsb
    test al, al
    jz .typed
    call key
    jmp .next
.typed:
    mov ah, 0x02
    int 0x16
    PUTS16 "shift flags="
    call rm_hex8
    call rm_nl
.read:
    mov ah, 0x11
    int 0x16
    jz .empty
    mov ah, 0x10
    int 0x16
    PUTS16 "key="
    call rm_hex16
    call rm_nl
    jmp .read
.empty:
    ; INT 15h AH=87h: copy 8 bytes from 0000:9000 to 1 MiB + 64 KiB and back to 9100.
    mov dword [0x9000], 'move'
    mov dword [0x9004], 'd ok'
    mov word [gdt + 0x12], 0x9000       ; source base 009000h
    mov word [gdt + 0x1A], 0x0000       ; destination base 110000h
    mov byte [gdt + 0x1C], 0x11
    mov si, gdt
    mov cx, 4
    mov ah, 0x87
    SVC 0x15
    mov word [gdt + 0x12], 0x0000
    mov byte [gdt + 0x14], 0x11
    mov word [gdt + 0x1A], 0x9100
    mov byte [gdt + 0x1C], 0x00
    mov cx, 4
    mov ah, 0x87
    SVC 0x15
    PUTS16 "block move "
    mov si, 0x9100
    call rm_puts
    call show
    ; A20: disable, query, enable, query.
    mov ax, 0x2400
    int 0x15
    mov ax, 0x2402
    SVC 0x15
    PUTS16 "a20 off al="
    call rm_hex8
    call show
    mov ax, 0x2401
    int 0x15
    mov ax, 0x2402
    SVC 0x15
    PUTS16 "a20 on al="
    call rm_hex8
    call show
    ; Midnight: set the tick count just below 1800B0h and wait for the rollover.
    mov ah, 0x01
    mov cx, 0x0018
    mov dx, 0x00AF
    int 0x1A
    mov ah, 0x86
    mov cx, 0x0001
    mov dx, 0x0000
    int 0x15
    mov ah, 0x00
    int 0x1A
    PUTS16 "midnight al="
    call rm_hex8
    PUTS16 " cx="
    mov ax, cx
    call rm_hex16
    call rm_nl
    ; INT 14h on COM1: init 9600 8N1, send 'Z', receive (nothing: time-out), status.
    mov ax, 0x00E3
    xor dx, dx
    int 0x14
    PUTS16 "com init ax="
    call rm_hex16
    mov ax, 0x015A
    int 0x14
    PUTS16 " send ah="
    mov al, ah
    call rm_hex8
    mov ah, 0x02
    int 0x14
    PUTS16 " recv ah="
    mov al, ah
    call rm_hex8
    mov ah, 0x03
    mov dx, 7
    int 0x14
    PUTS16 " bad port ah="
    mov al, ah
    call rm_hex8
    call rm_nl
    EXIT 0

; Shift+a, b, Ctrl+c, CapsLock d, gray Up (E0 48), F1.
codes: db 0x2A, 0x1E, 0x9E, 0xAA, 0x30, 0xB0, 0x1D, 0x2E, 0xAE, 0x9D
       db 0x3A, 0xBA, 0x20, 0xA0, 0xE0, 0x48, 0xE0, 0xC8, 0x3B, 0xBB, 0
res_ax: dw 0
res_fl: dw 0
gdt: times 48 db 0
    db 0

    times 1536 - ($ - $$) db 0
