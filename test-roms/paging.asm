; paging: 32-bit (non-PAE) paging.
;
; Covers: 4 KiB pages through a page table and a 4 MiB page (CR4.PSE); a linear page
; mapped to another physical page (aliasing, seen through both mappings); the new
; mapping after a PTE change followed by INVLPG, a CR3 reload, and (for a global
; page, CR4.PGE) INVLPG and a CR4.PGE toggle; accessed/dirty bits in PTEs and PDEs;
; #PF error codes and CR2 for supervisor and user (ring 3) accesses to not-present,
; read-only and supervisor pages, CR0.WP=0 vs 1; a #PF handler that maps the page
; and restarts the instruction (demand paging).
; Stale TLB contents (no flush after a change) are implementation-specific and are
; never looked at. Nor is CR2 for an access that straddles into a not-present page
; (the SDM does not say which byte address is reported).
;
; #PF lines: "#PF err=EEEE cr2=LLLLLLLL eip=+OOOO cpl=N": err bits 0 P (protection
; violation), 1 W/R (write), 2 U/S (user mode); eip relative to the faulting
; instruction (faults: +0000).
;
; RAM: GDT 0x0500, IDT 0x0800, TSS 0x1000, page directory 0x10000, page tables
; 0x11000 (linear 0-4 MiB, identity) and 0x12000 (linear 0x80000000-0x803FFFFF),
; data pages 0x20000 (A), 0x21000 (B), 0x22000 (C), 0x30000 (supervisor-only),
; 0x31000 (read-only), 0x32000 (not present). Ring-0 stack top 0x8000, ring-3
; stack top 0x6000, ring-0 stack for interrupts from ring 3 (TSS.ESP0) 0x9000.
%include "inc/common.inc"
%include "inc/pm.inc"
[bits 16]
org 0

%define GDT_RAM  0x0500
%define IDT_RAM  0x0800
%define TSS_RAM  0x1000
%define VARS     0x1800
%define PF_REF    (VARS + 0x00)
%define PF_RESUME (VARS + 0x04)
%define PF_COUNT  (VARS + 0x08)
%define PF_MAP    (VARS + 0x0C)   ; nonzero: the handler writes this PTE value
%define PF_MAPAT  (VARS + 0x10)   ; ... at this address, and restarts

%define PD       0x10000
%define PT0      0x11000
%define PT2      0x12000
%define PAGE_A   0x20000
%define PAGE_B   0x21000
%define PAGE_C   0x22000
%define PAGE_SUP 0x30000
%define PAGE_RO  0x31000
%define PAGE_NP  0x32000
%define HIGH     0x80000000       ; linear base mapped by PT2

%define P_P   0x001
%define P_RW  0x002
%define P_US  0x004
%define P_A   0x020
%define P_D   0x040
%define P_PS  0x080
%define P_G   0x100

%define SEL_CODE32 0x08
%define SEL_DATA32 0x10
%define SEL_UCODE  0x1B
%define SEL_UDATA  0x23
%define SEL_TSS    0x28

; PFT "name" ... PFEND : like the exceptions ROM; the handler resumes at PFEND
%macro PFT 1+
    %push pft
    PUTS32 %1, ":"
    mov dword [PF_REF], ROM_BASE + %$at
    mov dword [PF_RESUME], ROM_BASE + %$resume
    mov dword [PF_COUNT], 0
%$at:
%endmacro
%macro PFEND 0
%$resume:
    cmp dword [PF_COUNT], 0
    jne %%ok
    PUTS32 " no exception"
%%ok:
    call pm_nl
    %pop
%endmacro

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov esp, 0x8000
    mov ds, ax
    mov es, ax
    PUTS16 "paging: start", 10
    mov di, TSS_RAM
    mov cx, 0x34
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
    mov eax, 0x40                       ; int 0x40: ring 3 -> ring 0 (DPL 3 gate)
    mov ebx, ROM_BASE + back_to_ring0
    mov dl, 0xEE
    call pm_set_gate
    lidt [ROM_BASE + idtr]
    mov dword [TSS_RAM + 4], 0x9000     ; ESP0
    mov dword [TSS_RAM + 8], SEL_DATA32 ; SS0
    mov ax, SEL_TSS
    ltr ax

    ; ---- page tables
    mov edi, PD
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov edi, PT0                        ; identity, user, writable
    mov eax, P_P | P_RW | P_US
    mov ecx, 1024
.pt0:
    stosd
    add eax, 0x1000
    loop .pt0
    mov dword [PT0 + (PAGE_SUP >> 12) * 4], PAGE_SUP | P_P | P_RW
    mov dword [PT0 + (PAGE_RO >> 12) * 4], PAGE_RO | P_P | P_US
    mov dword [PT0 + (PAGE_NP >> 12) * 4], 0
    mov dword [PD + 0 * 4], PT0 | P_P | P_RW | P_US
    mov dword [PD + 1 * 4], 0x00000000 | P_P | P_RW | P_PS   ; 4 MiB page -> physical 0
    mov dword [PD + (HIGH >> 22) * 4], PT2 | P_P | P_RW | P_US
    mov dword [PT2 + 0 * 4], PAGE_A | P_P | P_RW
    mov dword [PT2 + 1 * 4], PAGE_B | P_P | P_RW
    mov dword [PT2 + 2 * 4], PAGE_B | P_P | P_RW
    mov dword [PT2 + 3 * 4], 0
    ; ---- data
    mov dword [PAGE_A], 0xAAAA0000
    mov dword [PAGE_A + 4], 0xAAAA0004
    mov dword [PAGE_B], 0xBBBB0000
    mov dword [PAGE_C], 0xCCCC0000
    mov dword [PAGE_SUP], 0x5555AAAA
    mov dword [PAGE_RO], 0x0000F00D

    ; ---- paging on: CR3, CR4.PSE, CR0.PG (CD, NW cleared, WP=0)
    mov eax, PD
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov eax, cr0
    and eax, 0x9FFEFFFF
    or eax, 0x80000000
    mov cr0, eax
    jmp .flush
.flush:
    PUTS32 "paging on:"
    mov eax, cr0
    PV32 "cr0", eax
    mov eax, cr3
    PV32 "cr3", eax
    mov eax, cr4
    PV32 "cr4", eax
    call pm_nl

    ; ---- aliasing
    PUTS32 "alias: [0x80000000]="
    mov eax, [HIGH]
    call pm_hex32
    mov dword [HIGH + 4], 0x12345678
    PUTS32 " wrote [0x80000004]=12345678, [0x20004]="
    mov eax, [PAGE_A + 4]
    call pm_hex32
    call pm_nl
    PUTS32 "alias: [0x80001000]="
    mov eax, [HIGH + 0x1000]
    call pm_hex32
    PUTS32 " [0x80002000]="
    mov eax, [HIGH + 0x2000]
    call pm_hex32
    call pm_nl

    ; ---- 4 MiB page: linear 0x400000+x -> physical x
    PUTS32 "pse: pde1 a/d before="
    mov eax, [PD + 4]
    and eax, P_A | P_D
    call pm_hex8
    PUTS32 " [0x420000]="
    mov eax, [0x400000 + PAGE_A]
    call pm_hex32
    PUTS32 " pde1 a/d after read="
    mov eax, [PD + 4]
    and eax, P_A | P_D
    call pm_hex8
    mov dword [0x400000 + PAGE_A + 8], 0xFACEFEED
    PUTS32 " wrote [0x420008], pde1 a/d="
    mov eax, [PD + 4]
    and eax, P_A | P_D
    call pm_hex8
    PUTS32 " [0x20008]="
    mov eax, [PAGE_A + 8]
    call pm_hex32
    call pm_nl

    ; ---- accessed / dirty bits (PT2[1] and PDE 0x200 have A=D=0 so far? PT2[1]
    ; was read above: show the state after that read, then after a write)
    PUTS32 "a/d: pte[0x80001000] after read="
    mov eax, [PT2 + 4]
    and eax, P_A | P_D
    call pm_hex8
    PUTS32 " pde[0x80000000] a="
    mov eax, [PD + (HIGH >> 22) * 4]
    and eax, P_A
    call pm_hex8
    mov dword [HIGH + 0x1000 + 8], 1
    PUTS32 " after write pte="
    mov eax, [PT2 + 4]
    and eax, P_A | P_D
    call pm_hex8
    call pm_nl
    and dword [PT2 + 4], ~(P_A | P_D)
    invlpg [HIGH + 0x1000]
    mov dword [HIGH + 0x1000 + 8], 2
    PUTS32 "a/d: cleared, invlpg, first access a write: pte="
    mov eax, [PT2 + 4]
    and eax, P_A | P_D
    call pm_hex8
    call pm_nl
    and dword [PT2 + 4], ~(P_A | P_D)
    mov eax, cr3
    mov cr3, eax
    mov eax, [HIGH + 0x1000]
    PUTS32 "a/d: cleared, cr3 reload, read: pte="
    mov eax, [PT2 + 4]
    and eax, P_A | P_D
    call pm_hex8
    call pm_nl

    ; ---- changing a mapping: INVLPG, then CR3 reload
    mov eax, [HIGH]                     ; make sure the old translation is in use
    mov dword [PT2 + 0], PAGE_C | P_P | P_RW
    invlpg [HIGH]
    PUTS32 "remap 0x80000000 -> 0x22000, invlpg: [0x80000000]="
    mov eax, [HIGH]
    call pm_hex32
    call pm_nl
    mov dword [PT2 + 0], PAGE_A | P_P | P_RW
    mov eax, cr3
    mov cr3, eax
    PUTS32 "remap 0x80000000 -> 0x20000, cr3 reload: [0x80000000]="
    mov eax, [HIGH]
    call pm_hex32
    call pm_nl

    ; ---- global page (CR4.PGE): INVLPG and a CR4.PGE toggle flush it
    mov eax, cr4
    or eax, 0x80
    mov cr4, eax
    mov dword [PT2 + 8], PAGE_B | P_P | P_RW | P_G
    invlpg [HIGH + 0x2000]
    mov eax, [HIGH + 0x2000]
    PUTS32 "global: [0x80002000]="
    call pm_hex32
    mov dword [PT2 + 8], PAGE_C | P_P | P_RW | P_G
    invlpg [HIGH + 0x2000]
    mov eax, [HIGH + 0x2000]
    PUTS32 " -> 0x22000, invlpg:"
    call pm_hex32
    mov dword [PT2 + 8], PAGE_A | P_P | P_RW | P_G
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    or eax, 0x80
    mov cr4, eax
    mov eax, [HIGH + 0x2000]
    PUTS32 " -> 0x20000, pge off/on:"
    call pm_hex32
    call pm_nl
    mov eax, cr4
    PUTS32 "cr4="
    call pm_hex32
    call pm_nl

    ; ---- supervisor #PF cases
    PFT "read not-present pte"
    mov eax, [HIGH + 0x3123]
    PFEND
    PFT "write not-present pte"
    mov dword [HIGH + 0x3456], 1
    PFEND
    PFT "read through a not-present pde"
    mov eax, [0xC0000010]
    PFEND
    PFT "write not-present page 0x32000 (identity table)"
    mov byte [PAGE_NP + 0xFFF], 1
    PFEND
    PFT "supervisor write to read-only page, WP=0"
    mov dword [PAGE_RO + 4], 0x600D
    PUTS32 " ok"
    PV32 "[0x31004]", [PAGE_RO + 4]
    PFEND
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    PFT "supervisor write to read-only page, WP=1"
    mov dword [PAGE_RO + 8], 0xBAD
    PFEND
    PFT "supervisor read of read-only page, WP=1"
    mov eax, [PAGE_RO]
    PV32 "eax", eax
    PFEND
    PFT "demand paging: read, handler maps 0x80003000 -> 0x22000 and restarts"
    mov dword [PF_MAP], PAGE_C | P_P | P_RW
    mov dword [PF_MAPAT], PT2 + 3 * 4
    mov dword [PF_RESUME], 0
    mov dword [PF_REF], ROM_BASE + .dp1
.dp1:
    mov eax, [HIGH + 0x3000]
    PV32 "eax", eax
    PFEND

    ; ---- ring 3
    PUTS32 "ring 3:", 10
    push dword SEL_UDATA                ; SS
    push dword 0x6000                   ; ESP
    push dword 0x3002                   ; EFLAGS: IOPL 3 (OUT for the output)
    push dword SEL_UCODE                ; CS
    push dword ROM_BASE + ring3
    iretd

ring3:
    mov ax, SEL_UDATA
    mov ds, ax
    mov es, ax
    PUTS32 "  cpl="
    mov ax, cs
    and al, 3
    call pm_hex8
    PUTS32 " read user page [0x20000]="
    mov eax, [PAGE_A]
    call pm_hex32
    call pm_nl
    PFT "  user read of a supervisor page"
    mov eax, [PAGE_SUP]
    PFEND
    PFT "  user write to a supervisor page"
    mov dword [PAGE_SUP], 0
    PFEND
    PFT "  user read of a not-present page"
    mov eax, [PAGE_NP + 0x10]
    PFEND
    PFT "  user write to a read-only page"
    mov dword [PAGE_RO + 0xC], 0
    PFEND
    PFT "  user read of a read-only page"
    mov eax, [PAGE_RO]
    PV32 "eax", eax
    PFEND
    PFT "  user read of the 4 MiB supervisor page"
    mov eax, [0x400000 + PAGE_A]
    PFEND
    PFT "  user read through a supervisor pte (0x80000000)"
    mov eax, [HIGH]
    PFEND
    PFT "  hlt at cpl 3"
    hlt
    PFEND
    int 0x40                            ; back to ring 0
    hlt

back_to_ring0:
    mov esp, 0x8000
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    PUTS32 "back in ring 0: cpl="
    mov ax, cs
    and al, 3
    call pm_hex8
    call pm_nl
    mov eax, [PAGE_SUP]
    PUTS32 "supervisor page after the user writes: [0x30000]="
    call pm_hex32
    PUTS32 " [0x3100C]="
    mov eax, [PAGE_RO + 0xC]
    call pm_hex32
    call pm_nl
    PUTS32 "paging: done", 10
    EXIT 0

; ---------------------------------------------------------------- handler
exc_common:
    pushad
    ; [esp+32]=vector [esp+36]=error [esp+40]=eip [esp+44]=cs [esp+48]=eflags
    inc dword [PF_COUNT]
    mov eax, [esp + 32]
    cmp eax, 14
    je .pf
    PUTS32 " vector="
    call pm_hex8
    jmp .common
.pf:
    PUTS32 " #PF"
.common:
    PUTS32 " err="
    mov ax, [esp + 36]
    call pm_hex16
    cmp dword [esp + 32], 14
    jne .nocr2
    PUTS32 " cr2="
    mov eax, cr2
    call pm_hex32
.nocr2:
    PUTS32 " eip=+"
    mov eax, [esp + 40]
    sub eax, [PF_REF]
    call pm_hex16
    PUTS32 " cpl="
    mov al, [esp + 44]
    and al, 3
    call pm_hex8
    mov eax, [PF_MAP]
    test eax, eax
    jz .nomap
    mov ebx, [PF_MAPAT]
    mov [ebx], eax
    mov dword [PF_MAP], 0
    mov eax, cr2
    invlpg [eax]
.nomap:
    mov eax, [PF_RESUME]
    test eax, eax
    jz .same
    mov [esp + 40], eax
.same:
    mov dword [PF_RESUME], ROM_BASE + runaway
    popad
    add esp, 8
    iretd
runaway:
    PUTS32 10, "paging: FAIL: second exception in one test", 10
    EXIT 1

%include "inc/print32.inc"
    PM_ROUTINES32
    EXC_STUBS
[bits 16]
%include "inc/print16.inc"

idtr: dw 0x07FF
      dd IDT_RAM

align 8
gdt:
    dq 0                                            ; 00
    DESC 0, 0xFFFFF, ACC_CODE | 1, DF_G | DF_DB     ; 08 code32 flat (accessed preset)
    DESC 0, 0xFFFFF, ACC_DATA | 1, DF_G | DF_DB     ; 10 data32 flat
    DESC 0, 0xFFFFF, ACC_CODE | DPL3 | 1, DF_G | DF_DB  ; 18 user code32 flat
    DESC 0, 0xFFFFF, ACC_DATA | DPL3 | 1, DF_G | DF_DB  ; 20 user data32 flat
    DESC TSS_RAM, 0x67, ACC_TSS32, 0                ; 28 TSS
gdt_end:

[bits 16]
ROM_FOOTER
