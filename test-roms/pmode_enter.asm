; pmode_enter: real mode -> 16-bit protected mode -> 32-bit protected mode -> back to
; real mode with a 4 GiB data segment cached in FS ("unreal" / big real mode).
;
; Covers: reset values of CR0/GDTR/IDTR/TR/LDTR, LGDT/LIDT/SGDT/SIDT/SMSW/STR/SLDT/
; LTR/LLDT, CR0.PE, far jumps and calls between 16- and 32-bit code segments,
; segment bases (GDT and LDT descriptors), descriptor accessed and TSS busy bits,
; LAR/LSL/VERR/VERW on valid, null, out-of-limit, system and DPL-mismatched
; selectors, ARPL, and a 32-bit offset above 1 MiB through a cached descriptor in
; real mode.
;
; RAM: GDT at 0x0500, IDT at 0x0800, TSS at 0x1000, LDT at 0x1100, data at 0x2000,
; 0x3000, 0x4000, stack top 0x8000 (SS=0 in real mode), test dwords at 0x200000.
%include "inc/common.inc"
%include "inc/pm.inc"
[bits 16]
org 0

%define GDT_RAM   0x0500
%define IDT_RAM   0x0800
%define TSS_BASE  0x1000
%define TSS16_BASE 0x1080
%define LDT_BASE  0x1100
%define BIGADDR   0x200000

%define SEL_CODE32 0x08
%define SEL_DATA32 0x10
%define SEL_CODE16 0x18
%define SEL_DATA16 0x20
%define SEL_TSS    0x28
%define SEL_LDT    0x30
%define SEL_RODATA 0x38

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov esp, 0x8000
    mov ds, ax
    mov es, ax
    PUTS16 "pmode_enter: start", 10

    ; ---- reset state, read in real mode
    mov eax, cr0
    PUTS16 "reset cr0="
    call rm_hex32
    smsw ax
    PUTS16 " msw="
    call rm_hex16
    call rm_nl
    o32 sgdt [0x600]
    o32 sidt [0x608]
    PUTS16 "reset gdtr: limit="
    mov ax, [0x600]
    call rm_hex16
    PUTS16 " base="
    mov eax, [0x602]
    call rm_hex32
    PUTS16 " idtr: limit="
    mov ax, [0x608]
    call rm_hex16
    PUTS16 " base="
    mov eax, [0x60A]
    call rm_hex32
    call rm_nl

    ; ---- RAM set-up: LDT image, marker dwords, zeroed TSSs
    mov dword [0x2000], 0xC0DE2000
    mov dword [0x3000], 0xC0DE3000
    mov dword [0x4FFC], 0xC0DE4FFC
    mov di, TSS_BASE
    mov cx, 0x100 / 2
    xor ax, ax
    rep stosw
    push ds
    push cs
    pop ds
    mov si, ldt_image
    mov di, LDT_BASE
    mov cx, ldt_image_end - ldt_image
    rep movsb
    pop ds

    LOAD_GDT gdt, gdt_end, GDT_RAM
    o32 sgdt [0x600]
    PUTS16 "lgdt: sgdt limit="
    mov ax, [0x600]
    call rm_hex16
    PUTS16 " base="
    mov eax, [0x602]
    call rm_hex32
    call rm_nl
    PUTS16 "access bytes before loads: data32="
    mov al, [GDT_RAM + SEL_DATA32 + 5]
    call rm_hex8
    PUTS16 " data16="
    mov al, [GDT_RAM + SEL_DATA16 + 5]
    call rm_hex8
    PUTS16 " rodata="
    mov al, [GDT_RAM + SEL_RODATA + 5]
    call rm_hex8
    call rm_nl

    ; ---- enter 16-bit protected mode
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp SEL_CODE16:pm16                 ; CS base F0000: offsets equal labels
pm16:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x8000
    PUTS16 "pm16: cs="
    mov ax, cs
    call rm_hex16
    smsw ax
    PUTS16 " msw="
    call rm_hex16
    mov eax, cr0
    PUTS16 " cr0="
    call rm_hex32
    call rm_nl
    ; a segment with a base: read-only data at 0x2000
    mov ax, SEL_RODATA
    mov fs, ax
    PUTS16 "pm16: fs=rodata [fs:0]="
    mov eax, [fs:0]
    call rm_hex32
    call rm_nl
    ; 16-bit stack and near/far calls in a 16-bit code segment
    mov bx, sp
    call pm16_near
    push word 0x1234
    mov dx, sp
    pop ax
    PUTS16 "pm16: call near pushed="
    mov ax, bx
    sub ax, cx
    call rm_hex16
    PUTS16 " push word sp delta="
    mov ax, bx
    sub ax, dx
    call rm_hex16
    call rm_nl
    call SEL_CODE16:pm16_far
.after_far:
    PUTS16 "pm16: call far ret ip-label="
    sub ax, .after_far
    call rm_hex16
    PUTS16 " cs="
    mov ax, dx
    call rm_hex16
    call rm_nl
    PUTS16 "access bytes after loads:"
    PUTS16 " data16="
    mov al, [GDT_RAM + SEL_DATA16 + 5]
    call rm_hex8
    PUTS16 " rodata="
    mov al, [GDT_RAM + SEL_RODATA + 5]
    call rm_hex8
    call rm_nl

    ; ---- to 32-bit code
    jmp dword SEL_CODE32:(ROM_BASE + pm32)

pm16_near:
    mov cx, sp                  ; sp after the call pushed its return address
    ret
pm16_far:
    push bp
    mov bp, sp
    mov ax, [bp + 2]
    mov dx, [bp + 4]
    pop bp
    retf

[bits 32]
pm32:
    FLAT_SEGS SEL_DATA32, 0x8000
    PUTS32 "pm32: cs="
    mov ax, cs
    call pm_hex16
    PUTS32 " ss="
    mov ax, ss
    call pm_hex16
    PUTS32 " esp="
    mov eax, esp
    call pm_hex32
    call pm_nl
    PUTS32 "access bytes after loads: data32="
    mov al, [GDT_RAM + SEL_DATA32 + 5]
    call pm_hex8
    call pm_nl

    ; ---- descriptor-table registers
    sgdt [0x600]
    sidt [0x608]
    PUTS32 "pm32: sgdt"
    PV16 "limit", [0x600]
    PV32 "base", [0x602]
    PUTS32 " sidt"
    PV16 "limit", [0x608]
    PV32 "base", [0x60A]
    call pm_nl
    lidt [ROM_BASE + idtr_pm]
    sidt [0x608]
    PUTS32 "pm32: lidt; sidt"
    PV16 "limit", [0x608]
    PV32 "base", [0x60A]
    call pm_nl
    smsw ax
    PUTS32 "pm32: smsw"
    PV16 "ax", ax
    mov word [0x610], 0xFFFF
    smsw [0x610]
    PV16 "m16", [0x610]
    call pm_nl
    mov eax, 0xFFFFFFFF
    str ax
    mov ebx, 0xFFFFFFFF
    sldt bx
    PUTS32 "pm32: reset tr/ldtr: str"
    PV16 "ax", ax
    PUTS32 " sldt"
    PV16 "bx", bx
    call pm_nl
    PUTS32 "pm32: tss access byte before ltr="
    mov al, [GDT_RAM + SEL_TSS + 5]
    call pm_hex8
    mov ax, SEL_TSS
    ltr ax
    mov ax, SEL_LDT
    lldt ax
    PUTS32 " after="
    mov al, [GDT_RAM + SEL_TSS + 5]
    call pm_hex8
    mov word [0x612], 0xFFFF
    str [0x612]
    PUTS32 " str m16="
    mov ax, [0x612]
    call pm_hex16
    sldt ax
    PUTS32 " sldt="
    call pm_hex16
    call pm_nl
    ; LDT data segment (selector 0x0004: index 0, TI=1), base 0x3000
    mov ax, 0x0004
    mov es, ax
    PUTS32 "pm32: es=ldt[0] [es:0]="
    mov eax, [es:0]
    call pm_hex32
    PUTS32 " ldt[0] access="
    mov al, [LDT_BASE + 5]
    call pm_hex8
    call pm_nl
    mov ax, SEL_DATA32
    mov es, ax

    ; ---- far call from 32-bit code into a 16-bit code segment (o32 retf there)
    call SEL_CODE16:pm16_from32
    PUTS32 "pm32: call far to 16-bit code: returned"
    PV16 "ax", ax
    call pm_nl

    ; ---- LAR / LSL / VERR / VERW
    mov esi, ROM_BASE + sel_list
.sel_loop:
    mov bx, [esi]
    cmp bx, 0xFFFF
    je .sel_done
    PUTS32 "sel="
    mov ax, bx
    call pm_hex16
    mov eax, 0xDEADBEEF
    lar eax, bx
    pushfd
    PUTS32 " lar"
    popfd
    call show_zf_value_lar
    mov eax, 0xDEADBEEF
    lsl eax, bx
    pushfd
    PUTS32 " lsl"
    popfd
    call show_zf_value
    PUTS32 " verr="
    verr bx
    call show_zf
    PUTS32 " verw="
    verw bx
    call show_zf
    call pm_nl
    add esi, 2
    jmp .sel_loop
.sel_done:
    mov eax, 0xDEADBEEF
    mov bx, SEL_CODE16
    lar ax, bx
    PUTS32 "lar ax,0x18 (16-bit operand)"
    PV32 "eax", eax
    mov eax, 0xDEADBEEF
    mov dword [0x614], SEL_DATA32
    lsl ax, [0x614]
    PUTS32 " lsl ax,m16=0x10"
    PV32 "eax", eax
    call pm_nl
    ; flags other than ZF are unaffected
    mov bx, 0
    push dword 0x8D7
    popfd
    lar eax, bx
    pushfd
    pop eax
    and eax, 0x8D5
    PUTS32 "lar null with OSZAPC set: flags&8D5="
    call pm_hex16
    call pm_nl

    ; ---- ARPL
    mov ax, 0x0010
    mov bx, 0x0003
    arpl ax, bx
    call show_arpl
    mov ax, 0x0013
    mov bx, 0x0001
    arpl ax, bx
    call show_arpl
    mov ax, 0xFFFA
    mov bx, 0x0001
    arpl ax, bx
    call show_arpl
    mov word [0x616], 0x0028
    mov cx, 0x0002
    arpl [0x616], cx
    pushfd
    PUTS32 "arpl m16=0x0028,cx=2:"
    PV16 "m16", [0x616]
    PUTS32 " zf="
    popfd
    call show_zf
    call pm_nl

    ; ---- back to real mode, keeping a 4 GiB limit cached in FS and GS
    mov dword [BIGADDR], 0x11223344
    mov dword [BIGADDR + 4], 0
    mov ax, SEL_DATA32
    mov fs, ax
    mov gs, ax
    lidt [ROM_BASE + idtr_real]
    jmp SEL_CODE16:pm16_back

[bits 16]
pm16_from32:
    mov ax, 0x1616
    o32 retf

pm16_back:
    mov ax, SEL_DATA16          ; 64 KiB segments for DS ES SS, as real mode expects
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp ROM_SEG:rm_back
rm_back:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x8000
    smsw ax
    PUTS16 "real mode again: msw="
    call rm_hex16
    PUTS16 " fs="
    mov ax, fs
    call rm_hex16
    call rm_nl
    mov edi, BIGADDR
    mov eax, [fs:edi]
    PUTS16 "unreal: [fs:0x200000]="
    call rm_hex32
    mov dword [fs:edi + 4], 0x55667788
    mov eax, [gs:dword BIGADDR + 4]
    PUTS16 " wrote [fs:0x200004], [gs:0x200004]="
    call rm_hex32
    call rm_nl
    mov ecx, 0x100000
    mov eax, [fs:ecx*2 + 4]
    PUTS16 "unreal: [fs:ecx*2+4] ecx=0x100000 ="
    call rm_hex32
    call rm_nl

    ; ---- once more into 32-bit protected mode to read the value back
    ENTER_PM32 SEL_CODE32, pm32_again
[bits 32]
pm32_again:
    FLAT_SEGS SEL_DATA32, 0x8000
    PUTS32 "pm32 again: [0x200004]="
    mov eax, [BIGADDR + 4]
    call pm_hex32
    call pm_nl
    PUTS32 "pmode_enter: done", 10
    EXIT 0

; ---- helpers (32-bit)
; show_zf: print Z or z from the current ZF
show_zf:
    pushfd
    push eax
    mov al, 'z'
    jnz .o
    mov al, 'Z'
.o: out DEBUGCON, al
    pop eax
    popfd
    ret
; show_zf_value: "=Z:VALUE" if ZF=1, "=z:unchanged" / "=z:CHANGED" if ZF=0
show_zf_value:
    jnz .no
    PUTS32 "=Z:"
    call pm_hex32
    ret
.no:
    cmp eax, 0xDEADBEEF
    jne .chg
    PUTS32 "=z:unchanged"
    ret
.chg:
    PUTS32 "=z:CHANGED"
    ret
; LAR: bits 16-19 of a 32-bit result are undefined: masked when ZF=1
show_zf_value_lar:
    jnz show_zf_value
    and eax, 0xFFF0FFFF
    cmp eax, eax                ; ZF=1 again
    jmp show_zf_value
; show_arpl: flags of the ARPL in the saved EFLAGS image
show_arpl:
    pushfd
    PUTS32 "arpl"
    PV16 "ax", ax
    PV16 "bx", bx
    PUTS32 " zf="
    popfd
    call show_zf
    call pm_nl
    ret

%include "inc/print32.inc"
%include "inc/print16.inc"

; ---- tables
sel_list:
    dw 0x0000, 0x0003, SEL_CODE32, SEL_DATA32, SEL_CODE16, 0x0013, SEL_TSS, SEL_LDT
    dw SEL_RODATA, 0x0040, 0x0048, 0x004B, 0x0050, 0x0053, 0x0058, 0x0060, 0x0068
    dw 0x0070, 0x0078, 0x0080, 0x0088, 0x0090, 0x0004, 0x000F, 0x0014
    dw 0xFFFF

idtr_pm:   dw 0x07FF
           dd IDT_RAM
idtr_real: dw 0x03FF
           dd 0

; The code descriptors that get loaded into CS have their accessed bit preset: the
; SDM says a CS load sets it too, but QEMU does not, so it is not compared.
align 8
gdt:
    dq 0                                            ; 00 null
    DESC 0, 0xFFFFF, ACC_CODE | 1, DF_G | DF_DB     ; 08 code32 flat (accessed)
    DESC 0, 0xFFFFF, ACC_DATA, DF_G | DF_DB         ; 10 data32 flat
    DESC ROM_BASE, 0xFFFF, ACC_CODE | 1, 0          ; 18 code16, base F0000 (accessed)
    DESC 0, 0xFFFF, ACC_DATA, 0                     ; 20 data16, base 0, 64 KiB
    DESC TSS_BASE, 0x67, ACC_TSS32, 0               ; 28 32-bit TSS
    DESC LDT_BASE, 0x0F, ACC_LDT, 0                 ; 30 LDT, 2 entries
    DESC 0x2000, 0x0FFF, ACC_DATA_R, 0              ; 38 read-only data
    DESC 0, 0xFFFFF, ACC_CODE_X, DF_G | DF_DB       ; 40 execute-only code
    DESC 0, 0xFFFFF, ACC_CODE_C, DF_G | DF_DB       ; 48 conforming code
    DESC 0, 0xFFFF, ACC_DATA | DPL3, 0              ; 50 DPL3 data
    DESC 0x5000, 0x0FFF, ACC_DATA & 0x7F, 0         ; 58 not-present data
    dw (ROM_BASE + (pm32 - $$)) & 0xFFFF            ; 60 32-bit call gate, DPL0
    dw SEL_CODE32
    db 0, 0x8C
    dw (ROM_BASE + (pm32 - $$)) >> 16
    dw (ROM_BASE + (pm32 - $$)) & 0xFFFF            ; 68 32-bit interrupt gate
    dw SEL_CODE32
    db 0, 0x8E
    dw (ROM_BASE + (pm32 - $$)) >> 16
    DESC 0, 0x0000F, ACC_DATA, DF_G                 ; 70 data, limit 0xF pages
    DESC TSS16_BASE, 0x2B, ACC_TSS16, 0             ; 78 16-bit TSS
    DESC 0x4000, 0x0FFF, ACC_DATA_D, 0              ; 80 expand-down data (valid 0x1000-0xFFFF)
    DESC 0, 0xFFFF, ACC_CODE | DPL3, 0              ; 88 DPL3 code16
gdt_end:                                            ; (0x90 is past the limit)

ldt_image:
    DESC 0x3000, 0x00FF, ACC_DATA, 0                ; ldt[0] sel 0x0004
    DESC 0x3000, 0x00FF, ACC_DATA | DPL3, 0         ; ldt[1] sel 0x000C/0x000F
ldt_image_end:

[bits 16]
ROM_FOOTER
