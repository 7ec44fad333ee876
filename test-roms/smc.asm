; smc: self-modifying code, as the JIT must see it (Intel SDM Vol. 3A §11.6: a write
; to code, including an instruction already prefetched, takes effect for the next
; execution of that instruction; the check is by physical address, so it holds through
; any linear alias of the page).
;
; Cases, each printing the values the modified code returns:
; * same block: a routine that increments the immediate of its own next instruction
;   (`inc dword [imm]` then `mov eax, imm` then `ret`), called five times: 1..5;
; * other page: a routine in one RAM page whose immediate the ROM code rewrites
;   between calls, and a routine replaced whole by REP MOVSB;
; * two virtual aliases of one frame (paging on): the frame at 0x31000 is also mapped
;   at linear 0x80000000; code run through one mapping and rewritten through the
;   other, both ways round.
;
; RAM: GDT 0x0500, page directory 0x10000, page tables 0x11000 (0-4 MiB identity) and
; 0x12000 (0x80000000 -> frame 0x31000), code pages 0x30000 and 0x31000, stack 0x8000.
%include "inc/common.inc"
%include "inc/pm.inc"
[bits 16]
org 0

%define GDT_RAM  0x0500
%define PD       0x10000
%define PT0      0x11000
%define PT2      0x12000
%define CODE_A   0x30000
%define CODE_B   0x31000
%define HIGH     0x80000000
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
    PUTS32 "smc: start", 10

    ; ---- same block: the routine rewrites its own next instruction ----
    mov esi, ROM_BASE + inc_tpl
    mov edi, CODE_A
    mov ecx, inc_tpl_end - inc_tpl
    rep movsb
    PUTS32 "same block:"
    mov ebx, 5
.self:
    mov eax, CODE_A                 ; (an absolute target: the ROM runs at ROM_BASE)
    call eax
    PV32 "r", eax
    dec ebx
    jnz .self
    NL32

    ; ---- other page: the ROM rewrites a routine in RAM between calls ----
    mov esi, ROM_BASE + ret_tpl
    mov edi, CODE_B
    mov ecx, ret_tpl_end - ret_tpl
    rep movsb
    PUTS32 "other page:"
    mov ebx, 0x100
.other:
    mov eax, CODE_B
    call eax
    PV32 "r", eax
    add ebx, 0x100
    mov [CODE_B + 1], ebx
    cmp ebx, 0x500
    jne .other
    NL32
    ; Replace the whole routine with another one (REP MOVSB over it).
    mov esi, ROM_BASE + neg_tpl
    mov edi, CODE_B
    mov ecx, neg_tpl_end - neg_tpl
    rep movsb
    mov edx, CODE_B
    mov eax, 7
    call edx
    PV32 "replaced", eax
    NL32

    ; ---- paging: frame 0x31000 also at linear 0x80000000 ----
    mov edi, PD
    xor eax, eax
    mov ecx, 0x1000
    rep stosd                       ; PD, PT0 and PT2 cleared
    mov dword [PD], PT0 | 3
    mov dword [PD + (HIGH >> 22) * 4], PT2 | 3
    mov edi, PT0
    mov eax, 3
    mov ecx, 1024
.map:
    stosd                           ; identity map 0-4 MiB
    add eax, 0x1000
    loop .map
    mov dword [PT2], CODE_B | 3
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    mov esi, ROM_BASE + ret_tpl
    mov edi, CODE_B
    mov ecx, ret_tpl_end - ret_tpl
    rep movsb
    PUTS32 "alias:"
    mov ebx, 0x1000
.alias:
    mov eax, HIGH                   ; run through 0x80000000
    call eax
    PV32 "hi", eax
    add ebx, 0x1000
    mov [CODE_B + 1], ebx           ; write through 0x31000
    mov eax, CODE_B                 ; run through 0x31000
    call eax
    PV32 "lo", eax
    add ebx, 0x1000
    mov [HIGH + 1], ebx             ; write through 0x80000000
    cmp ebx, 0x5000
    jne .alias
    NL32
    mov eax, HIGH
    call eax
    PV32 "last", eax
    NL32

    PUTS32 "smc: done", 10
    EXIT 0

; Templates copied to RAM (position-independent: EIP-relative via a call).
inc_tpl:
    call .here
.here:
    pop edx
    inc dword [edx + (.imm - .here) + 1]
.imm:
    mov eax, 0
    ret
inc_tpl_end:

ret_tpl:
    mov eax, 0x100
    ret
ret_tpl_end:

neg_tpl:
    neg eax
    add eax, 0x1000
    ret
neg_tpl_end:

%include "inc/print32.inc"

align 8
gdt:
    dq 0
    DESC 0, 0xFFFFF, ACC_CODE | 1, DF_G | DF_DB
    DESC 0, 0xFFFFF, ACC_DATA | 1, DF_G | DF_DB
gdt_end:

[bits 16]
ROM_FOOTER
