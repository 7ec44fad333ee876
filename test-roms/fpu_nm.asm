; fpu_nm: #NM (device not available, vector 7) from CR0.TS, CR0.EM and CR0.MP.
;
; 32-bit protected mode, CPL 0, IF=0, CR0.NE=1. SDM Vol. 3 2.5 (Table 2-2, "Action
; Taken By x87 FPU Instructions for Different Combinations of EM, MP, and TS") and 6.15
; "Interrupt 7": every x87 instruction, the no-wait control forms included, raises #NM
; when EM=1 or TS=1; WAIT/FWAIT raises #NM only when MP=1 and TS=1 (EM does not
; matter). #NM is a fault without an error code: the saved EIP is the instruction.
;
; Each test line is "name (cr0 bits): ..." followed by " #NM eip=+EEEE" (the saved EIP
; minus the address of the instruction under test) or " no #NM". In the first group the
; handler resumes after the instruction. Then the handler does what an OS with lazy x87
; context switching does (as Linux did before it moved to eager FPU saving): CLTS and
; return, so the instruction runs; and finally a switch between two x87 contexts: the
; OS sets TS when it switches tasks, and the first x87 instruction of the new task
; traps to a handler that does CLTS, FNSAVE into the previous owner's area and FRSTOR
; from the new task's area. QEMU 7.2 and Bochs 2.7 agree with the SDM on every line.
%include "inc/common.inc"
%include "inc/sys.inc"
%include "inc/fpu.inc"

%define NM_COUNT  (VAR_SCRATCH + 0x00)  ; #NM taken in the current test
%define NM_REF    (VAR_SCRATCH + 0x04)  ; instruction under test (linear)
%define NM_RESUME (VAR_SCRATCH + 0x08)  ; MODE_SKIP: where the handler resumes
%define NM_MODE   (VAR_SCRATCH + 0x0C)
%define FPU_OWNER (VAR_SCRATCH + 0x10)  ; save area of the task whose state is in the FPU
%define FPU_CUR   (VAR_SCRATCH + 0x14)  ; save area of the running task
%define NM_TOTAL  (VAR_SCRATCH + 0x18)  ; #NM taken in the context-switch part
%define CTX_A     0x3000                ; 108-byte FNSAVE areas
%define CTX_B     0x3100
%define TMP       0x3200

%define MODE_SKIP   0                   ; resume at NM_RESUME
%define MODE_CLTS   1                   ; CLTS, return to the instruction
%define MODE_SWITCH 2                   ; CLTS, FNSAVE [owner], FRSTOR [current], return

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

; SETCR0 bits : CR0.EM/TS/MP := bits (NE stays set)
%macro SETCR0 1
    mov eax, cr0
    and eax, ~(CR0_EM | CR0_TS | CR0_MP)
    or eax, (%1)
    mov cr0, eax
%endmacro

; NMT bits, "name" ... NMEND : run the instruction(s) in between with CR0.EM/TS/MP =
; bits; an #NM resumes after them. CR0 goes back to MP=1 (EM=TS=0) afterwards.
%macro NMT 2+
    %push nmt
    PUTS32 %2, ":"
    mov dword [NM_COUNT], 0
    mov dword [NM_MODE], MODE_SKIP
    mov dword [NM_REF], ABS(%$at)
    mov dword [NM_RESUME], ABS(%$end)
    SETCR0 %1
%$at:
%endmacro
%macro NMEND 0
%$end:
    SETCR0 CR0_MP
    cmp dword [NM_COUNT], 0
    jne %%t
    PUTS32 " no #NM"
%%t:
    call pm_nl
    %pop
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
    SETGATE 7, nm_handler, KCODE, 0x8E
    mov eax, cr0
    or eax, CR0_NE
    mov cr0, eax
    SETCR0 CR0_MP
    fninit
    PUTS32 "fpu_nm: #NM (vector 7) from CR0.EM/TS/MP", 10

    ; ------------------------------------------------------------ EM=0 TS=1 MP=1
    NMT CR0_TS | CR0_MP, "fld1 (TS=1 MP=1)"
    fld1
    NMEND
    NMT CR0_TS | CR0_MP, "fninit (no-wait form, TS=1 MP=1)"
    fninit
    NMEND
    NMT CR0_TS | CR0_MP, "fnstsw ax (no-wait form, TS=1 MP=1)"
    fnstsw ax
    NMEND
    NMT CR0_TS | CR0_MP, "fnsave m (TS=1 MP=1)"
    fnsave [TMP]
    NMEND
    NMT CR0_TS | CR0_MP, "fwait (TS=1 MP=1)"
    fwait
    NMEND
    ; ------------------------------------------------------------ EM=0 TS=1 MP=0
    NMT CR0_TS, "fwait (TS=1 MP=0)"
    fwait
    NMEND
    NMT CR0_TS, "fadd st0,st0 (TS=1 MP=0)"
    fadd st0, st0
    NMEND
    ; ------------------------------------------------------------ EM=1
    NMT CR0_EM, "fld1 (EM=1 MP=0 TS=0)"
    fld1
    NMEND
    NMT CR0_EM, "fninit (EM=1 MP=0 TS=0)"
    fninit
    NMEND
    NMT CR0_EM, "fwait (EM=1 MP=0 TS=0)"
    fwait
    NMEND
    NMT CR0_EM | CR0_MP, "fwait (EM=1 MP=1 TS=0)"
    fwait
    NMEND
    NMT CR0_EM | CR0_TS, "fwait (EM=1 MP=0 TS=1)"
    fwait
    NMEND
    NMT CR0_EM | CR0_MP | CR0_TS, "fwait (EM=1 MP=1 TS=1)"
    fwait
    NMEND
    NMT CR0_EM | CR0_MP | CR0_TS, "fld dword m32 (EM=1 MP=1 TS=1)"
    fld dword [ABS(f_two)]
    NMEND
    ; ------------------------------------------------------------ EM=0 TS=0
    NMT CR0_MP, "fninit; fld1; fwait (EM=0 MP=1 TS=0)"
    fninit
    fld1
    fwait
    NMEND
    NMT 0, "fstp m80; fwait (EM=0 MP=0 TS=0)"
    fstp tword [TMP]
    fwait
    NMEND
    PUTF80 "  stored st0", TMP

    ; ------------------------------------------------------------ CLTS in the handler
    NMT CR0_TS | CR0_MP, "fninit; fld1; fld1; faddp with TS=1, the handler does clts and returns"
    mov dword [NM_MODE], MODE_CLTS
    mov dword [NM_REF], ABS(.c1)
.c1:
    fninit
    fld1
    fld1
    faddp st1, st0
    fstp tword [TMP]
    NMEND
    PUTF80 "  1.0+1.0 after the #NM", TMP
    mov eax, cr0
    and eax, CR0_TS
    PUTV32 "  cr0.TS after the handler's clts", eax

    ; ------------------------------------------------------------ lazy context switch
    ; Task B's saved state: FCW 0F7F (RC=chop, PC=64 bits), st0 = 3.0.
    PUTS32 "lazy x87 context switch between tasks A and B:", 10
    mov dword [NM_TOTAL], 0
    fninit
    fldcw [ABS(cw_b)]
    fld dword [ABS(f_three)]
    fnsave [CTX_B]
    ; Task A owns the FPU: FCW 037F, st0 = 2.0.
    fninit
    fld dword [ABS(f_two)]
    mov dword [FPU_OWNER], CTX_A
    mov dword [FPU_CUR], CTX_A

    ; switch to B: the scheduler sets TS and does not touch the FPU
    mov dword [FPU_CUR], CTX_B
    SETCR0 CR0_MP | CR0_TS
    mov dword [NM_MODE], MODE_SWITCH
    PUTS32 "  task B: fld1; faddp; fst m32:"
    mov dword [NM_COUNT], 0
    mov dword [NM_REF], ABS(.b1)
.b1:
    fld1                                ; traps: the FPU still holds A's state
    faddp st1, st0                      ; 1.0 + 3.0 in B's state
    fst dword [TMP]
    call pm_nl
    PUTV32 "  task B: result m32 (4.0)", [TMP]
    fnstcw [TMP]
    PUTV16 "  task B: fcw", [TMP]
    PUTV32 "  task B: #NM count", [NM_COUNT]

    ; switch back to A
    mov dword [FPU_CUR], CTX_A
    SETCR0 CR0_MP | CR0_TS
    PUTS32 "  task A: fst m32:"
    mov dword [NM_COUNT], 0
    mov dword [NM_REF], ABS(.a1)
.a1:
    fst dword [TMP]                     ; traps, then stores A's st0
    call pm_nl
    PUTV32 "  task A: st0 m32 (2.0)", [TMP]
    fnstcw [TMP]
    PUTV16 "  task A: fcw", [TMP]
    PUTV32 "  task A: #NM count", [NM_COUNT]
    ; B's area, written by the handler's FNSAVE
    PUTV16 "  B's area: fcw", [CTX_B + 0]
    mov ax, [CTX_B + 4]
    and ax, 0xB8FF
    PUTV16 "  B's area: fsw&B8FF", ax
    PUTV16 "  B's area: ftw", [CTX_B + 8]
    PUTF80 "  B's area: st0", CTX_B + 28
    PUTV32 "total #NM in the context switches", [NM_TOTAL]
    mov eax, cr0
    and eax, CR0_TS | CR0_EM | CR0_MP
    PUTV32 "cr0 TS/EM/MP at the end", eax

    PUTS32 "fpu_nm: done", 10
    EXIT 0

; ---- #NM handler (interrupt gate, no error code) ----
nm_handler:
    pushad
    ; [esp+32] = EIP, [esp+36] = CS
    inc dword [NM_COUNT]
    inc dword [NM_TOTAL]
    cmp dword [NM_COUNT], 3
    jae .loop
    PUTS32 " #NM eip=+"
    mov eax, [esp + 32]
    sub eax, [NM_REF]
    call pm_hex16
    cmp word [esp + 36], KCODE
    je .cs_ok
    PUTS32 " BAD-CS"
.cs_ok:
    mov eax, [NM_MODE]
    cmp eax, MODE_SKIP
    jne .not_skip
    mov eax, [NM_RESUME]
    mov [esp + 32], eax
    jmp .out
.not_skip:
    clts
    cmp eax, MODE_CLTS
    je .out
    ; MODE_SWITCH: save the owner's state, load the current task's
    mov eax, [FPU_OWNER]
    mov ebx, [FPU_CUR]
    cmp eax, ebx
    je .out
    fnsave [eax]
    frstor [ebx]
    mov [FPU_OWNER], ebx
.out:
    popad
    iretd
.loop:
    PUTS32 10, "fpu_nm: FAIL: #NM repeats", 10
    EXIT 1

    SYS_CODE
    FPU_CODE32
%include "inc/print32.inc"
[bits 16]
%include "inc/print16.inc"

align 4
f_two:   dd 2.0
f_three: dd 3.0
cw_b:    dw 0x0F7F

ROM_FOOTER
