; v86: virtual-8086 mode under a 32-bit ring-0 monitor.
; IRET with VM=1 into V86; real-mode style segment arithmetic; INT n with IOPL 3
; through a 32-bit DPL-3 interrupt gate (frame with GS/FS/DS/ES/SS/ESP/EFLAGS/CS/EIP,
; null data segments in the handler); IRET back to V86; IOPL-sensitive instructions
; with IOPL 0 (#GP(0) to the monitor); I/O checked against the TSS bitmap only;
; INT3 (not IOPL-sensitive) as the final exit to the monitor.
%include "inc/common.inc"
%include "inc/sys.inc"

%define TSS         0x2000
%define TSS_LIMIT   0x88
%define TSS_SEL     0x18
%define ESP0        0x9000
%define V86_SS      0x0700
%define V86_SP      0x1000

[bits 16]
org 0
start:
    SYS_ENTER_PM32 gdt, gdt_end, pm_start

gdt:
    dq 0
    SDESC 0, 0xFFFFF, 0x9A, 0xC          ; 08 ring-0 code
    SDESC 0, 0xFFFFF, 0x92, 0xC          ; 10 ring-0 data
    SDESC TSS, TSS_LIMIT, 0x89, 0x0      ; 18 32-bit TSS
gdt_end:

; ---------------------------------------------------------------- V86 code (16-bit)
[bits 16]
v86_code:
    pushf
    pop bx
    PUTS16 "-- in v86, iopl 3", 10
    RPUTV16 "flags", bx
    RPUTV16 "cs", cs
    RPUTV16 "ss", ss
    mov bp, sp
    RPUTV16 "sp", bp
    RPUTV16 "ds", ds
    RPUTV16 "es", es

    PUTS16 "-- segment arithmetic", 10
    RPUTV32 "[1234:0000]", [0x0000]
    RPUTV32 "[1000:2340]", [es:0x2340]
    mov ax, 0x1200
    mov fs, ax
    RPUTV32 "[1200:0344]", [fs:0x0344]
    mov dword [es:0x2348], 0x55667788
    mov ax, 0x1230
    mov gs, ax
    RPUTV32 "[1230:0048] after write to [1000:2348]", [gs:0x0048]
    mov ax, 0x9001
    mov ds, ax
    RPUTV32 "[9001:0000]", [0x0000]
    mov ax, 0x1234
    mov ds, ax

    PUTS16 "-- int 30 (dpl 3 gate, iopl 3)", 10
    push word 0x08D5                ; OF SF ZF AF PF CF
    popf
    int 0x30
v86_after_int30:
    pushf
    pop bx
    PUTS16 "back in v86", 10
    RPUTV16 "flags", bx
    RPUTV16 "ds (set by handler)", ds
    RPUTV16 "es", es
    RPUTV16 "fs", fs
    RPUTV16 "gs", gs
    mov bp, sp
    RPUTV16 "sp", bp
    mov ax, 0x1234
    mov ds, ax

    PUTS16 "-- more at iopl 3", 10
    PUTS16 "int 31 (dpl 0 gate): "
    EXPECT_FAULT16 .a1
    int 0x31
    NO_FAULT16
.a1:
    PUTS16 "out 80 (bitmap 1): "
    EXPECT_FAULT16 .a2
    out 0x80, al
    NO_FAULT16
.a2:
    PUTS16 "in al,80 (bitmap 1): "
    EXPECT_FAULT16 .a3
    in al, 0x80
    NO_FAULT16
.a3:
    PUTS16 "cli: "
    EXPECT_FAULT16 .a4
    cli
    push ds
    push word 0
    pop ds
    mov dword [VAR_RESUME], 0
    pop ds
    PUTS16 "ok", 10
.a4:
    push word 0x0000                ; try to clear IOPL
    popf
    pushf
    pop bx
    RPUTV16 "flags after popf 0000", bx
    PUTS16 "iret (16-bit): "
    push word 0x0001                ; FLAGS image: CF, IOPL 0
    push cs
    push word .a5
    iret
    PUTS16 "BUG: iret fell through", 10
.a5:
    pushf
    pop bx
    PUTS16 "ok", 10
    RPUTV16 "flags after iret", bx

    PUTS16 "-- int 32: monitor sets iopl 0", 10
    int 0x32
    PUTS16 "int 30: "
    EXPECT_FAULT16 .b1
    int 0x30
    NO_FAULT16
.b1:
    PUTS16 "pushf: "
    EXPECT_FAULT16 .b2
    pushf
    NO_FAULT16
    pop ax
.b2:
    PUTS16 "popf: "
    push word 0x0002
    EXPECT_FAULT16 .b3
    popf
    NO_FAULT16
    push ax
.b3:
    add sp, 2
    PUTS16 "cli: "
    EXPECT_FAULT16 .b4
    cli
    NO_FAULT16
.b4:
    PUTS16 "sti: "
    EXPECT_FAULT16 .b5
    sti
    NO_FAULT16
.b5:
    PUTS16 "iret: "
    push word 0x0002
    push cs
    push word .b6bad
    EXPECT_FAULT16 .b6
    iret
.b6bad:
    NO_FAULT16
    sub sp, 6
.b6:
    add sp, 6
    PUTS16 "out e9 (bitmap 0): "
    mov al, 'o'
    out 0xE9, al
    mov al, 'k'
    out 0xE9, al
    call rm_nl
    PUTS16 "out 80 (bitmap 1): "
    EXPECT_FAULT16 .b7
    out 0x80, al
    NO_FAULT16
.b7:
    PUTS16 "int3 (not iopl-sensitive, dpl 3 gate)", 10
    cmp ax, ax                      ; ZF PF, all other arithmetic flags clear
    int3
v86_after_int3:
    PUTS16 "BUG: returned to v86", 10
    jmp $

%include "inc/print16.inc"

; ---------------------------------------------------------------- monitor (32-bit)
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
    SETGATE 3, v86_exit, KCODE, 0xEE
    SETGATE 0x30, int30_handler, KCODE, 0xEE
    SETGATE 0x31, int30_handler, KCODE, 0x8E
    SETGATE 0x32, iopl0_handler, KCODE, 0xEE

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

    mov dword [0x12340], 0xCAFEBABE
    mov dword [0x12344], 0x11223344
    mov dword [0x12348], 0
    mov dword [0x90010], 0xA5A5F00D

    PUTS32 "v86", 10
    PUTS32 "-- iret to v86", 10
    push dword 0                    ; GS
    push dword 0                    ; FS
    push dword 0x1234               ; DS
    push dword 0x1000               ; ES
    push dword V86_SS               ; SS
    push dword V86_SP               ; ESP
    push dword 0x00023002           ; EFLAGS: VM, IOPL 3
    push dword ROM_SEG              ; CS
    push dword v86_code - $$        ; EIP
    iretd

int30_handler:
    mov ebp, esp
    mov bx, ds
    mov cx, es
    mov dx, fs
    mov di, gs
    mov ax, KDATA
    mov ds, ax
    PUTS32 "in int 30 handler", 10
    PUTV16 "cs", cs
    PUTV16 "ss", ss
    PUTV32 "esp", ebp
    PUTV16 "ds", bx
    PUTV16 "es", cx
    PUTV16 "fs", dx
    PUTV16 "gs", di
    PUTV32 "[esp+00] eip", [ebp]
    PUTV16 "[esp+04] cs", [ebp + 4]
    PUTV32 "[esp+08] eflags", [ebp + 8]
    PUTV32 "[esp+0C] esp", [ebp + 12]
    PUTV16 "[esp+10] ss", [ebp + 16]
    PUTV16 "[esp+14] es", [ebp + 20]
    PUTV16 "[esp+18] ds", [ebp + 24]
    PUTV16 "[esp+1C] fs", [ebp + 28]
    PUTV16 "[esp+20] gs", [ebp + 32]
    mov word [ebp + 24], 0x2000     ; the V86 DS after IRET
    iretd

iopl0_handler:
    and dword [esp + 8], ~0x3000
    iretd

v86_exit:
    mov ebp, esp
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    PUTS32 "monitor: vector 3 from v86", 10
    PUTV32 "[esp+00] eip", [ebp]
    PUTV16 "[esp+04] cs", [ebp + 4]
    PUTV32 "[esp+08] eflags", [ebp + 8]
    PUTV32 "[esp+0C] esp", [ebp + 12]
    PUTV16 "[esp+10] ss", [ebp + 16]
    mov esp, ESP0
    PUTS32 "left v86", 10
    PUTS32 "done", 10
    EXIT 0

SYS_CODE
%include "inc/print32.inc"
[bits 16]
ROM_FOOTER
