; reset: the A20 gate and the ways a PC resets its CPU. A20 through port 0x92 (PS/2
; System Control Port A bit 1) and through the i8042 output port (command 0xD1, bit 1):
; with A20 off, 0x100500 aliases 0x000500. Resets through the i8042 (command 0xFE),
; port 0x92 bit 0 and the PIIX3 reset control register 0xCF9 (bit 2): each one brings
; the CPU back to F000:FFF0 with RAM intact, counted in RAM at 0x600.
%include "inc/common.inc"
[bits 16]
org 0

%define BOOTS 0x600

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov ax, 0xffff
    mov es, ax                  ; ES:0x510 = linear 0x100500
    cmp word [BOOTS + 2], 0x5a5a
    je .warm
    mov word [BOOTS], 0
    mov word [BOOTS + 2], 0x5a5a
.warm:
    inc word [BOOTS]
    PUTS16 "boot "
    mov ax, [BOOTS]
    call rm_hex16
    call rm_nl
    mov ax, [BOOTS]
    cmp ax, 1
    je first
    cmp ax, 2
    je second
    cmp ax, 3
    je third
    PUTS16 "done", 10
    EXIT 0

first:
    ; --- A20 via port 0x92 ---
    in al, 0x92
    and al, 0xfd
    out 0x92, al
    call probe
    PUTS16 "0x92 a20 off: wraps="
    call rm_hex8
    call rm_nl
    in al, 0x92
    or al, 0x02
    out 0x92, al
    call probe
    PUTS16 "0x92 a20 on: wraps="
    call rm_hex8
    call rm_nl
    ; --- A20 via the keyboard controller output port (0x92 bit 1 now off) ---
    in al, 0x92
    and al, 0xfd
    out 0x92, al
    call kbc_wait
    mov al, 0xd1
    out 0x64, al
    call kbc_wait
    mov al, 0x01                ; reset line inactive (bit 0 = 1), A20 off
    out 0x60, al
    call kbc_wait
    call probe
    PUTS16 "kbc a20 off: wraps="
    call rm_hex8
    call rm_nl
    mov al, 0xd1
    out 0x64, al
    call kbc_wait
    mov al, 0x03                ; A20 on
    out 0x60, al
    call kbc_wait
    call probe
    PUTS16 "kbc a20 on: wraps="
    call rm_hex8
    call rm_nl
    PUTS16 "reset via i8042 0xFE", 10
    mov al, 0xfe
    out 0x64, al
.hang1:
    hlt
    jmp .hang1

second:
    PUTS16 "reset via port 0x92 bit 0", 10
    in al, 0x92
    or al, 0x01
    out 0x92, al
.hang2:
    hlt
    jmp .hang2

third:
    PUTS16 "reset via 0xCF9", 10
    mov dx, 0xcf9
    mov al, 0x02
    out dx, al
    mov al, 0x06
    out dx, al
.hang3:
    hlt
    jmp .hang3

; AL = 1 if linear 0x100500 aliases 0x000500, else 0.
probe:
    mov byte [0x500], 0x11
    mov byte [es:0x510], 0x22
    mov al, [0x500]
    cmp al, 0x22
    sete al
    ret

; Waits until the i8042 input buffer is empty.
kbc_wait:
    push ax
.w:
    in al, 0x64
    test al, 0x02
    jnz .w
    pop ax
    ret

%include "inc/print16.inc"
ROM_FOOTER
