; uart: COM1 (16550A at 0x3F8, IRQ4) in loopback: divisor latch, line control, FIFOs,
; the scratch register, polled transmit/receive of a string, then a received-data
; interrupt through the 8259A with IIR showing its source. National Semiconductor
; PC16550D datasheet (register map, IIR encoding, MCR loopback).
%include "inc/common.inc"
[bits 16]
org 0

%define COM1 0x3f8
%define GOT  0x500              ; byte: received in the IRQ handler
%define IIRV 0x501              ; byte: IIR seen in the IRQ handler

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov byte [GOT], 0
    mov word [0x0c * 4], irq4   ; IRQ4 at master base 0x08 -> vector 0x0C
    mov word [0x0c * 4 + 2], ROM_SEG
    ; 8259A master, base 0x08, only IRQ4 (and cascade) unmasked
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xeb
    out 0x21, al

    ; 115200 8N1: DLAB, divisor 1, back to LCR 0x03
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
    ; divisor reads back with DLAB set
    mov al, 0x83
    out dx, al
    mov dx, COM1
    in al, dx
    PUTS16 "dll: "
    call rm_hex8
    call rm_nl
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    in al, dx
    PUTS16 "lcr: "
    call rm_hex8
    call rm_nl
    ; scratch register
    mov dx, COM1 + 7
    mov al, 0x5a
    out dx, al
    in al, dx
    PUTS16 "scr: "
    call rm_hex8
    call rm_nl
    ; FIFOs on (reset both), trigger level 1
    mov dx, COM1 + 2
    mov al, 0x07
    out dx, al
    in al, dx
    PUTS16 "iir (fifo, idle): "
    call rm_hex8
    call rm_nl
    ; loopback, OUT2 (gates the IRQ on PCs)
    mov dx, COM1 + 4
    mov al, 0x18
    out dx, al
    mov dx, COM1 + 5
    in al, dx
    PUTS16 "lsr (empty): "
    call rm_hex8
    call rm_nl

    ; polled loopback of a string
    PUTS16 "loopback: "
    mov si, message
.next:
    cs lodsb
    test al, al
    jz .done
    mov bl, al
.wait_thre:
    mov dx, COM1 + 5
    in al, dx
    test al, 0x20
    jz .wait_thre
    mov dx, COM1
    mov al, bl
    out dx, al
.wait_dr:
    mov dx, COM1 + 5
    in al, dx
    test al, 0x01
    jz .wait_dr
    mov dx, COM1
    in al, dx
    out DEBUGCON, al
    jmp .next
.done:
    call rm_nl

    ; interrupt-driven receive: IER received-data-available, send one byte, HLT.
    mov dx, COM1 + 1
    mov al, 0x01
    out dx, al
    sti
    mov dx, COM1
    mov al, 'Z'
    out dx, al
.idle:
    hlt
    cmp byte [GOT], 0
    je .idle
    cli
    PUTS16 "irq4 iir: "
    mov al, [IIRV]
    call rm_hex8
    call rm_nl
    PUTS16 "irq4 data: "
    mov al, [GOT]
    out DEBUGCON, al
    call rm_nl
    mov dx, COM1 + 2
    in al, dx
    PUTS16 "iir after read: "
    call rm_hex8
    call rm_nl
    EXIT 0

irq4:
    push ax
    push dx
    push ds
    xor ax, ax
    mov ds, ax
    mov dx, COM1 + 2
    in al, dx
    mov [IIRV], al
    mov dx, COM1
    in al, dx
    mov [GOT], al
    mov al, 0x20
    out 0x20, al
    pop ds
    pop dx
    pop ax
    iret

message: db "rx86 16550A", 0

%include "inc/print16.inc"
ROM_FOOTER
