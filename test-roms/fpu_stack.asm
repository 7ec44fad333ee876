; fpu_stack: the x87 register stack: TOP, the tag word, and stack overflow/underflow
; with the invalid-operation exception masked (FCW 037F after FNINIT).
;
; Real mode, IF=0, CR0.NE=0 (no exception is unmasked). FSW values are printed ANDed
; with BAFF (B, TOP, C1, ES, SF and the six flags): C0/C2/C3 are undefined after most
; of these instructions; FCOM prints the whole word. The tag word comes from FNSTENV
; (2 bits per physical register R7..R0: 00 valid, 01 zero, 10 special, 11 empty).
; 80-bit values are printed as "EEEE:MMMMMMMMMMMMMMMM" (inc/fpu.inc).
;
; SDM Vol. 1 8.1.2-8.1.7 (stack, TOP, tags), 8.5.1.1 "Stack Overflow or Underflow
; Exception (#IS)": IE=1 and SF=1; C1=1 for overflow, 0 for underflow; with IE masked,
; the destination gets the indefinite value: the real indefinite FFFF:C000000000000000
; in a register or floating-point memory operand, 8000 / 80000000 as an integer.
;
; QEMU 7.2 (TCG) tracks TOP and the tags but detects no stack fault: a push onto a full
; stack or a read of an empty register is not an exception there. Those cases are in
; the %ifdef SDM_EXTRA block (fpu_stack_sdm.asm builds it; fpu_stack_sdm.expected,
; checked with Bochs 2.7), with their SDM-expected lines in a comment.
%include "inc/common.inc"
%include "inc/sys.inc"
%include "inc/fpu.inc"

%define ENV  0x3000                     ; FNSTENV area (14 bytes, 16-bit real-mode layout)
%define TMP  0x3100

[bits 16]
org 0

; PFSW "name" : print "name: " and FNSTSW & BAFF
%macro PFSW 1+
    fnstsw ax
    and ax, 0xBAFF
    RPUTV16 %1, ax
%endmacro
; PFTW "name" : print the tag word (FNSTENV masks all exceptions: they already are)
%macro PFTW 1+
    fnstenv [ENV]
    RPUTV16 %1, [ENV + 4]
%endmacro
; POPP "name" : FSTP m80, then print "name: value fsw=SSSS"
%macro POPP 1+
    fstp tword [TMP]
    PUTS16 %1, ": "
    push si
    mov si, TMP
    call rm_f80
    pop si
    PUTS16 " fsw="
    fnstsw ax
    and ax, 0xBAFF
    call rm_hex16
    call rm_nl
%endmacro

start:
    cli
    cld
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov eax, cr0
    and eax, ~(CR0_EM | CR0_TS | CR0_NE)
    or eax, CR0_MP
    mov cr0, eax
    PUTS16 "fpu_stack: real mode, exceptions masked", 10

    fninit
    PFSW "fninit: fsw"
    fnstcw [TMP]
    RPUTV16 "fninit: fcw", [TMP]
    PFTW "fninit: ftw"

    ; ------------------------------------------------------------ 8 pushes
    ; FILD 1..7, then FLDZ: R7=1 ... R1=7, R0=0
    mov bx, 1
.push:
    mov [TMP], bx
    fild word [TMP]
    PUTS16 "fild "
    mov ax, bx
    call rm_hex8
    PFSW " fsw"
    inc bx
    cmp bx, 8
    jb .push
    fldz
    PFSW "fldz (8th push) fsw"
    PFTW "ftw (R0 zero, R1-R7 valid)"

    fdecstp
    PFSW "fdecstp (TOP 0 -> 7) fsw"
    PFTW "ftw (unchanged)"
    fincstp
    PFSW "fincstp (TOP 7 -> 0) fsw"
    fxch st7
    PFSW "fxch st7 fsw"
    fxch st7

    ; ------------------------------------------------------------ 8 pops
    POPP "pop 1 (st0 = 0.0)"
    POPP "pop 2 (7)"
    POPP "pop 3 (6)"
    POPP "pop 4 (5)"
    POPP "pop 5 (4)"
    POPP "pop 6 (3)"
    POPP "pop 7 (2)"
    POPP "pop 8 (1)"
    PFTW "ftw after 8 pops"

    ; ------------------------------------------------------------ FFREE, FINCSTP
    fninit
    fld1
    fldz
    ffree st1
    fnstsw ax
    and ax, 0xB8FF                      ; FFREE leaves C0-C3 undefined
    RPUTV16 "fld1; fldz; ffree st1: fsw&B8FF", ax
    PFTW "ftw (R6 zero, R7 freed)"
    fincstp
    PFSW "fincstp (TOP 6 -> 7, R7 still empty) fsw"
    PFTW "ftw"

%ifdef SDM_EXTRA
    ; ------------------------------------------------------------ SDM-only cases
    ; Not in fpu_stack.expected: QEMU 7.2 has no stack overflow/underflow detection.
    ; Per the SDM:
    ;   9th push (fld1 onto a full stack): fsw: 3A41
    ;   ftw (R7 = indefinite, special): 8001
    ;   pop 1 (the indefinite): FFFF:C000000000000000 fsw=0041
    ;   pops 2-8: fsw: 3841
    ;   fstp m80 from an empty st0: FFFF:C000000000000000 fsw=0041
    ;   fadd st0,st1 on an empty stack: fsw: 0041
    ;   ftw (R0 = indefinite): FFFE
    ;   its st0: FFFF:C000000000000000 fsw=0841
    ;   fld1; fadd st0,st1 (st1 empty): fsw: 3841
    ;   st0: FFFF:C000000000000000 fsw=0041
    ;   fld st1 on an empty stack (push of the indefinite): fsw: 3841
    ;   st0: FFFF:C000000000000000 fsw=0041
    ;   fist m16 from an empty st0: 8000
    ;   fsw (TOP unchanged): 0041
    ;   fistp m32 from an empty st0: 80000000
    ;   fsw (popped): 0841
    ;   fld1; fcom st1 (empty): full fsw (C3 C2 C0 = 1 1 1): 7D41
    fninit
    mov bx, 1
.push9:
    mov [TMP], bx
    fild word [TMP]
    inc bx
    cmp bx, 8
    jb .push9
    fldz
    fld1
    PFSW "9th push (fld1 onto a full stack): fsw"
    PFTW "ftw (R7 = indefinite, special)"
    POPP "pop 1 (the indefinite)"
    mov cx, 7
.pop7:
    fstp tword [TMP]
    loop .pop7
    PFSW "pops 2-8: fsw"
    POPP "fstp m80 from an empty st0"

    fninit
    fadd st0, st1
    PFSW "fadd st0,st1 on an empty stack: fsw"
    PFTW "ftw (R0 = indefinite)"
    POPP "its st0"

    fninit
    fld1
    fadd st0, st1
    PFSW "fld1; fadd st0,st1 (st1 empty): fsw"
    POPP "st0"

    fninit
    fld st1
    PFSW "fld st1 on an empty stack (push of the indefinite): fsw"
    POPP "st0"

    fninit
    mov word [TMP], 0x1234
    fist word [TMP]
    RPUTV16 "fist m16 from an empty st0", [TMP]
    PFSW "fsw (TOP unchanged)"
    mov dword [TMP], 0x12345678
    fistp dword [TMP]
    RPUTV32 "fistp m32 from an empty st0", [TMP]
    PFSW "fsw (popped)"

    fninit
    fld1
    fcom st1
    fnstsw ax
    RPUTV16 "fld1; fcom st1 (empty): full fsw (C3 C2 C0 = 1 1 1)", ax
%endif

    PUTS16 "fpu_stack: done", 10
    EXIT 0

%include "inc/print16.inc"
    FPU_CODE16

ROM_FOOTER
