; fpu_mf: x87 floating-point error reporting through #MF (vector 16) with CR0.NE=1.
;
; 32-bit protected mode, CPL 0, IF=0, CR0: NE=1 MP=1 EM=0 TS=0. An unmasked x87
; exception only sets the flag and FSW.ES/B; the #MF fault comes at the next waiting x87
; instruction or WAIT/FWAIT, with the saved EIP pointing at that instruction (SDM Vol. 1
; 8.6, Vol. 3 6.15 "Interrupt 16"). The no-wait control instructions (FNSTSW, FNSTCW,
; FNCLEX, FNINIT, FNSTENV, FNSAVE) never report it.
;
; Each test prints "name: ..." and then either " no #MF" or, from the handler,
;   " #MF eip=+EEEE fsw=SSSS fip=+IIII [fdp=+DDDD]"
; eip = saved EIP minus the address of the instruction expected to fault (+0000: the
; handler ran before that instruction executed); fsw = FNSTSW in the handler ANDed with
; B8FF (B, TOP, ES, SF and the six exception flags; the condition codes are left out);
; fip/fdp = the x87 instruction and operand pointers from FNSTENV in the handler, minus
; the address of the instruction that caused the exception and of its memory operand
; (fdp only for instructions with a memory operand; otherwise the SDM leaves it
; undefined). The handler does FNCLEX, restores the control word (FNSTENV masked all
; exceptions) and IRETs, so the faulting instruction is executed again.
;
; Left out of fpu_mf.expected because QEMU 7.2 (TCG) does not do them, although the SDM
; does: #MF at the next waiting x87 instruction other than FWAIT/FNOP (QEMU only checks
; FWAIT, FNOP and the WAIT prefix), the unchanged destination of an unmasked exception,
; unmasked stack faults, FLDCW unmasking an already-set flag, FLDENV loading the FIP/FDP
; pointers, and FNSTSW AX leaving FIP alone (QEMU sets FIP to the FNSTSW AX). They are in the
; %ifdef SDM_EXTRA block (fpu_mf_sdm.asm builds it; fpu_mf_sdm.expected, checked with
; Bochs 2.7). The FOP field is never printed (implementation-dependent, SDM Vol. 1
; 8.1.10; QEMU stores 0).
%include "inc/common.inc"
%include "inc/sys.inc"
%include "inc/fpu.inc"

%define MF_COUNT  (VAR_SCRATCH + 0x00)  ; #MF taken in the current test
%define MF_REF    (VAR_SCRATCH + 0x04)  ; instruction expected to fault (linear)
%define MF_FIP    (VAR_SCRATCH + 0x08)  ; x87 instruction that set the flag (linear)
%define MF_FDP    (VAR_SCRATCH + 0x0C)  ; its memory operand (0: fdp not printed)
%define ENV       0x3000                ; FNSTENV area used by the handler
%define TMP       0x3100                ; scratch for stores
%define IMG       0x3200                ; an FLDENV image built in RAM

[bits 16]
org 0
start:
    SYS_ENTER_PM32 gdt, gdt_end, pm32

align 8
gdt:
    dq 0
    SDESC 0, 0xFFFFF, 0x9B, 0xC          ; 08 code32 flat (accessed)
    SDESC 0, 0xFFFFF, 0x93, 0xC          ; 10 data32 flat
gdt_end:

; TBEGIN "name" : print "name:", clear the #MF count
%macro TBEGIN 1+
    PUTS32 %1, ":"
    mov dword [MF_COUNT], 0
%endmacro
; EXPECT_MF at, fip_label, fdp_address : the #MF should hit `at`; the exception was set
; by the x87 instruction at fip_label (linear addresses are computed here)
%macro EXPECT_MF 3
    mov dword [MF_REF], ABS(%1)
    mov dword [MF_FIP], ABS(%2)
    mov dword [MF_FDP], %3
%endmacro
; TEND : " no #MF" if none was taken, then a newline
%macro TEND 0
    cmp dword [MF_COUNT], 0
    jne %%t
    PUTS32 " no #MF"
%%t:
    call pm_nl
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
    SETGATE 16, mf_handler, KCODE, 0x8E
    mov eax, cr0
    or eax, CR0_NE | CR0_MP
    and eax, ~(CR0_EM | CR0_TS)
    mov cr0, eax
    PUTS32 "fpu_mf: CR0.NE=1, x87 errors through #MF (vector 16)", 10
    mov eax, cr0
    and eax, CR0_NE | CR0_TS | CR0_EM | CR0_MP
    PUTV32 "cr0 NE/TS/EM/MP", eax
    mov dword [MF_REF], 0

    ; ------------------------------------------------------------ masked: no #MF
    TBEGIN "fdiv 1.0/0.0 with ZM=1 (masked), fwait"
    fninit
    fld1
    fdiv dword [ABS(f_zero)]
    fwait
    TEND
    fnstsw ax
    and ax, 0xB8FF
    PUTV16 "  fsw (ZE set, ES clear)", ax
    fstp tword [TMP]
    PUTF80 "  st0 (+inf)", TMP

    ; ------------------------------------------------------------ unmasked ZE
    TBEGIN "fdiv 1.0/0.0 with ZM=0 (fldcw 037B): the fdiv itself"
    fninit
    fldcw [ABS(cw_zm0)]
    fld1
.fd0:
    fdiv dword [ABS(f_zero)]
    TEND
    fnstsw [TMP]
    mov ax, [TMP]
    and ax, 0xB8FF
    PUTV16 "  fnstsw m16 (B ES ZE, TOP=7)", ax
    TBEGIN "fnstsw m16, fnstcw m16 (no-wait forms)"
    fnstsw [TMP]
    fnstcw [TMP + 2]
    TEND
    mov ax, [TMP]
    and ax, 0xB8FF
    PUTV16 "  fnstsw m16", ax
    PUTV16 "  fnstcw m16", [TMP + 2]

    TBEGIN "fwait with the ZE pending"
    EXPECT_MF .w1, .fd0, ABS(f_zero)
.w1:
    fwait
    TEND
    fnstsw ax
    and ax, 0xB8FF
    PUTV16 "  fsw after the handler's fnclex", ax
    TBEGIN "fwait again (nothing pending)"
    fwait
    TEND

    ; the same pending exception, reported by FNOP and by the WAIT prefix of FCLEX/FSTSW
    call make_ze
    TBEGIN "fnop with the ZE pending"
    EXPECT_MF .n1, fdiv1, ABS(f_zero)
.n1:
    fnop
    TEND
    call make_ze
    TBEGIN "fclex (9B DB E2) with the ZE pending: at the 9B"
    EXPECT_MF .c1, fdiv1, ABS(f_zero)
.c1:
    fclex
    TEND
    call make_ze
    TBEGIN "fstsw ax (9B DF E0) with the ZE pending: at the 9B"
    EXPECT_MF .s1, fdiv1, ABS(f_zero)
    mov ax, 0x5555
.s1:
    fstsw ax
    TEND
    and ax, 0xB8FF
    PUTV16 "  ax (fstsw after the handler)", ax

    call make_ze
    TBEGIN "fninit with the ZE pending, then fwait"
    fninit
    fwait
    TEND
    fnstsw ax
    PUTV16 "  fsw", ax
    fnstcw [TMP]
    PUTV16 "  fcw", [TMP]

    ; ------------------------------------------------------------ unmasked IE
    TBEGIN "fsqrt of -1.0 with IM=0 (fldcw 037E), then fwait"
    fninit
    fldcw [ABS(cw_im0)]
    fld dword [ABS(f_minus1)]
    EXPECT_MF .q1, .sq, 0
.sq:
    fsqrt
.q1:
    fwait
    TEND
    fnstsw ax
    and ax, 0xB8FF
    PUTV16 "  fsw after the handler", ax

    TBEGIN "fdivr 0.0/0.0 with IM=0 (invalid, not ZE), then fwait"
    fninit
    fldcw [ABS(cw_im0)]
    fldz
    EXPECT_MF .d2, .dv, ABS(f_zero)
.dv:
    fdivr dword [ABS(f_zero)]
.d2:
    fwait
    TEND

    ; ------------------------------------------------------------ FLDENV with ES set
    ; image: FCW 037B, FSW B884 (B ES ZE, TOP=7), FTW FFFF, FIP 0008:12345678,
    ; FDP 0010:9ABCDEF0. FLDENV itself reports nothing; the next FWAIT does.
    fninit
    mov dword [IMG + 0], 0xFFFF037B
    mov dword [IMG + 4], 0xFFFFB884
    mov dword [IMG + 8], 0xFFFFFFFF
    mov dword [IMG + 12], 0x12345678
    mov dword [IMG + 16], 0x00000008
    mov dword [IMG + 20], 0x9ABCDEF0
    mov dword [IMG + 24], 0xFFFF0010
    TBEGIN "fldenv of an image with ES=1 and ZE unmasked"
    fldenv [IMG]
    TEND
    TBEGIN "fwait after that fldenv"
    mov dword [MF_REF], ABS(.e1)
    mov dword [MF_FIP], 0
    mov dword [MF_FDP], 0
.e1:
    fwait
    TEND

%ifdef SDM_EXTRA
    TBEGIN "fldenv of that image again, fwait (fip/fdp from the image)"
    fninit
    fldenv [IMG]
    mov dword [MF_REF], ABS(.x0)
    mov dword [MF_FIP], 0x12345678
    mov dword [MF_FDP], 0x9ABCDEF0
.x0:
    fwait
    TEND
    call make_ze
    TBEGIN "fnstsw ax with the ZE pending, then fwait (fip still the fdiv)"
    EXPECT_MF .x01, fdiv1, ABS(f_zero)
    fnstsw ax
.x01:
    fwait
    TEND
    ; ------------------------------------------------------------ SDM-only cases
    ; Not in fpu_mf.expected: QEMU 7.2 reports a pending x87 exception only at
    ; FWAIT/FNOP, writes the result of an unmasked exception, has no stack faults,
    ; FLDCW does not set ES for an already-set flag that it unmasks, FLDENV does not
    ; load FIP/FDP and FNSTSW AX overwrites FIP. Per the SDM:
    ;   fldenv of that image again, fwait (fip/fdp from the image): #MF eip=+0000 fsw=B884 fip=+0000 fdp=+0000
    ;   fnstsw ax with the ZE pending, then fwait (fip still the fdiv): #MF eip=+0000 fsw=B884 fip=+0000 fdp=+0000
    ;   fld1 with the ZE pending: #MF eip=+0000 fsw=B884 fip=+0000 fdp=+0000
    ;     fsw after the handler (fld1 ran): 3000
    ;     st0 (fld1): 3FFF:8000000000000000
    ;     st1 (fdiv destination, unchanged): 3FFF:8000000000000000
    ;   fadd st0,st0 with the ZE pending: #MF eip=+0000 fsw=B884 fip=+0000 fdp=+0000
    ;   fstp m80 with the ZE pending: #MF eip=+0000 fsw=B884 fip=+0000 fdp=+0000
    ;   fadd st0,st1 on an empty stack with IM=0, then fwait: #MF eip=+0000 fsw=80C1 fip=+0000
    ;     tag word (st0 still empty): FFFF
    ;   fldcw 037B after a masked fdiv 1.0/0.0 (ZE set), then fwait: #MF eip=+0000 fsw=B884 fip=+0000 fdp=+0000
    call make_ze
    TBEGIN "fld1 with the ZE pending"
    EXPECT_MF .x1, fdiv1, ABS(f_zero)
.x1:
    fld1
    TEND
    fnstsw ax
    and ax, 0xB8FF
    PUTV16 "  fsw after the handler (fld1 ran)", ax
    fstp tword [TMP]
    PUTF80 "  st0 (fld1)", TMP
    fstp tword [TMP]
    PUTF80 "  st1 (fdiv destination, unchanged)", TMP

    call make_ze
    TBEGIN "fadd st0,st0 with the ZE pending"
    EXPECT_MF .x2, fdiv1, ABS(f_zero)
.x2:
    fadd st0, st0
    TEND
    call make_ze
    TBEGIN "fstp m80 with the ZE pending"
    EXPECT_MF .x3, fdiv1, ABS(f_zero)
.x3:
    fstp tword [TMP]
    TEND

    TBEGIN "fadd st0,st1 on an empty stack with IM=0, then fwait"
    fninit
    fldcw [ABS(cw_im0)]
    EXPECT_MF .x4, .x4a, 0
.x4a:
    fadd st0, st1
.x4:
    fwait
    TEND
    fnstenv [TMP]
    fldcw [ABS(cw_im0)]
    PUTV16 "  tag word (st0 still empty)", [TMP + 8]

    TBEGIN "fldcw 037B after a masked fdiv 1.0/0.0 (ZE set), then fwait"
    fninit
    fld1
    mov dword [MF_REF], ABS(.x5)
    mov dword [MF_FIP], ABS(.x5a)
    mov dword [MF_FDP], ABS(f_zero)
.x5a:
    fdiv dword [ABS(f_zero)]
    fldcw [ABS(cw_zm0)]
.x5:
    fwait
    TEND
%endif

    PUTS32 "fpu_mf: done", 10
    EXIT 0

; make_ze: FNINIT, FCW 037B (ZM=0), st0=1.0, FDIV by 0.0 at fdiv1 -> ZE/ES/B pending
make_ze:
    fninit
    fldcw [ABS(cw_zm0)]
    fld1
fdiv1:
    fdiv dword [ABS(f_zero)]
    ret

; ---- #MF handler (interrupt gate, no error code) ----
mf_handler:
    pushad
    ; [esp+32] = EIP, [esp+36] = CS, [esp+40] = EFLAGS
    inc dword [MF_COUNT]
    cmp dword [MF_COUNT], 3
    jae .loop
    ; FNSTENV first: it stores FSW too, and QEMU 7.2 wrongly updates FIP on FNSTSW AX
    fnstenv [ENV]
    PUTS32 " #MF eip=+"
    mov eax, [esp + 32]
    sub eax, [MF_REF]
    call pm_hex16
    PUTS32 " fsw="
    mov ax, [ENV + 4]
    and ax, 0xB8FF
    call pm_hex16
    cmp dword [MF_FIP], 0
    je .nofip
    PUTS32 " fip=+"
    mov eax, [ENV + 12]
    sub eax, [MF_FIP]
    call pm_hex16
.nofip:
    cmp dword [MF_FDP], 0
    je .nofdp
    PUTS32 " fdp=+"
    mov eax, [ENV + 20]
    sub eax, [MF_FDP]
    call pm_hex16
.nofdp:
    cmp word [esp + 36], KCODE
    je .cs_ok
    PUTS32 " BAD-CS"
.cs_ok:
    fnclex
    fldcw [ENV]
    popad
    iretd
.loop:
    PUTS32 10, "fpu_mf: FAIL: #MF repeats (FNCLEX did not clear ES?)", 10
    EXIT 1

    SYS_CODE
    FPU_CODE32
%include "inc/print32.inc"
[bits 16]
%include "inc/print16.inc"

align 4
f_zero:   dd 0.0
f_minus1: dd -1.0
cw_zm0:   dw 0x037B                     ; all masked but ZM
cw_im0:   dw 0x037E                     ; all masked but IM

ROM_FOOTER
