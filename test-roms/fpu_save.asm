; fpu_save: FNSAVE/FRSTOR and FNSTENV/FLDENV round trips, in real mode (16-bit layout,
; and the 32-bit layout with the 66h prefix) and in 32-bit protected mode (32-bit
; layout, and the 16-bit layout with 66h).
;
; The state saved each time (set_state): FCW 0E7F (RC=chop, PC=53 bits, all masked);
; st0 = +inf (1.0/0.0, which sets ZE), st1 = 0.0, st2 = 1.0 (pushed in the order 1.0,
; 0.0, +inf, so TOP=5: R7=1.0 valid, R6=0.0 zero, R5=+inf special, R4-R0 empty);
; then FCOM m32 with +inf: equal, C3=1 C2=C0=C1=0. So FSW = 6804, FTW = 1BFF. For the
; FLDENV tests the control word is 0E67 (OM and UM unmasked; no OE/UE flag is set).
;
; SDM Vol. 1 8.1.8-8.1.10 and Figures 8-9 to 8-12 (the four environment layouts), FSAVE
; ("then re-initializes the FPU": FCW 037F, FSW 0, FTW FFFF), FSTENV ("then masks all
; floating-point exceptions"), 8.1.7: FLDENV/FRSTOR use the loaded tag word only to tell
; empty (11) from non-empty and recompute the other tags from the register contents.
; In the 32-bit layouts only the low 16 bits of the FCW/FSW/FTW dwords are printed (the
; high halves are reserved). Printed FIP/FDP values are relative: fip = the stored
; instruction pointer minus the address of the FCOM, fdp = the stored operand pointer
; minus the address of its m32 operand; fcs/fds are printed as stored. The FOP field is
; never printed (since the Pentium 4 it is only kept for unmasked exceptions unless
; IA32_MISC_ENABLE enables FOP compatibility; QEMU stores 0). FCS/FDS assume a P6-class
; CPU (CPUID.(EAX=07H,ECX=0):EBX[13]=0, as QEMU's pentium2 and Bochs's p2_klamath).
;
; Left out of fpu_save.expected because QEMU 7.2 (TCG) differs from the SDM: the
; real-mode pointer fields, which the SDM defines as 20/32-bit linear addresses
; (CS*16 + IP) split over two fields (QEMU stores the protected-mode offset/selector
; layout); FNSTENV masking all exceptions after the store (QEMU leaves FCW alone); and
; FRSTOR/FLDENV loading FIP/FDP (QEMU does not). These lines are printed only in the
; %ifdef SDM_EXTRA parts (fpu_save_sdm.asm; fpu_save_sdm.expected, checked with Bochs
; 2.7). Per the SDM:
;   rm16 fnsave: fip (linear) - fcom: 00000000
;   rm16 fnsave: fdp (linear) - operand: 00000000
;   rm32 fnsave: fip (linear) - fcom: 00000000
;   rm32 fnsave: fdp (linear) - operand: 00000000
;   rm16 fcw after fnstenv (all masked): 0E7F
;   rm32 fnstenv: fip (linear) - fcom: 00000000
;   rm32 fcw after fnstenv (all masked): 0E7F
;   pm32 after frstor: fip - fcom: 00000000
;   pm32 fcw after fnstenv (all masked): 0E7F
;   pm16 fcw after fnstenv (all masked): 0E7F
; Also avoided: FNSTSW AX between the instruction of interest and a later FNSTENV/FNSAVE
; (QEMU 7.2 wrongly points FIP at the FNSTSW AX; FNSTSW m16 is used instead).
%include "inc/common.inc"
%include "inc/sys.inc"
%include "inc/fpu.inc"

%define AREA  0x3000                    ; FNSAVE / FNSTENV image (up to 108 bytes)
%define TMP   0x3100

[bits 16]
org 0

; ---------------------------------------------------------------- 16-bit macros
; RSHOW "prefix" : print the live FCW, FSW, FTW, then pop st0, st1, st2 as 80-bit images
%macro RSHOW 1
    fnstcw [TMP]
    RPUTV16 {%1, " fcw"}, [TMP]
    fnstsw [TMP]
    RPUTV16 {%1, " fsw"}, [TMP]
    fnstenv [TMP]
    RPUTV16 {%1, " ftw"}, [TMP + 4]
    fstp tword [TMP]
    RPUTF80 {%1, " st0"}, TMP
    fstp tword [TMP]
    RPUTF80 {%1, " st1"}, TMP
    fstp tword [TMP]
    RPUTF80 {%1, " st2"}, TMP
%endmacro
; RINIT "prefix" : print FCW, FSW (& B8FF) and FTW (they must be 037F, 0000, FFFF after
; FNSAVE or FNINIT)
%macro RINIT 1
    fnstcw [TMP]
    RPUTV16 {%1, " fcw"}, [TMP]
    fnstsw [TMP]
    mov ax, [TMP]
    and ax, 0xB8FF
    RPUTV16 {%1, " fsw"}, ax
    fnstenv [TMP]
    RPUTV16 {%1, " ftw"}, [TMP + 4]
%endmacro
; SCRAMBLE : change the state before a restore: FLDCW 037F, FNCLEX, TOP 5 -> 3. The
; registers and their tags are not touched.
%macro SCRAMBLE16 1
    fldcw [cs:cw_init]
    fnclex
    fdecstp
    fdecstp
    fnstsw [TMP]
    mov ax, [TMP]
    and ax, 0xB8FF
    RPUTV16 {%1, " fsw after fldcw 037F, fnclex, fdecstp x2"}, ax
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
    PUTS16 "fpu_save: real mode", 10

    ; ------------------------------------------------------------ rm16 FNSAVE/FRSTOR
    call set_state16
    fnsave [AREA]
    RPUTV16 "rm16 fnsave: fcw", [AREA + 0]
    RPUTV16 "rm16 fnsave: fsw", [AREA + 2]
    RPUTV16 "rm16 fnsave: ftw", [AREA + 4]
    RPUTF80 "rm16 fnsave: st0", AREA + 14
    RPUTF80 "rm16 fnsave: st1", AREA + 24
    RPUTF80 "rm16 fnsave: st2", AREA + 34
%ifdef SDM_EXTRA
    ; Real-mode pointer fields (16-bit layout): +6 FIP[15:0], +8 FIP[19:16] in bits
    ; 15:12 (bit 11 = 0, bits 10:0 = FOP), +10 FDP[15:0], +12 FDP[19:16] in bits 15:12.
    ; Both are linear addresses (the FCOM at F000:x, its operand at F000:y).
    movzx eax, word [AREA + 8]
    and ax, 0xF000
    shl eax, 4
    mov ax, [AREA + 6]
    sub eax, ROM_BASE + fcom16
    RPUTV32 "rm16 fnsave: fip (linear) - fcom", eax
    movzx eax, word [AREA + 12]
    and ax, 0xF000
    shl eax, 4
    mov ax, [AREA + 10]
    sub eax, ROM_BASE + f_inf
    RPUTV32 "rm16 fnsave: fdp (linear) - operand", eax
%endif
    RINIT "rm16 after fnsave:"
    SCRAMBLE16 "rm16"
    frstor [AREA]
    RSHOW "rm16 after frstor:"

    ; ------------------------------------------------------------ rm32 (66h) FNSAVE/FRSTOR
    call set_state16
    o32 fnsave [AREA]
    RPUTV16 "rm32 fnsave: fcw", [AREA + 0]
    RPUTV16 "rm32 fnsave: fsw", [AREA + 4]
    RPUTV16 "rm32 fnsave: ftw", [AREA + 8]
    RPUTF80 "rm32 fnsave: st0", AREA + 28
    RPUTF80 "rm32 fnsave: st1", AREA + 38
    RPUTF80 "rm32 fnsave: st2", AREA + 48
%ifdef SDM_EXTRA
    ; 32-bit real-mode layout: +12 FIP[15:0], +16 FIP[31:16] in bits 27:12 (FOP in
    ; 10:0), +20 FDP[15:0], +24 FDP[31:16] in bits 27:12.
    mov eax, [AREA + 16]
    call rm_ptr32
    mov ax, [AREA + 12]
    sub eax, ROM_BASE + fcom16
    RPUTV32 "rm32 fnsave: fip (linear) - fcom", eax
    mov eax, [AREA + 24]
    call rm_ptr32
    mov ax, [AREA + 20]
    sub eax, ROM_BASE + f_inf
    RPUTV32 "rm32 fnsave: fdp (linear) - operand", eax
%endif
    RINIT "rm32 after fnsave:"
    SCRAMBLE16 "rm32"
    o32 frstor [AREA]
    RSHOW "rm32 after frstor:"

    ; ------------------------------------------------------------ rm16 FNSTENV/FLDENV
    call set_state16
    fldcw [cs:cw_env]
    fnstenv [AREA]
    fnstcw [TMP]
    RPUTV16 "rm16 fnstenv: fcw", [AREA + 0]
    RPUTV16 "rm16 fnstenv: fsw", [AREA + 2]
    RPUTV16 "rm16 fnstenv: ftw", [AREA + 4]
%ifdef SDM_EXTRA
    RPUTV16 "rm16 fcw after fnstenv (all masked)", [TMP]
%endif
    SCRAMBLE16 "rm16"
    fldenv [AREA]
    RSHOW "rm16 after fldenv:"

    ; ------------------------------------------------------------ rm32 (66h) FNSTENV/FLDENV
    call set_state16
    fldcw [cs:cw_env]
    o32 fnstenv [AREA]
    fnstcw [TMP]
    RPUTV16 "rm32 fnstenv: fcw", [AREA + 0]
    RPUTV16 "rm32 fnstenv: fsw", [AREA + 4]
    RPUTV16 "rm32 fnstenv: ftw", [AREA + 8]
%ifdef SDM_EXTRA
    mov eax, [AREA + 16]
    call rm_ptr32
    mov ax, [AREA + 12]
    sub eax, ROM_BASE + fcom16
    RPUTV32 "rm32 fnstenv: fip (linear) - fcom", eax
%endif
%ifdef SDM_EXTRA
    RPUTV16 "rm32 fcw after fnstenv (all masked)", [TMP]
%endif
    SCRAMBLE16 "rm32"
    o32 fldenv [AREA]
    RSHOW "rm32 after fldenv:"

    SYS_ENTER_PM32 gdt, gdt_end, pm32

; set_state16: the state described in the header (real mode, operands through CS)
set_state16:
    fninit
    fldcw [cs:cw_save]
    fld1
    fldz
    fld1
    fdiv dword [cs:f_zero]
fcom16:
    fcom dword [cs:f_inf]
    ret

%ifdef SDM_EXTRA
; rm_ptr32: EAX = dword [AREA+16 or +24] of a 32-bit real-mode image: returns bits 31:16
; of the linear pointer in place (the caller loads bits 15:0 into AX).
rm_ptr32:
    and eax, 0x0FFFF000
    shl eax, 4
    ret
%endif

%include "inc/print16.inc"
    FPU_CODE16

align 8
gdt:
    dq 0
    SDESC 0, 0xFFFFF, 0x9B, 0xC          ; 08 code32 flat (accessed)
    SDESC 0, 0xFFFFF, 0x93, 0xC          ; 10 data32 flat
gdt_end:

; ---------------------------------------------------------------- 32-bit macros
%macro PSHOW 1
    fnstcw [TMP]
    PUTV16 {%1, " fcw"}, [TMP]
    fnstsw [TMP]
    PUTV16 {%1, " fsw"}, [TMP]
    fnstenv [TMP]
    PUTV16 {%1, " ftw"}, [TMP + 8]
    fstp tword [TMP]
    PUTF80 {%1, " st0"}, TMP
    fstp tword [TMP]
    PUTF80 {%1, " st1"}, TMP
    fstp tword [TMP]
    PUTF80 {%1, " st2"}, TMP
%endmacro
%macro PINIT 1
    fnstcw [TMP]
    PUTV16 {%1, " fcw"}, [TMP]
    fnstsw [TMP]
    mov ax, [TMP]
    and ax, 0xB8FF
    PUTV16 {%1, " fsw"}, ax
    fnstenv [TMP]
    PUTV16 {%1, " ftw"}, [TMP + 8]
%endmacro
%macro SCRAMBLE32 1
    fldcw [ABS(cw_init)]
    fnclex
    fdecstp
    fdecstp
    fnstsw [TMP]
    mov ax, [TMP]
    and ax, 0xB8FF
    PUTV16 {%1, " fsw after fldcw 037F, fnclex, fdecstp x2"}, ax
%endmacro
; PPTR "prefix", fip_offset, fcs_offset, fdp_offset, fds_offset, 16|32 : print the
; pointer fields of a protected-mode image (16: offsets are 16 bits)
%macro PPTR 6
    mov eax, [AREA + %2]
    %if %6 == 16
    movzx eax, ax
    sub eax, (ABS(fcom32)) & 0xFFFF
    %else
    sub eax, ABS(fcom32)
    %endif
    PUTV32 {%1, " fip - fcom"}, eax
    PUTV16 {%1, " fcs"}, [AREA + %3]
    mov eax, [AREA + %4]
    %if %6 == 16
    movzx eax, ax
    sub eax, (ABS(f_inf)) & 0xFFFF
    %else
    sub eax, ABS(f_inf)
    %endif
    PUTV32 {%1, " fdp - operand"}, eax
    PUTV16 {%1, " fds"}, [AREA + %5]
%endmacro

[bits 32]
pm32:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x9000
    call init_idt
    PUTS32 "fpu_save: 32-bit protected mode", 10

    ; ------------------------------------------------------------ pm32 FNSAVE/FRSTOR
    call set_state32
    fnsave [AREA]
    PUTV16 "pm32 fnsave: fcw", [AREA + 0]
    PUTV16 "pm32 fnsave: fsw", [AREA + 4]
    PUTV16 "pm32 fnsave: ftw", [AREA + 8]
    PPTR "pm32 fnsave:", 12, 16, 20, 24, 32
    PUTF80 "pm32 fnsave: st0", AREA + 28
    PUTF80 "pm32 fnsave: st1", AREA + 38
    PUTF80 "pm32 fnsave: st2", AREA + 48
    PINIT "pm32 after fnsave:"
    fnstenv [TMP]
    mov eax, [TMP + 12]
    PUTV32 "pm32 after fnsave: fip", eax
    mov eax, [TMP + 20]
    PUTV32 "pm32 after fnsave: fdp", eax
    SCRAMBLE32 "pm32"
    frstor [AREA]
    fnstenv [TMP]
    fldcw [TMP]                         ; (FNSTENV masked everything; restore 0E7F)
%ifdef SDM_EXTRA
    mov eax, [TMP + 12]
    sub eax, ABS(fcom32)
    PUTV32 "pm32 after frstor: fip - fcom", eax
%endif
    PSHOW "pm32 after frstor:"

    ; ------------------------------------------------------------ pm16 (66h) FNSAVE/FRSTOR
    call set_state32
    o16 fnsave [AREA]
    PUTV16 "pm16 fnsave: fcw", [AREA + 0]
    PUTV16 "pm16 fnsave: fsw", [AREA + 2]
    PUTV16 "pm16 fnsave: ftw", [AREA + 4]
    PPTR "pm16 fnsave:", 6, 8, 10, 12, 16
    PUTF80 "pm16 fnsave: st0", AREA + 14
    PUTF80 "pm16 fnsave: st1", AREA + 24
    PUTF80 "pm16 fnsave: st2", AREA + 34
    PINIT "pm16 after fnsave:"
    SCRAMBLE32 "pm16"
    o16 frstor [AREA]
    PSHOW "pm16 after frstor:"

    ; ------------------------------------------------------------ pm32 FNSTENV/FLDENV
    call set_state32
    fldcw [ABS(cw_env)]
    fnstenv [AREA]
    fnstcw [TMP]
    PUTV16 "pm32 fnstenv: fcw", [AREA + 0]
    PUTV16 "pm32 fnstenv: fsw", [AREA + 4]
    PUTV16 "pm32 fnstenv: ftw", [AREA + 8]
    PPTR "pm32 fnstenv:", 12, 16, 20, 24, 32
%ifdef SDM_EXTRA
    PUTV16 "pm32 fcw after fnstenv (all masked)", [TMP]
%endif
    SCRAMBLE32 "pm32"
    fldenv [AREA]
    PSHOW "pm32 after fldenv:"

    ; ------------------------------------------------------------ pm16 (66h) FNSTENV/FLDENV
    call set_state32
    fldcw [ABS(cw_env)]
    o16 fnstenv [AREA]
    fnstcw [TMP]
    PUTV16 "pm16 fnstenv: fcw", [AREA + 0]
    PUTV16 "pm16 fnstenv: fsw", [AREA + 2]
    PUTV16 "pm16 fnstenv: ftw", [AREA + 4]
    PPTR "pm16 fnstenv:", 6, 8, 10, 12, 16
%ifdef SDM_EXTRA
    PUTV16 "pm16 fcw after fnstenv (all masked)", [TMP]
%endif
    SCRAMBLE32 "pm16"
    o16 fldenv [AREA]
    PSHOW "pm16 after fldenv:"

    ; ------------------------------------------------------------ FRSTOR of an edited image
    ; st0 (R5) becomes 2.0 in the image and the tag word becomes 7BFF (R7 "zero", R6
    ; empty, R5 "special"): FRSTOR keeps only empty/non-empty and recomputes the rest:
    ; R7 valid, R6 empty, R5 valid = 33FF.
    call set_state32
    fnsave [AREA]
    mov dword [AREA + 28], 0
    mov dword [AREA + 32], 0x80000000
    mov word [AREA + 36], 0x4000
    mov word [AREA + 8], 0x7BFF
    frstor [AREA]
    fnstenv [TMP]
    PUTV16 "edited image (ftw 7BFF, st0 2.0) after frstor: ftw", [TMP + 8]
    fstp tword [TMP]
    PUTF80 "edited image after frstor: st0", TMP
    fnstenv [TMP]
    PUTV16 "after popping it: ftw", [TMP + 8]
    fninit

    PUTS32 "fpu_save: done", 10
    EXIT 0

; set_state32: the state described in the header (flat 32-bit)
set_state32:
    fninit
    fldcw [ABS(cw_save)]
    fld1
    fldz
    fld1
    fdiv dword [ABS(f_zero)]
fcom32:
    fcom dword [ABS(f_inf)]
    ret

    SYS_CODE
    FPU_CODE32
%include "inc/print32.inc"

align 4
f_zero:  dd 0.0
f_inf:   dd 0x7F800000                   ; +inf
cw_save: dw 0x0E7F
cw_env:  dw 0x0E67
cw_init: dw 0x037F

[bits 16]
ROM_FOOTER
