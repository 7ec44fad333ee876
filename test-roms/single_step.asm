; single_step: EFLAGS.TF and debug registers in 32-bit protected mode (ring 0).
; A #DB handler prints the EIP pushed for every debug exception together with DR6
; (masked to BS/BD/BT/B0-B3) and ECX. Covered: no trap after the POPF that sets TF;
; traps after ordinary instructions, a taken jump (EIP = target), a not-taken jump,
; each iteration of REP MOVSB; MOV SS and POP SS delay the trap past the next
; instruction; INT n clears TF in its handler; an instruction breakpoint (DR0, fault:
; EIP = the instruction, handler sets RF to continue, hits again next time); a data
; write breakpoint (DR1, trap: EIP = next instruction, data already written).
%include "inc/common.inc"
%include "inc/sys.inc"

%define VAR_STOP    (VAR_SCRATCH + 0)   ; #DB handler clears TF when EIP reaches this
%define VAR_QUIET   (VAR_SCRATCH + 4)   ; nonzero: #DB handler prints nothing
%define VAR_COUNT   (VAR_SCRATCH + 8)   ; number of #DB taken
%define VAR_X       (VAR_SCRATCH + 12)
%define VAR_W       (VAR_SCRATCH + 16)  ; data breakpoint target (dword) + next dword
%define SRC         0x3000
%define DST         0x3010
%define KDATA2      0x18

[bits 16]
org 0
start:
    SYS_ENTER_PM32 gdt, gdt_end, pm_start

gdt:
    dq 0
    SDESC 0, 0xFFFFF, 0x9A, 0xC          ; 08 code
    SDESC 0, 0xFFFFF, 0x92, 0xC          ; 10 data
    SDESC 0, 0xFFFFF, 0x92, 0xC          ; 18 data (a second stack selector)
gdt_end:

[bits 32]
pm_start:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x9000
    call init_idt
    SETGATE 1, db_handler, KCODE, 0x8E
    SETGATE 0x41, int41_handler, KCODE, 0x8E
    mov eax, 0x00000400                 ; DR7: all breakpoints off (bit 10 reads as 1)
    mov dr7, eax
    mov eax, 0xFFFF0FF0                 ; DR6: no conditions (reserved bits as 1)
    mov dr6, eax
    xor eax, eax
    mov dr0, eax
    mov dr1, eax
    mov dr2, eax
    mov dr3, eax
    mov [VAR_QUIET], eax
    mov [VAR_COUNT], eax
    mov [VAR_X], eax
    mov [VAR_W], eax
    mov [VAR_W + 4], eax
    mov dword [SRC], 0x44332211
    mov dword [DST], 0

    PUTS32 "single_step", 10
    PUTS32 "-- tf set by popf; nop, mov, jmp (taken), rep movsb ecx=3, cmp, jne (not taken)", 10
    mov dword [VAR_STOP], ABS(s1_end)
    mov esi, SRC
    mov edi, DST
    xor ecx, ecx
    pushfd
    or dword [esp], 0x100
    popfd                               ; sets TF: no trap after this instruction
s1_nop:
    nop
s1_mov:
    mov eax, 1
s1_jmp:
    jmp s1_target
    nop
    nop
s1_target:
    mov ecx, 3
s1_rep:
    rep movsb
s1_cmp:
    cmp eax, 1
s1_jne:
    jne s1_target
s1_end:
    mov eax, [DST]
    PUTV32 "dst after rep movsb", eax
    PUTV32 "#DB count", [VAR_COUNT]

    PUTS32 "-- mov ss / pop ss delay the trap past the next instruction", 10
    mov dword [VAR_COUNT], 0
    mov dword [VAR_STOP], ABS(s2_end)
    xor ecx, ecx
    pushfd
    or dword [esp], 0x100
    popfd
s2_first:
    mov ax, KDATA2
s2_movss:
    mov ss, ax
s2_after_movss:
    inc ebx
s2_inc2:
    push ss
s2_popss:
    pop ss
s2_after_popss:
    inc ebx
s2_inc4:
    nop
s2_end:
    mov ax, KDATA
    mov ss, ax
    PUTV32 "#DB count", [VAR_COUNT]

    PUTS32 "-- int 41 with tf set", 10
    mov dword [VAR_QUIET], 1
    mov dword [VAR_STOP], ABS(s3_end)
    pushfd
    or dword [esp], 0x100
    popfd
    nop
    int 0x41
    nop
s3_end:
    mov dword [VAR_QUIET], 0

    PUTS32 "-- instruction breakpoint: dr0 = bp_insn, executed twice", 10
    mov dword [VAR_COUNT], 0
    mov eax, ABS(bp_insn)
    mov dr0, eax
    mov eax, 0x00000401                 ; L0, R/W0 = 00 (execute), LEN0 = 00
    mov dr7, eax
    mov ecx, 2
bp_loop:
    nop
bp_insn:
    inc dword [VAR_X]
    loop bp_loop
    mov eax, 0x00000400
    mov dr7, eax
    xor eax, eax
    mov dr0, eax
    PUTV32 "x", [VAR_X]
    PUTV32 "#DB count", [VAR_COUNT]

    PUTS32 "-- data write breakpoint: dr1 = dword var, len 4", 10
    mov dword [VAR_COUNT], 0
    mov eax, VAR_W
    mov dr1, eax
    mov eax, 0x00D00404                 ; L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes)
    mov dr7, eax
    mov eax, [VAR_W]                    ; read: no exception
    mov dword [VAR_W + 4], 1            ; outside the range: no exception
wb_store:
    mov dword [VAR_W], 0x1234           ; write: trap after the instruction
wb_after:
    nop
    mov eax, 0x00000400
    mov dr7, eax
    PUTV32 "#DB count", [VAR_COUNT]
    PUTS32 "done", 10
    EXIT 0

; ---------------------------------------------------------------- handlers
db_handler:
    push eax
    push edx
    push ebp
    mov ebp, esp                        ; [ebp+12] = EIP, [ebp+16] = CS, [ebp+20] = EFLAGS
    mov edx, dr6
    mov eax, 0xFFFF0FF0
    mov dr6, eax
    inc dword [VAR_COUNT]
    cmp dword [VAR_QUIET], 0
    jne .done
    PUTS32 "#DB eip="
    mov eax, [ebp + 12]
    call pm_hex32
    PUTS32 " ecx="
    mov eax, ecx
    call pm_hex32
    PUTS32 " dr6="
    mov eax, edx
    and eax, 0x0000E00F
    call pm_hex32
    test dl, 1                          ; B0: instruction breakpoint (fault)
    jz .not_bp
    PUTS32 " rf="
    mov eax, [ebp + 20]
    shr eax, 16
    and al, 1
    call pm_hex8
    PUTS32 " x="
    mov eax, [VAR_X]
    call pm_hex32
    or dword [ebp + 20], 0x10000        ; set RF so that the instruction can execute
.not_bp:
    test dl, 2                          ; B1: data breakpoint (trap)
    jz .nl
    PUTS32 " w="
    mov eax, [VAR_W]
    call pm_hex32
.nl:
    call pm_nl
.done:
    mov eax, [ebp + 12]
    cmp eax, [VAR_STOP]
    jne .out
    and dword [ebp + 20], ~0x100        ; stop single-stepping
.out:
    pop ebp
    pop edx
    pop eax
    iretd

int41_handler:
    push eax
    pushfd
    pop eax
    shr eax, 8
    and al, 1
    PUTV8 "int 41 handler: eflags.tf", al
    mov eax, [esp + 12]                 ; pushed EFLAGS
    shr eax, 8
    and al, 1
    PUTV8 "int 41 handler: pushed eflags.tf", al
    pop eax
    iretd

SYS_CODE
%include "inc/print32.inc"
[bits 16]
ROM_FOOTER
