; rtc: the MC146818A RTC/CMOS at 0x70/0x71 (IRQ8 through the slave 8259A). Register D
; (VRT), register B's power-on format, the CMOS memory-size fields and checksum, the
; update-in-progress bit, and 1024 periodic interrupts (rate select 6 = 976.5 us) that
; must span about one second of RTC time. Motorola MC146818A datasheet; IBM PC/AT CMOS
; map. Nothing printed depends on the time of day. QEMU 7.2 leaves the checksum at
; 0x2E/0x2F unset (its line reads BAD); the golden file has the standard "ok".
%include "inc/common.inc"
[bits 16]
org 0

%define COUNT 0x500             ; word: periodic interrupts seen

%macro CMOS_READ 1              ; AL = CMOS[%1], NMI stays enabled
    mov al, %1
    out 0x70, al
    in al, 0x71
%endmacro

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [COUNT], 0
    mov word [0x70 * 4], irq8   ; IRQ8 at slave base 0x70
    mov word [0x70 * 4 + 2], ROM_SEG
    ; Spurious IRQ7/IRQ15 (a request withdrawn before INTA: reading register C lowers
    ; IRQ8, and an 8259A keeps INT asserted until the acknowledge, per its datasheet).
    mov word [0x0f * 4], spurious7
    mov word [0x0f * 4 + 2], ROM_SEG
    mov word [0x77 * 4], spurious15
    mov word [0x77 * 4 + 2], ROM_SEG
    ; 8259A pair: master base 0x08, slave base 0x70; unmask IRQ2 (cascade) and IRQ8.
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x70
    out 0xa1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0x21, al
    out 0xa1, al
    mov al, 0xfb
    out 0x21, al
    mov al, 0xfe
    out 0xa1, al

    CMOS_READ 0x0d
    PUTS16 "reg d: "
    call rm_hex8
    call rm_nl
    CMOS_READ 0x0b
    PUTS16 "reg b: "
    call rm_hex8
    call rm_nl
    CMOS_READ 0x16
    mov ah, al
    CMOS_READ 0x15
    PUTS16 "base memory KiB: "
    call rm_hex16
    call rm_nl
    CMOS_READ 0x18
    mov ah, al
    CMOS_READ 0x17
    PUTS16 "extended memory KiB: "
    call rm_hex16
    call rm_nl
    ; checksum of 0x10-0x2D against 0x2E (high) / 0x2F (low)
    xor bx, bx
    mov cl, 0x10
.sum:
    mov al, cl
    out 0x70, al
    in al, 0x71
    xor ah, ah
    add bx, ax
    inc cl
    cmp cl, 0x2e
    jb .sum
    CMOS_READ 0x2e
    mov ah, al
    CMOS_READ 0x2f
    cmp ax, bx
    jne .badsum
    PUTS16 "checksum: ok", 10
    jmp .uip
.badsum:
    PUTS16 "checksum: BAD", 10

.uip:
    ; Wait for an update cycle: UIP (register A bit 7) rises, then falls.
    mov ecx, 50000000
.up:
    CMOS_READ 0x0a
    test al, 0x80
    jnz .down
    dec ecx
    jnz .up
    PUTS16 "uip: never set", 10
    jmp .periodic
.down:
    CMOS_READ 0x0a
    test al, 0x80
    jnz .down
    PUTS16 "uip: set then clear", 10

.periodic:
    CMOS_READ 0x00
    mov [0x502], al             ; seconds (BCD) at the start
    ; rate 6 (1024 Hz), periodic interrupt enable
    mov al, 0x0a
    out 0x70, al
    mov al, 0x26
    out 0x71, al
    mov al, 0x0b
    out 0x70, al
    in al, 0x71
    or al, 0x40
    mov ah, al
    mov al, 0x0b
    out 0x70, al
    mov al, ah
    out 0x71, al
    CMOS_READ 0x0c              ; clear pending flags
    sti
.wait:
    hlt
    cmp word [COUNT], 1024
    jb .wait
    cli
    CMOS_READ 0x00
    mov bl, al
    PUTS16 "periodic interrupts: "
    mov ax, [COUNT]
    call rm_hex16
    call rm_nl
    ; elapsed RTC seconds (BCD, within a minute): 1 expected, 0..2 tolerated
    mov al, bl
    call bcd2bin
    mov bl, al
    mov al, [0x502]
    call bcd2bin
    sub bl, al
    jns .pos
    add bl, 60
.pos:
    cmp bl, 2
    ja .slow
    PUTS16 "rtc seconds over 1024 ticks: 0-2, ok", 10
    EXIT 0
.slow:
    PUTS16 "rtc seconds over 1024 ticks: too many", 10
    EXIT 0

; AL (BCD) -> AL (binary)
bcd2bin:
    push bx
    mov bl, al
    shr al, 4
    mov bh, 10
    mul bh
    and bl, 0x0f
    add al, bl
    pop bx
    ret

irq8:
    push ax
    push ds
    xor ax, ax
    mov ds, ax
    mov al, 0x0c                ; reading C acknowledges the RTC
    out 0x70, al
    in al, 0x71
    test al, 0x40
    jz .eoi
    inc word [COUNT]
.eoi:
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    pop ds
    pop ax
    iret

spurious7:
    iret

spurious15:
    push ax
    mov al, 0x20                ; the master's IR2 is in service, the slave's IR7 not
    out 0x20, al
    pop ax
    iret

%include "inc/print16.inc"
ROM_FOOTER
