; task_switch: hardware task switching with 32-bit TSSs.
; LTR; JMP to a TSS (busy bits, registers saved in the old TSS and loaded from the new
; one, no back link); CALL through a GDT task gate (NT, back link) and IRET back;
; INT n and #DE through IDT task gates (re-entered tasks resume after their IRET;
; the faulting EIP saved in the old TSS); CR0.TS set by every switch; #TS for a TSS
; limit below 67H; #GP for JMP/CALL to a busy TSS; #TS for IRET (NT=1) to a non-busy
; TSS; CR3 loaded from the new TSS (with paging on) but never saved.
%include "inc/common.inc"
%include "inc/sys.inc"

%define TSS_A   0x2000
%define TSS_B   0x2100
%define TSS_C   0x2200
%define TSS_D   0x2300
%define TSS_E   0x2400
%define TSS_F   0x2500
%define TSS_G   0x2600

%define SEL_A   0x18
%define SEL_B   0x20
%define SEL_C   0x28
%define GATE_C  0x30
%define SEL_D   0x38
%define SEL_E   0x40
%define SEL_F   0x48
%define SEL_G   0x50

%define PD_A    0x20000
%define PD_B    0x21000
%define PD_C    0x22000
%define PT      0x23000

[bits 16]
org 0
start:
    SYS_ENTER_PM32 gdt, gdt_end, pm_start

gdt:
    dq 0
    SDESC 0, 0xFFFFF, 0x9A, 0xC          ; 08 code
    SDESC 0, 0xFFFFF, 0x92, 0xC          ; 10 data
    SDESC TSS_A, 0x67, 0x89, 0x0         ; 18 task A (the initial task)
    SDESC TSS_B, 0x67, 0x89, 0x0         ; 20 task B
    SDESC TSS_C, 0x67, 0x89, 0x0         ; 28 task C
    TASKGATE SEL_C, 0x85                ; 30 task gate -> C
    SDESC TSS_D, 0x67, 0x89, 0x0         ; 38 task D (INT 40 handler)
    SDESC TSS_E, 0x67, 0x89, 0x0         ; 40 task E (#DE handler)
    SDESC TSS_F, 0x66, 0x89, 0x0         ; 48 TSS with a too small limit
    SDESC TSS_G, 0x67, 0x89, 0x0         ; 50 task G (CR3 test)
gdt_end:

; PTYPE "name", selector: print the type nibble of a GDT descriptor (9 = available
; 32-bit TSS, B = busy).
%macro PTYPE 2
    push eax
    mov al, [GDT_ADDR + (%2) + 5]
    and al, 0x0F
    PUTV8 %1, al
    pop eax
%endmacro

; PTS "name": print CR0.TS and clear it.
%macro PTS 1
    push eax
    mov eax, cr0
    shr eax, 3
    and al, 1
    PUTV8 %1, al
    clts
    pop eax
%endmacro

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
    SETGATE 0x40, 0, SEL_D, 0x85        ; INT 40 -> task D
    SETGATE 0, 0, SEL_E, 0x85           ; #DE -> task E

    mov edi, TSS_A
    xor ebx, ebx
    xor ecx, ecx
    mov edx, PD_C                       ; only used when task A is resumed with paging on
    call init_tss
    mov edi, TSS_B
    mov ebx, ABS(task_b)
    mov ecx, 0x8000
    mov edx, PD_A
    call init_tss
    mov edi, TSS_C
    mov ebx, ABS(task_c)
    mov ecx, 0x7800
    call init_tss
    mov edi, TSS_D
    mov ebx, ABS(task_d)
    mov ecx, 0x7000
    call init_tss
    mov edi, TSS_E
    mov ebx, ABS(task_e)
    mov ecx, 0x6800
    call init_tss
    mov edi, TSS_F
    mov ebx, ABS(task_b)
    mov ecx, 0x6400
    call init_tss
    mov edi, TSS_G
    mov ebx, ABS(task_g)
    mov ecx, 0x6000
    mov edx, PD_B
    call init_tss

    ; page tables: PT identity-maps 0-4 MiB; three page directories use it.
    mov edi, PT
    mov eax, 0x003
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    loop .pt
    mov edi, PD_A
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov dword [PD_A], PT | 3
    mov dword [PD_B], PT | 3
    mov dword [PD_C], PT | 3

    PUTS32 "task_switch", 10
    PUTS32 "-- ltr 0018", 10
    PTYPE "type 0018 before ltr", SEL_A
    mov ax, SEL_A
    ltr ax
    PTYPE "type 0018 after ltr", SEL_A
    str ax
    PUTV16 "tr", ax

    PUTS32 "-- jmp 0020 (tss B)", 10
    PTYPE "type 0018", SEL_A
    PTYPE "type 0020", SEL_B
    mov eax, 0xAAAA0001
    mov ebx, 0xBBBB0001
    push dword 0x000008D7               ; OF SF ZF AF PF CF
    popfd
    jmp SEL_B:0
a_after_jmp:
    pushfd
    pop edx
    PUTS32 "back in task A (jmp from B)", 10
    PUTV32 "eax", eax
    PUTV32 "ebx (written to tss A by B)", ebx
    PUTV32 "eflags", edx
    str ax
    PUTV16 "tr", ax
    PTYPE "type 0018", SEL_A
    PTYPE "type 0020", SEL_B
    PTS "cr0.ts"

    PUTS32 "-- call 0030 (task gate -> tss C)", 10
    push dword 0x000008D7
    popfd
    call GATE_C:0
a_after_call:
    pushfd
    pop edx
    PUTS32 "back in task A (iret from C)", 10
    PUTV32 "eflags", edx
    PTYPE "type 0018", SEL_A
    PTYPE "type 0028", SEL_C
    PUTV32 "tss C eip", [TSS_C + 0x20]
    mov eax, [TSS_C + 0x24]
    shr eax, 14
    and al, 1
    PUTV8 "tss C eflags.nt", al
    PTS "cr0.ts"

    PUTS32 "-- int 40 (idt task gate -> tss D), twice", 10
    int 0x40
    PUTS32 "back in task A", 10
    PTYPE "type 0038", SEL_D
    int 0x40
    PUTS32 "back in task A", 10
    PTS "cr0.ts"

    PUTS32 "-- div by zero (#DE -> idt task gate -> tss E)", 10
    xor ecx, ecx
    mov eax, 1
    xor edx, edx
div_insn:
    div ecx
div_after:
    PUTS32 "back in task A after the div", 10
    PTS "cr0.ts"

    PUTS32 "-- faults", 10
    PUTS32 "jmp 0048 (tss limit 0066): "
    EXPECT_FAULT .f1
    jmp SEL_F:0
    NO_FAULT
.f1:
    PTYPE "type 0048", SEL_F
    PUTS32 "jmp 0018 (busy): "
    EXPECT_FAULT .f2
    jmp SEL_A:0
    NO_FAULT
.f2:
    PUTS32 "call 0018 (busy): "
    EXPECT_FAULT .f3
    call SEL_A:0
    NO_FAULT
.f3:
    PUTS32 "iret with nt=1, link 0020 (not busy): "
    mov word [TSS_A], SEL_B
    pushfd
    or dword [esp], 0x4000
    popfd
    EXPECT_FAULT .f4
    iretd
    NO_FAULT
.f4:
    pushfd
    and dword [esp], ~0x4000
    popfd
    mov word [TSS_A], 0
    PTYPE "type 0020", SEL_B
    PTS "cr0.ts (no switch happened)"

    PUTS32 "-- cr3 with paging on: call 0050 (tss G)", 10
    mov eax, PD_A
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    mov eax, cr3
    PUTV32 "cr3", eax
    PUTV32 "tss A cr3 field", [TSS_A + 0x1C]
    call SEL_G:0
    mov eax, cr3
    PUTS32 "back in task A", 10
    PUTV32 "cr3 (from tss A)", eax
    PUTV32 "tss A cr3 field", [TSS_A + 0x1C]
    PUTS32 "done", 10
    EXIT 0

; ---------------------------------------------------------------- other tasks
task_b:
    mov ebp, esp
    pushfd
    pop edx
    PUTS32 "in task B", 10
    str ax
    PUTV16 "tr", ax
    PUTV32 "esp", ebp
    PUTV32 "eflags", edx
    PTYPE "type 0018", SEL_A
    PTYPE "type 0020", SEL_B
    PUTV16 "tss B link", [TSS_B]
    PUTV32 "tss A eip", [TSS_A + 0x20]
    PUTV32 "tss A eflags", [TSS_A + 0x24]
    PUTV32 "tss A eax", [TSS_A + 0x28]
    PUTV32 "tss A ebx", [TSS_A + 0x34]
    PUTV32 "tss A esp", [TSS_A + 0x38]
    PUTV16 "tss A cs", [TSS_A + 0x4C]
    PUTV16 "tss A ss", [TSS_A + 0x50]
    PTS "cr0.ts"
    mov dword [TSS_A + 0x34], 0x12345678
    jmp SEL_A:0
    PUTS32 "BUG: task B resumed", 10
    EXIT 1

task_c:
    pushfd
    pop edx
    PUTS32 "in task C", 10
    str ax
    PUTV16 "tr", ax
    PUTV32 "eflags", edx
    PUTV16 "tss C link", [TSS_C]
    PTYPE "type 0018", SEL_A
    PTYPE "type 0028", SEL_C
    iretd
task_c_resume:
    jmp task_c

task_d:
    mov ebp, esp
    pushfd
    pop edx
    inc edi                             ; EDI lives in tss D: 0 initially
    PUTS32 "in task D", 10
    PUTV32 "run", edi
    str ax
    PUTV16 "tr", ax
    PUTV32 "esp", ebp
    shr edx, 14
    and dl, 1
    PUTV8 "eflags.nt", dl
    PUTV16 "tss D link", [TSS_D]
    PTYPE "type 0038", SEL_D
    iretd
    jmp task_d

task_e:
    mov ebp, esp
    PUTS32 "in task E", 10
    str ax
    PUTV16 "tr", ax
    PUTV32 "esp (no error code)", ebp
    PUTV16 "tss E link", [TSS_E]
    PUTV32 "tss A eip (the div)", [TSS_A + 0x20]
    add dword [TSS_A + 0x20], div_after - div_insn
    iretd
    jmp task_e

task_g:
    PUTS32 "in task G", 10
    str ax
    PUTV16 "tr", ax
    mov eax, cr3
    PUTV32 "cr3", eax
    PUTV32 "tss A cr3 field", [TSS_A + 0x1C]
    iretd
    jmp task_g

; init_tss: EDI = TSS, EBX = EIP, ECX = ESP, EDX = CR3. Flat ring-0 segments,
; EFLAGS = 2, no LDT, no I/O bitmap.
init_tss:
    push edi
    push ecx
    push eax
    mov ecx, 0x68
    xor eax, eax
    rep stosb
    pop eax
    pop ecx
    pop edi
    mov [edi + 0x1C], edx
    mov [edi + 0x20], ebx
    mov dword [edi + 0x24], 0x00000002
    mov [edi + 0x38], ecx
    mov dword [edi + 0x48], KDATA       ; ES
    mov dword [edi + 0x4C], KCODE       ; CS
    mov dword [edi + 0x50], KDATA       ; SS
    mov dword [edi + 0x54], KDATA       ; DS
    mov dword [edi + 0x58], KDATA       ; FS
    mov dword [edi + 0x5C], KDATA       ; GS
    mov word [edi + 0x66], 0x68
    ret

SYS_CODE
%include "inc/print32.inc"
[bits 16]
ROM_FOOTER
