; fpu_irq13: x87 error reporting in MS-DOS compatibility mode (CR0.NE=0): FERR# -> IRQ13.
;
; Real mode. The 8259A pair is programmed as a PC BIOS does (master base 08h, slave base
; 70h, slave on IR2), only IRQ13 (slave IR5, vector 75h) and the cascade are unmasked.
; An unmasked x87 exception sets ES; with NE=0 and IGNNE# inactive the processor asserts
; FERR# (at the latest just before the next waiting x87 instruction or WAIT) and, on a
; PC, FERR# reaches the slave PIC as IRQ13. The IRQ13 handler does what the SDM's
; MS-DOS compatibility handler does (SDM Vol. 1 Appendix D, D.2.1 and D.3.4): a write
; to port F0h (clears the IRQ13 latch and asserts IGNNE#), FNCLEX (clears ES, so FERR#
; goes away and the chipset releases IGNNE#), EOI to the slave and the master, IRET.
; The handler prints the vector, FSW & 80FF (B, ES, SF and the six flags; TOP is left
; out because implementations differ in whether the waiting instruction has run when
; the interrupt is taken) and the in-service registers of both PICs. The main code
; then prints how many IRQ13s arrived.
;
; The waiting instruction runs with IF=1 and the interrupt may arrive before it (the
; processor freezes there until the handler has run) or, with QEMU and Bochs, just
; after it; the ROM only counts interrupts after a short delay.
;
; Everything that raises IRQ13 is left out of fpu_irq13.expected: QEMU 7.2 aborts
; ("tcg_handle_interrupt: assertion failed: (qemu_mutex_iothread_locked())") as soon
; as a waiting instruction raises FERR# with CR0.NE=0 (its fpu_check_raise_ferr_irq
; raises the PIC line without taking the iothread lock; later QEMU versions take it).
; Besides, QEMU 7.2 keeps IGNNE# asserted after the handler's FNCLEX (it only releases
; it when FLDENV/FRSTOR load a status word with ES=0), so a second x87 error would give
; no IRQ13, and it raises FERR# only at FWAIT/FNOP, not at other waiting x87
; instructions. So fpu_irq13.expected only has the masked case (no IRQ13); the IRQ13
; cases are in the %ifdef SDM_EXTRA block (fpu_irq13_sdm.asm; fpu_irq13_sdm.expected,
; checked with Bochs 2.7, whose extfpuirq device clears IRQ13 on the port F0h write).
; A QEMU that gets this far needs -cpu pentium2,-apic (a CPU without a local APIC:
; with an APIC that no BIOS has set up, QEMU passes no PIC interrupt to the CPU).
; Per the SDM and the PC circuit (SDM Vol. 1 Figure D-1):
;   fdiv 1.0/0.0 with ZM=0 (IF=0), then sti, fwait: IRQ13 (vector 75) fsw&80FF=8084 isr slave=20 master=04
;     irq13 count: 01
;     fsw before the fwait (B ES ZE): B884
;     fsw after: 3800
;   second error, fwait: IRQ13 (vector 75) fsw&80FF=8084 isr slave=20 master=04
;     irq13 count: 01
;     fsw after: 3800
;   third error, fld1 as the next waiting instruction: IRQ13 (vector 75) fsw&80FF=8084 isr slave=20 master=04
;     irq13 count: 01
;     fsw after (fld1 ran once): 3000
%include "inc/common.inc"
%include "inc/sys.inc"
%include "inc/fpu.inc"

%define IRQ_COUNT 0x500                 ; byte: IRQ13s taken
%define TMP       0x510
%define IRQ13_VEC 0x75

[bits 16]
org 0

; TRIGGER "name" : FNINIT, FCW 037B, st0 = 1.0, FDIV by 0.0 with IF=0 (ZE unmasked:
; ES pending), clear the count and print "name:"
%macro TRIGGER 1+
    PUTS16 %1, ":"
    mov byte [IRQ_COUNT], 0
    fninit
    fldcw [cs:cw_zm0]
    fld1
    fdiv dword [cs:f_zero]
%endmacro
; SETTLE : give the interrupt time to arrive, then CLI and print the count
%macro SETTLE 0
    mov cx, 1000
%%w:
    cmp byte [IRQ_COUNT], 0
    jne %%got
    loop %%w
%%got:
    mov cx, 100                         ; a second IRQ13 would show as count 2
%%w2:
    loop %%w2
    cli
    call rm_nl
    RPUTV8 "  irq13 count", [IRQ_COUNT]
%endmacro

%macro RPUTV8 2
    PUTS16 %1, ": "
    push ax
    mov al, %2
    call rm_hex8
    call rm_nl
    pop ax
%endmacro

start:
    cli
    cld
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    ; IVT: every vector -> unexpected, 75h -> irq13
    xor di, di
    mov cx, 256
.ivt:
    mov word [di], unexpected
    mov word [di + 2], ROM_SEG
    add di, 4
    loop .ivt
    mov word [IRQ13_VEC * 4], irq13
    mov byte [IRQ_COUNT], 0

    ; 8259A master: ICW1 edge, cascade, ICW4; ICW2 base 08h; ICW3 slave on IR2; ICW4 8086
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    ; slave: base 70h, cascade identity 2
    mov al, 0x11
    out 0xA0, al
    mov al, 0x70
    out 0xA1, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01
    out 0xA1, al
    ; unmask IRQ2 (cascade) and IRQ13 only
    mov al, 0xFB
    out 0x21, al
    mov al, 0xDF
    out 0xA1, al

    mov eax, cr0
    and eax, ~(CR0_NE | CR0_EM | CR0_TS)
    or eax, CR0_MP
    mov cr0, eax
    PUTS16 "fpu_irq13: CR0.NE=0, x87 errors through FERR# -> IRQ13 (vector 75h)", 10
    mov eax, cr0
    and eax, CR0_NE | CR0_TS | CR0_EM | CR0_MP
    RPUTV32 "cr0 NE/TS/EM/MP", eax
    in al, 0xA1
    RPUTV8 "slave imr", al

    ; ------------------------------------------------------------ masked: no IRQ13
    PUTS16 "fdiv 1.0/0.0 with ZM=1 (masked), fwait:"
    mov byte [IRQ_COUNT], 0
    fninit
    fld1
    fdiv dword [cs:f_zero]
    sti
    fwait
    SETTLE
    fnstsw [TMP]
    RPUTV16 "  fsw (ZE, no ES)", [TMP]

%ifdef SDM_EXTRA
    ; ------------------------------------------------------------ unmasked: IRQ13
    TRIGGER "fdiv 1.0/0.0 with ZM=0 (IF=0), then sti, fwait"
    fnstsw [TMP]
    mov ax, [TMP]
    sti
    fwait
    SETTLE
    RPUTV16 "  fsw before the fwait (B ES ZE)", ax
    fnstsw [TMP]
    RPUTV16 "  fsw after", [TMP]
    TRIGGER "second error, fwait"
    sti
    fwait
    SETTLE
    fnstsw [TMP]
    RPUTV16 "  fsw after", [TMP]
    TRIGGER "third error, fld1 as the next waiting instruction"
    sti
    fld1
    SETTLE
    fnstsw [TMP]
    RPUTV16 "  fsw after (fld1 ran once)", [TMP]
%endif

    ; the PICs are idle again
    mov al, 0x0B
    out 0xA0, al
    in al, 0xA0
    RPUTV8 "slave isr at the end", al
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    RPUTV8 "master isr at the end", al
    mov al, 0x0A
    out 0xA0, al
    out 0x20, al
    PUTS16 "fpu_irq13: done", 10
    EXIT 0

; ---- IRQ13 handler (vector 75h) ----
irq13:
    push ax
    push ds
    xor ax, ax
    mov ds, ax
    inc byte [IRQ_COUNT]
    PUTS16 " IRQ13 (vector 75) fsw&80FF="
    fnstsw ax
    and ax, 0x80FF
    call rm_hex16
    PUTS16 " isr slave="
    mov al, 0x0B                        ; OCW3: read ISR
    out 0xA0, al
    in al, 0xA0
    call rm_hex8
    PUTS16 " master="
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    call rm_hex8
    mov al, 0x0A                        ; back to reading IRR
    out 0xA0, al
    out 0x20, al
    xor al, al
    out 0xF0, al                        ; clear the FERR# latch / IRQ13, assert IGNNE#
    fnclex                              ; ES=0: FERR# and IGNNE# go away
    mov al, 0x20                        ; non-specific EOI, slave then master
    out 0xA0, al
    out 0x20, al
    pop ds
    pop ax
    iret

unexpected:
    PUTS16 10, "fpu_irq13: FAIL: unexpected interrupt", 10
    EXIT 1

%include "inc/print16.inc"

align 4
f_zero: dd 0.0
cw_zm0: dw 0x037B

ROM_FOOTER
