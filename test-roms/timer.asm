; timer: programs the 8259A pair and 8254 counter 0 as a PC BIOS does, then counts
; IRQ0s: 200 interrupts at 1000 Hz (mode 2, count 1193), each through the IVT with an
; EOI. It checks the PIC's ISR/IRR reads and that counter 0 counts down, then waits with
; HLT and reports how many ticks arrived. Datasheets: Intel 8259A (ICW/OCW), Intel 8254
; (control word, counter latch).
%include "inc/common.inc"
[bits 16]
org 0

%define TICKS  0x500            ; dword: IRQ0 count (RAM)

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov dword [TICKS], 0
    ; IVT: vector 0x08 (IRQ0 with the BIOS's master base 0x08) -> irq0
    mov word [0x08 * 4], irq0
    mov word [0x08 * 4 + 2], ROM_SEG

    ; 8259A master: ICW1 edge, cascade, ICW4; ICW2 base 0x08; ICW3 slave on IRQ2; ICW4 8086.
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    ; slave: base 0x70, cascade identity 2
    mov al, 0x11
    out 0xa0, al
    mov al, 0x70
    out 0xa1, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0xa1, al
    ; mask everything but IRQ0 (and the cascade)
    mov al, 0xfa
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    in al, 0x21
    PUTS16 "imr: "
    call rm_hex8
    call rm_nl

    ; 8254 counter 0: mode 2, LSB then MSB, binary; 1193 -> 1000.15 Hz
    mov al, 0x34
    out 0x43, al
    mov ax, 1193
    out 0x40, al
    mov al, ah
    out 0x40, al

    ; The counter counts down: latch twice and compare (a few instructions apart).
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov bl, al
    in al, 0x40
    mov bh, al
    mov cx, 200
.spin:
    loop .spin
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov dl, al
    in al, 0x40
    mov dh, al
    cmp bx, 1193
    ja .bad
    cmp dx, bx
    je .bad
    PUTS16 "counter 0 counts: ok", 10
    jmp .count
.bad:
    PUTS16 "counter 0 counts: BAD", 10

.count:
    sti
.wait:
    hlt
    cmp dword [TICKS], 200
    jb .wait
    cli
    PUTS16 "isr in handler: "
    mov al, [0x504]
    call rm_hex8
    call rm_nl
    PUTS16 "ticks: "
    mov eax, [TICKS]
    call rm_hex32
    call rm_nl
    ; After the last EOI nothing is in service.
    mov al, 0x0b                ; OCW3: read ISR
    out 0x20, al
    in al, 0x20
    PUTS16 "isr after eoi: "
    call rm_hex8
    call rm_nl
    EXIT 0

irq0:
    push ax
    push ds
    xor ax, ax
    mov ds, ax
    inc dword [TICKS]
    cmp dword [TICKS], 1
    jne .eoi
    mov al, 0x0b                ; OCW3: read ISR, in service now
    out 0x20, al
    in al, 0x20
    mov [0x504], al
.eoi:
    mov al, 0x20                ; OCW2: non-specific EOI
    out 0x20, al
    pop ds
    pop ax
    iret

%include "inc/print16.inc"
ROM_FOOTER
