; echo: the serial console. COM1 at 115200 8N1 with FIFOs; prints the RTC time and a
; PIT counter-0 latch on COM1 (timing-dependent values: with --deterministic two runs
; print the same bytes), then echoes every byte received on COM1 to COM1 and to the
; debug console until a newline arrives. PC16550D datasheet; MC146818A; Intel 8254.
%include "inc/common.inc"
[bits 16]
org 0

%define COM1 0x3f8

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 0x01
    out dx, al
    mov dx, COM1 + 1
    mov al, 0x00
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    mov dx, COM1 + 2
    mov al, 0x07
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x03                ; DTR, RTS
    out dx, al

    ; PIT counter 0 running in mode 2, latched after some work
    mov al, 0x34
    out 0x43, al
    xor al, al
    out 0x40, al
    out 0x40, al
    mov si, msg_rtc
    call com_puts
    mov al, 0x04
    call rtc_byte
    mov al, ':'
    call com_putc
    mov al, 0x02
    call rtc_byte
    mov al, ':'
    call com_putc
    mov al, 0x00
    call rtc_byte
    mov si, msg_pit
    call com_puts
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    push ax
    mov al, ah
    call com_hex8
    pop ax
    call com_hex8
    mov si, msg_ready
    call com_puts

.loop:
    mov dx, COM1 + 5
    in al, dx
    test al, 0x01
    jz .loop
    mov dx, COM1
    in al, dx
    out DEBUGCON, al
    call com_putc
    cmp al, 10
    jne .loop
    EXIT 0

; AL = RTC register; prints its BCD value on COM1
rtc_byte:
    out 0x70, al
    in al, 0x71
    jmp com_hex8

com_hex8:
    push ax
    shr al, 4
    call .nib
    pop ax
.nib:
    push ax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '0' - 10
.out:
    call com_putc
    pop ax
    ret

; CS:SI -> NUL-terminated string on COM1
com_puts:
    push ax
.n:
    cs lodsb
    test al, al
    jz .d
    call com_putc
    jmp .n
.d:
    pop ax
    ret

; AL -> COM1 (waits for THRE)
com_putc:
    push dx
    push ax
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

msg_rtc:   db "rtc ", 0
msg_pit:   db 13, 10, "pit ", 0
msg_ready: db 13, 10, "ready", 13, 10, 0

%include "inc/print16.inc"
ROM_FOOTER
