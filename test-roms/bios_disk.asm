; bios_disk: a hard-disk boot program for the built-in BIOS (tests/bios.rs).
;
; Sector 0 is the boot sector; it loads sectors 1-3 with INT 13h AH=02h (CHS) and
; continues there. tests/bios.rs pads the image to 1 MiB (2048 sectors, BIOS geometry
; 2 cylinders x 16 heads x 63 sectors) with marker strings at LBA 1500 ("chs-ok") and
; LBA 2000 ("lba-ok"), and checks LBA 2047 for "written" after the run.
; Output: debug console (port E9h); exit through port F4h.

%include "inc/common.inc"

; SAY "text": PUTS16 that keeps the flags (the INT 13h result's CF).
%macro SAY 1+
    PUTS16 %1
%endmacro

; INT13: INT 13h, keeping AX and FLAGS of the result for `show`.
%macro INT13 0
    int 0x13
    pushf
    pop word [res_fl]
    mov [res_ax], ax
%endmacro

[bits 16]
[org 0x7C00]

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov [drive], dl
    ; The rest of the program: sectors 1-3 (CHS 0/0/2) to 0000:7E00.
    mov ax, 0x0203
    mov cx, 0x0002
    mov dh, 0
    mov bx, 0x7E00
    int 0x13
    jc fail
    jmp stage2

fail:
    PUTS16 "stage 1 failed", 10
    EXIT 2

drive: db 0

%include "inc/print16.inc"

    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---- Sector 1 onwards ----

; Prints " ah=XX cf=N" and a newline for the last INT13 result.
show:
    push ax
    PUTS16 " ah="
    mov al, [res_ax + 1]
    call rm_hex8
    PUTS16 " cf="
    mov al, [res_fl]
    and al, 1
    add al, '0'
    out DEBUGCON, al
    call rm_nl
    pop ax
    ret

; Prints the NUL-terminated string at DS:SI (segment 0).
dputs:
    push ax
    push si
.l: lodsb
    test al, al
    jz .d
    out DEBUGCON, al
    jmp .l
.d: pop si
    pop ax
    ret

stage2:
    SAY "boot dl="
    mov al, [drive]
    call rm_hex8
    call rm_nl

    ; AH=08h: geometry of 80h.
    mov ah, 0x08
    mov dl, [drive]
    INT13
    SAY "params cx="
    push ax
    mov ax, cx
    call rm_hex16
    SAY " dx="
    mov ax, dx
    call rm_hex16
    pop ax
    call show

    ; AH=02h: cylinder 1, head 7, sector 52 = LBA (1*16+7)*63+51 = 1500.
    mov ax, 0x0201
    mov cx, 0x0134
    mov dh, 7
    mov dl, [drive]
    mov bx, buf
    INT13
    SAY "chs read al="
    call rm_hex8
    call show
    mov si, buf
    call dputs
    call rm_nl

    ; AH=02h with a sector past the geometry: sector not found (04h).
    mov ax, 0x0201
    mov cx, 0x0040          ; sector 0
    mov dh, 0
    mov dl, [drive]
    mov bx, buf
    INT13
    SAY "bad sector"
    call show
    ; AH=01h: the last status again.
    mov ah, 0x01
    mov dl, [drive]
    INT13
    SAY "last status"
    call show

    ; AH=41h: extensions present?
    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, [drive]
    INT13
    SAY "ext bx="
    push ax
    mov ax, bx
    call rm_hex16
    SAY " cx="
    mov ax, cx
    call rm_hex16
    pop ax
    call show

    ; AH=42h: LBA 2000, one sector.
    mov word [dap.count], 1
    mov dword [dap.lba], 2000
    mov ah, 0x42
    mov dl, [drive]
    mov si, dap
    INT13
    SAY "lba read"
    call show
    mov si, buf
    call dputs
    call rm_nl

    ; AH=43h: write "written" to LBA 2047, then read it back into a cleared buffer.
    mov si, msg_written
    mov di, buf
    mov cx, 8
    rep movsb
    mov dword [dap.lba], 2047
    mov ax, 0x4300
    mov dl, [drive]
    mov si, dap
    INT13
    SAY "lba write"
    call show
    mov byte [buf], 0
    mov ah, 0x42
    mov dl, [drive]
    mov si, dap
    INT13
    SAY "read back"
    call show
    mov si, buf
    call dputs
    call rm_nl

    ; Past the end: two sectors from LBA 2047 -> one done, status 04h.
    mov word [dap.count], 2
    mov ah, 0x42
    mov dl, [drive]
    mov si, dap
    INT13
    SAY "past end count="
    push ax
    mov ax, [dap.count]
    call rm_hex16
    pop ax
    call show

    ; AH=48h: drive parameters.
    mov word [params], 0x1E
    mov ah, 0x48
    mov dl, [drive]
    mov si, params
    INT13
    SAY "edd size="
    push ax
    mov ax, [params]
    call rm_hex16
    SAY " sectors="
    mov eax, [params + 16]
    call rm_hex32
    SAY " bps="
    mov ax, [params + 24]
    call rm_hex16
    SAY " flags="
    mov ax, [params + 2]
    call rm_hex16
    SAY " chs="
    mov eax, [params + 4]
    call rm_hex32
    mov al, '/'
    out DEBUGCON, al
    mov eax, [params + 8]
    call rm_hex32
    mov al, '/'
    out DEBUGCON, al
    mov eax, [params + 12]
    call rm_hex32
    SAY " dpte="
    mov eax, [params + 26]
    call rm_hex32
    pop ax
    call show

    ; A drive that does not exist.
    mov ah, 0x02
    mov al, 1
    mov cx, 1
    mov dx, 0x0085
    mov bx, buf
    INT13
    SAY "no drive"
    call show

    ; AH=15h: type and size.
    mov ah, 0x15
    mov dl, [drive]
    INT13
    SAY "type cx:dx="
    push ax
    mov ax, cx
    call rm_hex16
    mov ax, dx
    call rm_hex16
    pop ax
    call show

    EXIT 0

msg_written: db 'written', 0
res_ax: dw 0
res_fl: dw 0

align 4
dap:
    db 0x10, 0
.count: dw 1
.buf: dw buf, 0
.lba: dd 0, 0

params: times 0x1E db 0

    times 2048 - ($ - $$) db 0

buf equ 0x9000
