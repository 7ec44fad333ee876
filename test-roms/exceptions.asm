; exceptions: protected-mode exception delivery through a 32-bit IDT.
;
; Each test line is "name: #XX err=EEEE eip=+OOOO" where OOOO is the saved EIP
; minus the address of the instruction under test: +0000 for a fault (the
; instruction is restarted), the instruction length for a trap. The common handler
; then resumes after the test (or, for the fix-up tests, changes a register and
; returns to the faulting instruction, which is re-executed).
;
; All code runs at CPL 0 with flat segments; RAM: GDT 0x0500, IDT 0x0800,
; TSS 0x1000 / 0x1100, LDT 0x1200, data 0x2000..., stack top 0x8000.
;
; Left out of the expected output because QEMU (TCG) does not implement them,
; although the SDM defines them: segment-limit, read-only and null-selector checks
; on ordinary data accesses (#GP(0) / #SS(0)), #UD for LOCK MOV, and #GP(0) for
; CR0 writes with NW=1 CD=0 or PG=1 PE=0 and CR4 writes setting a reserved bit.
; They are kept in an %ifdef SDM_EXTRA block (nasm -DSDM_EXTRA) with their
; SDM-expected lines in a comment. #PF is covered by the paging ROM.
%include "inc/common.inc"
%include "inc/pm.inc"
[bits 16]
org 0

%define GDT_RAM   0x0500
%define IDT_RAM   0x0800
%define TSS_A     0x1000          ; the task register's TSS
%define TSS_B     0x1100          ; another (available) TSS
%define LDT_BASE  0x1200
%define VARS      0x1800
%define EXC_REF    (VARS + 0x00)  ; address of the instruction under test
%define EXC_RESUME (VARS + 0x04)  ; where the handler resumes (0: at the fault)
%define EXC_COUNT  (VARS + 0x08)  ; exceptions taken in this test
%define EXC_FIXOFF (VARS + 0x0C)  ; pushad slot to patch before re-executing
%define EXC_FIXVAL (VARS + 0x10)
%define EXC_DR6    (VARS + 0x14)
%define BOUNDS     (VARS + 0x20)

%define SEL_CODE32 0x08
%define SEL_DATA32 0x10
%define SEL_CODE16 0x18
%define SEL_TSS_A  0x20
%define SEL_TSS_B  0x28
%define SEL_LDT    0x30
%define SEL_RODATA 0x38
%define SEL_XCODE  0x40
%define SEL_NPDATA 0x48
%define SEL_NPCODE 0x50
%define SEL_CODE3  0x58
%define SEL_DOWN   0x60
%define SEL_SMALLSS 0x68

; pushad slots (offsets from ESP after PUSHAD in the handler)
%define R_EDI 0
%define R_ESI 4
%define R_EBP 8
%define R_EBX 16
%define R_EDX 20
%define R_ECX 24
%define R_EAX 28

; XBEGIN "name" ... XEND : the instruction(s) under test go in between; the first
; one is the reference for the printed EIP offset.
%macro XBEGIN 1+
    %push xtest
    PUTS32 %1, ":"
    mov dword [EXC_REF], ROM_BASE + %$at
    mov dword [EXC_RESUME], ROM_BASE + %$resume
    mov dword [EXC_COUNT], 0
%$at:
%endmacro
%macro XEND 0
%$resume:
    cmp dword [EXC_COUNT], 0
    jne %%ok
    PUTS32 " no exception"
%%ok:
    call reset_segs
    call pm_nl
    %pop
%endmacro
; XFIX slot, value : the next exception patches a saved register and re-executes
%macro XFIX 2
    mov dword [EXC_FIXOFF], %1
    mov dword [EXC_FIXVAL], %2
%endmacro

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov esp, 0x8000
    mov ds, ax
    mov es, ax
    PUTS16 "exceptions: start", 10
    ; zero TSSs, LDT and the IDT
    mov di, TSS_A
    mov cx, 0x400
    xor ax, ax
    rep stosw
    mov di, IDT_RAM
    mov cx, 0x400
    rep stosw
    LOAD_GDT gdt, gdt_end, GDT_RAM
    ENTER_PM32 SEL_CODE32, pm32

[bits 32]
pm32:
    FLAT_SEGS SEL_DATA32, 0x8000
    mov edi, IDT_RAM
    mov cx, SEL_CODE32
    call pm_install_stubs
    ; vector 0x30: interrupt gate marked not present; 0x31: all zero (invalid type)
    mov eax, 0x30
    mov ebx, ROM_BASE + exc_stubs
    mov dl, 0x0E
    call pm_set_gate
    lidt [ROM_BASE + idtr_full]
    mov ax, SEL_TSS_A
    ltr ax
    ; LDT: one data descriptor
    mov dword [LDT_BASE], 0x0000FFFF
    mov dword [LDT_BASE + 4], 0x00CF9200
    mov ax, SEL_LDT
    lldt ax
    mov dword [EXC_FIXOFF], -1
    PUTS32 "pm32 with IDT at 0x800, TR=0x20, LDTR=0x30", 10

    ; ---------------------------------------------------------------- #DE
    XBEGIN "div ecx=0"
    mov eax, 9
    xor edx, edx
    xor ecx, ecx
    mov dword [EXC_REF], ROM_BASE + .de1
.de1:
    div ecx
    XEND
    XBEGIN "div edx:eax=0x100000000/1 (quotient overflow)"
    mov edx, 1
    xor eax, eax
    mov ecx, 1
    mov dword [EXC_REF], ROM_BASE + .de2
.de2:
    div ecx
    XEND
    XBEGIN "idiv 0x80000000/-1"
    mov eax, 0x80000000
    cdq
    mov ecx, -1
    mov dword [EXC_REF], ROM_BASE + .de3
.de3:
    idiv ecx
    XEND
    XBEGIN "div ax=0x1000/bl=0x10 (8-bit overflow)"
    mov ax, 0x1000
    mov bl, 0x10
    mov dword [EXC_REF], ROM_BASE + .de4
.de4:
    div bl
    XEND
    XBEGIN "idiv ax=0x8000/bl=0xFF (8-bit overflow)"
    mov ax, 0x8000
    mov bl, 0xFF
    mov dword [EXC_REF], ROM_BASE + .de5
.de5:
    idiv bl
    XEND
    XBEGIN "aam 0"
    db 0xD4, 0x00
    XEND
    XBEGIN "div ecx=0, handler sets ecx=3 and restarts"
    mov eax, 9
    xor edx, edx
    xor ecx, ecx
    mov dword [EXC_REF], ROM_BASE + .de6
    XFIX R_ECX, 3
    mov dword [EXC_RESUME], 0
.de6:
    div ecx
    PV32 "eax", eax
    PV32 "edx", edx
    XEND

    ; ---------------------------------------------------------------- #UD
    XBEGIN "ud2"
    ud2
    XEND
    XBEGIN "ud1 (0F B9 C0)"
    db 0x0F, 0xB9, 0xC0
    XEND
    XBEGIN "lock nop (F0 90)"
    db 0xF0, 0x90
    XEND
    XBEGIN "lock add eax,ebx (register destination)"
    db 0xF0, 0x01, 0xD8
    XEND
    XBEGIN "lea eax,eax (8D C0)"
    db 0x8D, 0xC0
    XEND
    XBEGIN "mov cs,ax (8E C8)"
    db 0x8E, 0xC8
    XEND
    XBEGIN "FE /2 (undefined group-4 encoding)"
    db 0xFE, 0xD0
    XEND
    XBEGIN "lock add [ebx],eax (valid: no exception)"
    mov ebx, VARS + 0x40
    mov dword [ebx], 5
    mov eax, 6
    lock add [ebx], eax
    PV32 "m32", [ebx]
    XEND

    ; ---------------------------------------------------------------- #BR
    mov dword [BOUNDS], 10
    mov dword [BOUNDS + 4], 20
    XBEGIN "bound eax=5,[10,20]"
    mov eax, 5
    mov dword [EXC_REF], ROM_BASE + .br1
.br1:
    bound eax, [BOUNDS]
    XEND
    XBEGIN "bound eax=20,[10,20] (in range)"
    mov eax, 20
    bound eax, [BOUNDS]
    XEND
    XBEGIN "bound eax=21,[10,20]"
    mov eax, 21
    mov dword [EXC_REF], ROM_BASE + .br2
.br2:
    bound eax, [BOUNDS]
    XEND
    mov word [BOUNDS + 8], 0xFFF0
    mov word [BOUNDS + 10], 0x0010
    XBEGIN "bound ax=0xFFEF,[-16,16] (16-bit, signed)"
    mov ax, 0xFFEF
    mov dword [EXC_REF], ROM_BASE + .br3
.br3:
    bound ax, [BOUNDS + 8]
    XEND

    ; ---------------------------------------------------------------- traps: #OF, #BP, INT n, #DB
    XBEGIN "into of=0"
    mov al, 1
    add al, 1
    into
    XEND
    XBEGIN "into of=1 (trap)"
    mov al, 0x7F
    add al, 1
    mov dword [EXC_REF], ROM_BASE + .of1
.of1:
    into
    XEND
    XBEGIN "int3 (CC)"
    int3
    XEND
    XBEGIN "int 3 (CD 03)"
    int 3
    XEND
    XBEGIN "int 0x05 (software, no error code)"
    int 0x05
    XEND
    XBEGIN "single step: popfd TF=1; nop (trap after the nop)"
    pushfd
    or dword [esp], 0x100
    mov dword [EXC_REF], ROM_BASE + .db1
    mov dword [EXC_RESUME], ROM_BASE + .db2
    popfd
.db1:
    nop
    nop
.db2:
    PV32 "dr6&400F", [EXC_DR6]
    XEND

    ; ---------------------------------------------------------------- IDT errors
    XBEGIN "int 0x30 (gate not present)"
    int 0x30
    XEND
    XBEGIN "int 0x31 (zero descriptor, invalid type)"
    int 0x31
    XEND
    lidt [ROM_BASE + idtr_64]
    XBEGIN "int 0x50 (beyond an IDT limit of 0x1FF)"
    int 0x50
    XEND
    lidt [ROM_BASE + idtr_full]

    ; ---------------------------------------------------------------- #GP / #NP / #SS on segment loads
    XBEGIN "mov es,0x00F8 (beyond the GDT limit)"
    mov ax, 0x00F8
    mov dword [EXC_REF], ROM_BASE + .gp1
.gp1:
    mov es, ax
    XEND
    XBEGIN "mov fs,0x00FB (beyond the GDT limit, RPL 3)"
    mov ax, 0x00FB
    mov dword [EXC_REF], ROM_BASE + .gp2
.gp2:
    mov fs, ax
    XEND
    XBEGIN "mov gs,0x0024 (beyond the LDT limit)"
    mov ax, 0x0024
    mov dword [EXC_REF], ROM_BASE + .gp3
.gp3:
    mov gs, ax
    XEND
    XBEGIN "mov gs,0x0004 (LDT data: valid)"
    mov ax, 0x0004
    mov gs, ax
    XEND
    XBEGIN "mov es,code execute-only"
    mov ax, SEL_XCODE
    mov dword [EXC_REF], ROM_BASE + .gp4
.gp4:
    mov es, ax
    XEND
    XBEGIN "mov es,TSS selector (system segment)"
    mov ax, SEL_TSS_B
    mov dword [EXC_REF], ROM_BASE + .gp5
.gp5:
    mov es, ax
    XEND
    XBEGIN "mov ss,read-only data"
    mov ax, SEL_RODATA
    mov dword [EXC_REF], ROM_BASE + .gp6
.gp6:
    mov ss, ax
    XEND
    XBEGIN "mov ss,null"
    xor eax, eax
    mov dword [EXC_REF], ROM_BASE + .gp7
.gp7:
    mov ss, ax
    XEND
    XBEGIN "mov ss,0x0013 (RPL 3 at CPL 0)"
    mov ax, 0x0013
    mov dword [EXC_REF], ROM_BASE + .gp8
.gp8:
    mov ss, ax
    XEND
    XBEGIN "mov ds,not-present data"
    mov ax, SEL_NPDATA
    mov dword [EXC_REF], ROM_BASE + .np1
.np1:
    mov ds, ax
    XEND
    XBEGIN "mov ss,not-present data"
    mov ax, SEL_NPDATA
    mov dword [EXC_REF], ROM_BASE + .ss1
.ss1:
    mov ss, ax
    XEND
    XBEGIN "mov es,not-present data; handler sets ax=0x10 and restarts"
    mov ax, SEL_NPDATA
    mov dword [EXC_REF], ROM_BASE + .np2
    XFIX R_EAX, SEL_DATA32
    mov dword [EXC_RESUME], 0
.np2:
    mov es, ax
    PV16 "es", es
    XEND
    XBEGIN "mov es,null (allowed)"
    xor eax, eax
    mov es, ax
    PV16 "es", es
    XEND

    ; ---------------------------------------------------------------- far transfers
    XBEGIN "jmp far 0x10:0 (data segment)"
    jmp dword SEL_DATA32:0
    XEND
    XBEGIN "jmp far 0x50:0 (code not present)"
    jmp dword SEL_NPCODE:0
    XEND
    XBEGIN "jmp far 0x58:0 (DPL 3 non-conforming code)"
    jmp dword SEL_CODE3:0
    XEND
    XBEGIN "jmp far 0x00F0:0 (beyond the GDT limit)"
    jmp dword 0x00F0:0
    XEND
    XBEGIN "jmp far 0x0000:0 (null)"
    jmp dword 0x0000:0
    XEND
    XBEGIN "jmp far 0x18:0x00012345 (beyond the CS limit 0xFFFF)"
    jmp dword SEL_CODE16:0x00012345
    XEND
    XBEGIN "call far 0x10:0 (data segment)"
    call dword SEL_DATA32:0
    XEND

    ; ---------------------------------------------------------------- system instructions
    XBEGIN "ltr 0x20 (TSS already busy)"
    mov ax, SEL_TSS_A
    mov dword [EXC_REF], ROM_BASE + .gs1
.gs1:
    ltr ax
    XEND
    XBEGIN "ltr 0x10 (not a TSS)"
    mov ax, SEL_DATA32
    mov dword [EXC_REF], ROM_BASE + .gs2
.gs2:
    ltr ax
    XEND
    XBEGIN "lldt 0x20 (not an LDT)"
    mov ax, SEL_TSS_A
    mov dword [EXC_REF], ROM_BASE + .gs3
.gs3:
    lldt ax
    XEND
    XBEGIN "16-byte instruction (15 prefixes + nop)"
    times 15 db 0x66
    nop
    XEND
    XBEGIN "15-byte instruction (14 prefixes + nop: valid)"
    times 14 db 0x66
    nop
    XEND

    ; ---------------------------------------------------------------- #TS: IRET with NT=1
    mov word [TSS_A], SEL_DATA32          ; back link -> a data segment
    XBEGIN "iretd with NT=1, back link=0x10 (data segment)"
    pushfd
    or dword [esp], 0x4000
    popfd
    mov dword [EXC_REF], ROM_BASE + .ts1
.ts1:
    iretd
    XEND
    mov word [TSS_A], SEL_TSS_B           ; back link -> an available (not busy) TSS
    XBEGIN "iretd with NT=1, back link=0x28 (TSS not busy)"
    pushfd
    or dword [esp], 0x4000
    popfd
    mov dword [EXC_REF], ROM_BASE + .ts2
.ts2:
    iretd
    XEND
    mov word [TSS_A], 0x0104              ; back link with TI=1
    XBEGIN "iretd with NT=1, back link=0x0104 (LDT selector)"
    pushfd
    or dword [esp], 0x4000
    popfd
    mov dword [EXC_REF], ROM_BASE + .ts3
.ts3:
    iretd
    XEND

%ifdef SDM_EXTRA
    ; ------------------------------------------------------------ SDM-only cases
    ; Not in exceptions.expected: QEMU (TCG) does not raise these (it performs no
    ; limit, type or null-selector checks on data accesses, accepts LOCK MOV, and
    ; does not fault on these CR0/CR4 writes). Per the SDM each line must read:
    ;   write through read-only es: #GP err=0000 eip=+0000
    ;   read es:0x1000 past the limit 0xFFF: #GP err=0000 eip=+0000
    ;   read dword es:0xFFE (crosses the limit): #GP err=0000 eip=+0000
    ;   read es:0x800 below an expand-down limit: #GP err=0000 eip=+0000
    ;   read through a null es: #GP err=0000 eip=+0000
    ;   read ss:0x10000 past the SS limit 0xFFFF: #SS err=0000 eip=+0000
    ;   lock mov [ebx],eax: #UD err=0000 eip=+0000
    ;   mov cr0,eax with NW=1 CD=0: #GP err=0000 eip=+0000
    ;   mov cr0,eax with PG=1 PE=0: #GP err=0000 eip=+0000
    ;   mov cr4,eax with bit 31 set (reserved): #GP err=0000 eip=+0000
    XBEGIN "write through read-only es"
    mov ax, SEL_RODATA
    mov es, ax
    mov dword [EXC_REF], ROM_BASE + .sx1
.sx1:
    mov dword [es:0], 1
    XEND
    XBEGIN "read es:0x1000 past the limit 0xFFF"
    mov ax, SEL_RODATA
    mov es, ax
    mov dword [EXC_REF], ROM_BASE + .sx2
.sx2:
    mov eax, [es:0x1000]
    XEND
    XBEGIN "read dword es:0xFFE (crosses the limit)"
    mov ax, SEL_RODATA
    mov es, ax
    mov dword [EXC_REF], ROM_BASE + .sx3
.sx3:
    mov eax, [es:0xFFE]
    XEND
    XBEGIN "read es:0x800 below an expand-down limit"
    mov ax, SEL_DOWN
    mov es, ax
    mov dword [EXC_REF], ROM_BASE + .sx4
.sx4:
    mov eax, [es:0x800]
    XEND
    XBEGIN "read through a null es"
    xor eax, eax
    mov es, ax
    mov dword [EXC_REF], ROM_BASE + .sx5
.sx5:
    mov eax, [es:0]
    XEND
    XBEGIN "read ss:0x10000 past the SS limit 0xFFFF"
    mov ax, SEL_SMALLSS
    mov ss, ax
    mov ebp, 0x10000
    mov dword [EXC_REF], ROM_BASE + .sx6
.sx6:
    mov eax, [ebp]
    XEND
    XBEGIN "lock mov [ebx],eax"
    mov ebx, VARS + 0x40
    mov dword [EXC_REF], ROM_BASE + .sx7
.sx7:
    db 0xF0, 0x89, 0x03
    XEND
    XBEGIN "mov cr0,eax with NW=1 CD=0"
    mov eax, cr0
    and eax, ~0x40000000
    or eax, 0x20000000
    mov dword [EXC_REF], ROM_BASE + .sx8
.sx8:
    mov cr0, eax
    XEND
    XBEGIN "mov cr0,eax with PG=1 PE=0"
    mov eax, cr0
    and eax, ~1
    or eax, 0x80000000
    mov dword [EXC_REF], ROM_BASE + .sx9
.sx9:
    mov cr0, eax
    XEND
    XBEGIN "mov cr4,eax with bit 31 set (reserved)"
    mov eax, cr4
    or eax, 0x80000000
    mov dword [EXC_REF], ROM_BASE + .sx10
.sx10:
    mov cr4, eax
    XEND
%endif

    PUTS32 "exceptions: done", 10
    EXIT 0

; ---------------------------------------------------------------- handler
exc_common:
    pushad
    ; [esp+32]=vector [esp+36]=error [esp+40]=eip [esp+44]=cs [esp+48]=eflags
    inc dword [EXC_COUNT]
    mov eax, [esp + 32]
    cmp eax, 1
    jne .not_db
    mov ebx, dr6
    and ebx, 0x400F
    mov [EXC_DR6], ebx
    xor ebx, ebx
    mov dr6, ebx
    and dword [esp + 48], ~0x100        ; TF off in the saved EFLAGS
.not_db:
    PUTS32 " #"
    mov esi, ROM_BASE + vec_names
    lea esi, [esi + eax * 4]
    call pm_puts
    PUTS32 " err="
    mov ax, [esp + 36]
    call pm_hex16
    PUTS32 " eip=+"
    mov eax, [esp + 40]
    sub eax, [EXC_REF]
    call pm_hex16
    cmp word [esp + 44], SEL_CODE32
    je .cs_ok
    PUTS32 " BAD-CS"
.cs_ok:
    and dword [esp + 48], ~0x4000       ; NT off in the saved EFLAGS
    mov eax, [EXC_FIXOFF]
    cmp eax, -1
    je .nofix
    mov ebx, [EXC_FIXVAL]
    mov [esp + eax], ebx
    mov dword [EXC_FIXOFF], -1
.nofix:
    mov eax, [EXC_RESUME]
    test eax, eax
    jz .same
    mov [esp + 40], eax
.same:
    mov dword [EXC_RESUME], ROM_BASE + runaway
    popad
    add esp, 8
    iretd
runaway:
    PUTS32 10, "exceptions: FAIL: second exception in one test", 10
    EXIT 1

reset_segs:
    push eax
    mov ax, SEL_DATA32
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    pop eax
    ret

%include "inc/print32.inc"
    PM_ROUTINES32
    EXC_STUBS
[bits 16]
%include "inc/print16.inc"

; 4-byte vector names (NUL-padded)
vec_names:
    db "DE", 0, 0, "DB", 0, 0, "NMI", 0, "BP", 0, 0, "OF", 0, 0, "BR", 0, 0, "UD", 0, 0, "NM", 0, 0
    db "DF", 0, 0, "09", 0, 0, "TS", 0, 0, "NP", 0, 0, "SS", 0, 0, "GP", 0, 0, "PF", 0, 0, "15", 0, 0
    db "MF", 0, 0, "AC", 0, 0, "MC", 0, 0, "XM", 0, 0, "VE", 0, 0, "CP", 0, 0, "22", 0, 0, "23", 0, 0
    db "24", 0, 0, "25", 0, 0, "26", 0, 0, "27", 0, 0, "28", 0, 0, "29", 0, 0, "30", 0, 0, "31", 0, 0

idtr_full: dw 0x07FF
           dd IDT_RAM
idtr_64:   dw 0x01FF
           dd IDT_RAM

; Code descriptors have the accessed bit preset (QEMU does not set it on CS loads).
align 8
gdt:
    dq 0                                            ; 00
    DESC 0, 0xFFFFF, ACC_CODE | 1, DF_G | DF_DB     ; 08 code32 flat
    DESC 0, 0xFFFFF, ACC_DATA, DF_G | DF_DB         ; 10 data32 flat
    DESC ROM_BASE, 0xFFFF, ACC_CODE | 1, 0          ; 18 code16, base F0000
    DESC TSS_A, 0x67, ACC_TSS32, 0                  ; 20 TSS (loaded in TR)
    DESC TSS_B, 0x67, ACC_TSS32, 0                  ; 28 TSS (available)
    DESC LDT_BASE, 0x0F, ACC_LDT, 0                 ; 30 LDT (2 entries)
    DESC 0x2000, 0x0FFF, ACC_DATA_R, 0              ; 38 read-only data
    DESC 0, 0xFFFFF, ACC_CODE_X | 1, DF_G | DF_DB   ; 40 execute-only code
    DESC 0x3000, 0x0FFF, ACC_DATA & 0x7F, 0         ; 48 data, not present
    DESC 0, 0xFFFFF, (ACC_CODE | 1) & 0x7F, DF_G | DF_DB ; 50 code, not present
    DESC 0, 0xFFFFF, ACC_CODE | DPL3 | 1, DF_G | DF_DB  ; 58 code, DPL 3
    DESC 0x4000, 0x0FFF, ACC_DATA_D, 0              ; 60 expand-down data
    DESC 0, 0x0FFFF, ACC_DATA, DF_DB                ; 68 data, limit 0xFFFF, B=1
gdt_end:                                            ; limit 0x6F

[bits 16]
ROM_FOOTER
