; rings: privilege levels in 32-bit protected mode.
; IRET to ring 3; call gate with parameter copying and RET imm back; INT through a
; DPL-3 interrupt gate; INT to a DPL-0 gate from ring 3; conforming code; data-segment
; privilege checks; nulling of data segment registers on return to an outer ring;
; the TSS I/O permission bitmap; IOPL-sensitive instructions at ring 3.
%include "inc/common.inc"
%include "inc/sys.inc"

%define TSS         0x2000
%define TSS_LIMIT   0x88            ; 0x68 bytes + 32-byte bitmap (ports 0-FF) + 0xFF
%define ESP0        0x9000
%define USER_STACK  0x7000

%define UCODE       0x1B            ; selector 0x18 | RPL 3
%define UDATA       0x23            ; selector 0x20 | RPL 3
%define TSS_SEL     0x28
%define GATE3       0x33            ; call gate, DPL 3 (selector 0x30 | RPL 3)
%define CONF        0x38            ; conforming code, DPL 0
%define GATE0       0x43            ; call gate, DPL 0 (selector 0x40 | RPL 3)

[bits 16]
org 0
start:
    SYS_ENTER_PM32 gdt, gdt_end, pm_start

gdt:
    dq 0
    SDESC 0, 0xFFFFF, 0x9A, 0xC          ; 08 ring-0 code
    SDESC 0, 0xFFFFF, 0x92, 0xC          ; 10 ring-0 data
    SDESC 0, 0xFFFFF, 0xFA, 0xC          ; 18 ring-3 code
    SDESC 0, 0xFFFFF, 0xF2, 0xC          ; 20 ring-3 data
    SDESC TSS, TSS_LIMIT, 0x89, 0x0      ; 28 32-bit TSS (available)
    CALLGATE KCODE, gate_entry, 0xEC, 2 ; 30 32-bit call gate, DPL 3, 2 dword params
    SDESC 0, 0xFFFFF, 0x9E, 0xC          ; 38 conforming readable code, DPL 0
    CALLGATE KCODE, gate_entry, 0x8C, 2 ; 40 32-bit call gate, DPL 0
gdt_end:

[bits 32]
pm_start:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, ESP0
    call init_idt
    SETGATE 0x80, int80_handler, KCODE, 0xEE   ; DPL 3 interrupt gate
    SETGATE 0x81, int80_handler, KCODE, 0x8E   ; DPL 0 interrupt gate
    SETGATE 0x82, iopl3_handler, KCODE, 0xEE
    SETGATE 0x83, finish, KCODE, 0xEE

    ; TSS: ESP0/SS0, I/O bitmap at 0x68 allowing only port 0xE9.
    mov edi, TSS
    mov ecx, TSS_LIMIT + 1
    xor eax, eax
    rep stosb
    mov dword [TSS + 4], ESP0
    mov word [TSS + 8], KDATA
    mov word [TSS + 0x66], 0x68
    mov edi, TSS + 0x68
    mov ecx, 33
    mov al, 0xFF
    rep stosb
    and byte [TSS + 0x68 + (0xE9 >> 3)], ~(1 << (0xE9 & 7))
    mov ax, TSS_SEL
    ltr ax

    PUTS32 "rings", 10
    PUTS32 "-- ring 0 segment loads", 10
    PUTV16 "cs", cs
    PUTS32 "mov ds,0013 (rpl 3 > dpl 0): "
    EXPECT_FAULT .r0a
    mov ax, 0x13
    mov ds, ax
    NO_FAULT
.r0a:
    PUTS32 "mov ss,0023 (dpl 3 != cpl 0): "
    EXPECT_FAULT .r0b
    mov ax, UDATA
    mov ss, ax
    NO_FAULT
.r0b:
    PUTS32 "mov ss,0013 (rpl 3 != cpl 0): "
    EXPECT_FAULT .r0c
    mov ax, 0x13
    mov ss, ax
    NO_FAULT
.r0c:
    mov ax, UDATA
    mov fs, ax
    PUTV16 "mov fs,0023 (dpl 3 data) ok, fs", fs

    ; IRET to ring 3 with DS/FS/GS holding ring-0 data selectors and ES a ring-3 one.
    PUTS32 "-- iret to ring 3", 10
    mov ax, KDATA
    mov fs, ax
    mov gs, ax
    mov ax, UDATA
    mov es, ax
    push dword UDATA                ; SS
    push dword USER_STACK           ; ESP
    push dword 0x00000002           ; EFLAGS: IOPL 0, IF 0
    push dword UCODE                ; CS
    push dword ABS(ring3)           ; EIP
    iretd

; ---------------------------------------------------------------- ring 3 code
ring3:
    mov bx, ds
    mov cx, es
    mov dx, fs
    mov di, gs
    mov ax, UDATA
    mov ds, ax
    PUTV16 "cs", cs
    PUTV16 "ss", ss
    mov ebp, esp
    PUTV32 "esp", ebp
    PUTV16 "ds (was 0010)", bx
    PUTV16 "es (was 0023)", cx
    PUTV16 "fs (was 0010)", dx
    PUTV16 "gs (was 0010)", di

    PUTS32 "-- call gate 0033, 2 params", 10
    mov ebp, esp
    PUTV32 "esp before pushes", ebp
    push dword 0x11111111
    push dword 0x22222222
    call GATE3:0
ret_from_gate:
    mov bx, ds
    mov cx, es
    mov dx, fs
    mov di, gs
    mov ax, UDATA
    mov ds, ax
    PUTS32 "back in ring 3 after retf 8", 10
    PUTV16 "cs", cs
    PUTV16 "ss", ss
    mov ebp, esp
    PUTV32 "esp", ebp
    PUTV16 "ds (was 0010)", bx
    PUTV16 "es (was 0023)", cx
    PUTV16 "fs (was 0010)", dx
    PUTV16 "gs (was 0038 conforming)", di
    mov ax, UDATA
    mov es, ax

    PUTS32 "-- int 80 (dpl 3 interrupt gate)", 10
    mov ebp, esp
    PUTV32 "esp before int", ebp
    push dword 0x000008D5           ; OF SF ZF AF PF CF
    popfd
    int 0x80
ret_from_int80:
    pushfd
    pop eax
    PUTV32 "eflags after iret", eax
    mov ebp, esp
    PUTV32 "esp after iret", ebp
    push dword 2
    popfd

    PUTS32 "-- privilege violations at ring 3", 10
    PUTS32 "int 81 (dpl 0 gate): "
    EXPECT_FAULT .v1
    int 0x81
    NO_FAULT
.v1:
    PUTS32 "call 0043 (dpl 0 call gate): "
    EXPECT_FAULT .v2
    call GATE0:0
    NO_FAULT
.v2:
    PUTS32 "call 0008 (dpl 0 code, direct): "
    EXPECT_FAULT .v3
    call KCODE:ABS(never)
    NO_FAULT
.v3:
    PUTS32 "mov ds,0010: "
    EXPECT_FAULT .v4
    mov ax, KDATA
    mov ds, ax
    NO_FAULT
.v4:
    PUTS32 "mov es,0013: "
    EXPECT_FAULT .v5
    mov ax, 0x13
    mov es, ax
    NO_FAULT
.v5:
    PUTS32 "mov ss,0010: "
    EXPECT_FAULT .v6
    mov ax, KDATA
    mov ss, ax
    NO_FAULT
.v6:
    PUTS32 "mov ss,0000: "
    EXPECT_FAULT .v7
    xor ax, ax
    mov ss, ax
    NO_FAULT
.v7:
    xor ax, ax
    mov gs, ax
    PUTV16 "mov gs,0000 ok, gs", gs
    mov ax, CONF
    mov fs, ax
    PUTV16 "mov fs,0038 (conforming code) ok, fs", fs
    xor ax, ax
    mov fs, ax

    PUTS32 "-- conforming code segment", 10
    call CONF:ABS(conforming_func)

    PUTS32 "-- i/o at ring 3, iopl 0", 10
    PUTS32 "out e9 (bitmap 0): "
    mov al, 'o'
    out 0xE9, al
    mov al, 'k'
    out 0xE9, al
    call pm_nl
    PUTS32 "out 80 (bitmap 1): "
    EXPECT_FAULT .i1
    mov al, 0x55
    out 0x80, al
    NO_FAULT
.i1:
    PUTS32 "in al,80: "
    EXPECT_FAULT .i2
    in al, 0x80
    NO_FAULT
.i2:
    PUTS32 "out e9,ax (port ea denied): "
    EXPECT_FAULT .i3
    mov ax, '!!'
    out 0xE9, ax
    NO_FAULT
.i3:
    PUTS32 "cli: "
    EXPECT_FAULT .i4
    cli
    NO_FAULT
.i4:
    PUTS32 "sti: "
    EXPECT_FAULT .i5
    sti
    NO_FAULT
.i5:
    PUTS32 "hlt: "
    EXPECT_FAULT .i6
    hlt
    NO_FAULT
.i6:
    push dword 0x00003201           ; try IOPL 3, IF 1 (and CF)
    popfd
    pushfd
    pop eax
    PUTV32 "eflags after popf 00003201", eax
    push dword 2
    popfd

    PUTS32 "-- ring 3 with iopl 3", 10
    push dword 2
    popfd
    int 0x82                        ; the handler sets IOPL 3 in the IRET image
    pushfd
    pop eax
    PUTV32 "eflags", eax
    PUTS32 "out 80: "
    EXPECT_FAULT .k1
    mov al, 0x55
    out 0x80, al
    mov dword [VAR_RESUME], 0
    PUTS32 "ok", 10
.k1:
    PUTS32 "cli: "
    EXPECT_FAULT .k2
    cli
    mov dword [VAR_RESUME], 0
    PUTS32 "ok", 10
.k2:
    push dword 0x00000003           ; try IOPL 0 (and CF)
    popfd
    pushfd
    pop eax
    PUTV32 "eflags after popf 00000003", eax
    int 0x83                        ; back to ring 0 for good

never:
    PUTS32 "BUG: reached ring-0 code directly", 10
    EXIT 1

; ---------------------------------------------------------------- ring 0 handlers
gate_entry:
    mov ebp, esp
    mov bx, ss
    PUTS32 "in call gate target", 10
    PUTV16 "cs", cs
    PUTV16 "ss", bx
    PUTV32 "esp", ebp
    PUTV32 "[esp+00] eip", [ebp]
    PUTV16 "[esp+04] cs", [ebp + 4]
    PUTV32 "[esp+08] param 2", [ebp + 8]
    PUTV32 "[esp+0C] param 1", [ebp + 12]
    PUTV32 "[esp+10] esp", [ebp + 16]
    PUTV16 "[esp+14] ss", [ebp + 20]
    ; Data segment registers for the return: DS, FS ring-0 data (nulled by RET),
    ; ES ring-3 data and GS conforming code (both kept).
    mov ax, KDATA
    mov ds, ax
    mov fs, ax
    mov ax, UDATA
    mov es, ax
    mov ax, CONF
    mov gs, ax
    retf 8

int80_handler:
    mov ebp, esp
    mov bx, ss
    PUTS32 "in int 80 handler", 10
    PUTV16 "cs", cs
    PUTV16 "ss", bx
    PUTV32 "esp", ebp
    PUTV32 "[esp+00] eip", [ebp]
    PUTV16 "[esp+04] cs", [ebp + 4]
    PUTV32 "[esp+08] eflags", [ebp + 8]
    PUTV32 "[esp+0C] esp", [ebp + 12]
    PUTV16 "[esp+10] ss", [ebp + 16]
    iretd

iopl3_handler:
    or dword [esp + 8], 0x3000
    iretd

finish:
    mov ax, KDATA
    mov ds, ax
    PUTS32 "-- back in ring 0", 10
    PUTV16 "cs", cs
    PUTS32 "done", 10
    EXIT 0

conforming_func:
    mov bx, cs
    mov cx, ss
    PUTV16 "cs (rpl = cpl 3)", bx
    PUTV16 "ss", cx
    retf

SYS_CODE
%include "inc/print32.inc"
[bits 16]
ROM_FOOTER
