; bench_loop: a compute-bound benchmark. Enters 32-bit flat protected mode and runs
; OUTER iterations of: an inner loop of INNER steps (load, ADD, XOR, IMUL, store,
; MOV, SHL, ADD, XOR on a 64-dword array) plus a REP MOVSD copy of COPY_DWORDS
; dwords and a memory-counter decrement; then prints a checksum and exits.
;
; Instruction counts (OUTER = 100000, INNER = 64, COPY_DWORDS = 16):
; * Kernel, from "mov dword [COUNTER], OUTER" through "mov ebx, eax", a REP MOVSD
;   counted as one instruction:
;     7 + OUTER * (1 + 12 * INNER + 8) + 2 + 4 * INNER + 1 = 266 + 777 * OUTER
;     = 77,700,266
; * Whole run, from the reset vector through the final OUT to port 0xF4:
;     each REP iteration counted as one instruction (as single-stepping sees it):
;       1356 + 792 * OUTER + H = 79,201,363
;     each REP instruction counted once (15 * OUTER + 23 fewer):
;       77,701,340
;   where H = 7 is the number of hex digits A-F printed (the hex printer runs one
;   more instruction for a letter): "000186A0" and checksum "F3AAAF0A".
;   Measured by single-stepping QEMU through the gdb stub with OUTER = 1 and 2
;   (2151 and 2942 steps before the OUT), which fixes 1356 and 792.
; Expected checksum F3AAAF0A (also reproduced by a Python model of the loop).
%include "inc/common.inc"
%include "inc/pm.inc"
[bits 16]
org 0

%ifndef OUTER
%define OUTER       100000       ; outer iterations (the knob)
%endif
%define INNER       64           ; array steps per outer iteration
%define COPY_DWORDS 16           ; REP MOVSD length per outer iteration

%define GDT_RAM  0x0500
%define COUNTER  0x1000
%define ARRAY    0x20000
%define SEL_CODE32 0x08
%define SEL_DATA32 0x10

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov esp, 0x8000
    LOAD_GDT gdt, gdt_end, GDT_RAM
    ENTER_PM32 SEL_CODE32, pm32

[bits 32]
pm32:
    FLAT_SEGS SEL_DATA32, 0x8000
    PUTS32 "bench_loop: start", 10
    ; array[i] = i * 0x01010101 + 0x9E3779B9
    xor edx, edx
    mov eax, 0x9E3779B9
.init:
    mov [ARRAY + edx * 4], eax
    add eax, 0x01010101
    inc edx
    cmp edx, INNER
    jb .init

    ; ---------------- kernel (counted) ----------------
    mov dword [COUNTER], OUTER      ; 7 instructions of set-up
    xor ebx, ebx
    mov ebp, 0x12345678
    mov esi, ARRAY
    mov edi, ARRAY + 0x400
    xor eax, eax
    xor ecx, ecx
.outer:
    xor edx, edx                    ; 1
.inner:                             ; 12 per step
    mov eax, [ARRAY + edx * 4]
    add eax, ebx
    xor eax, ebp
    imul eax, eax, 0x01000193
    mov [ARRAY + edx * 4], eax
    mov ecx, eax
    shl ecx, 3
    add ebx, ecx
    xor ebp, eax
    inc edx
    cmp edx, INNER
    jb .inner
    mov esi, ARRAY                  ; 8 per outer iteration
    mov edi, ARRAY + 0x400
    mov ecx, COPY_DWORDS
    rep movsd
    rol ebx, 7
    add ebp, [ARRAY + 0x400 + 4]
    dec dword [COUNTER]
    jnz .outer
    ; checksum = ebx + ebp + sum(array[0..INNER-1])
    lea eax, [ebx + ebp]            ; 2
    xor edx, edx
.sum:                               ; 4 per element
    add eax, [ARRAY + edx * 4]
    inc edx
    cmp edx, INNER
    jb .sum
    mov ebx, eax                    ; 1
    ; ---------------- end of the counted kernel ----------------
    PUTS32 "bench_loop: outer="
    mov eax, OUTER
    call pm_hex32
    PUTS32 " inner="
    mov eax, INNER
    call pm_hex32
    PUTS32 " checksum="
    mov eax, ebx
    call pm_hex32
    call pm_nl
    PUTS32 "bench_loop: done", 10
    EXIT 0

%include "inc/print32.inc"

align 8
gdt:
    dq 0
    DESC 0, 0xFFFFF, ACC_CODE | 1, DF_G | DF_DB
    DESC 0, 0xFFFFF, ACC_DATA | 1, DF_G | DF_DB
gdt_end:

[bits 16]
ROM_FOOTER
