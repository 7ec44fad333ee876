; demo_disk: the built-in demo guest. `rx86` with no arguments boots this 16 KiB disk
; image through the built-in BIOS (as the first hard disk, in snapshot mode) and it
; shows the machine working, on the serial console and on the VGA text screen:
;
;   1. real mode, through BIOS services: INT 10h teletype, INT 13h to load the rest of
;      this image, INT 12h/15h E801h memory sizes, INT 1Ah the RTC time;
;   2. 32-bit protected mode with paging: the screen is written through a page that
;      maps linear 40000000h onto the VGA text buffer at B8000h;
;   3. timer interrupts: the 8259A PIC remapped to vectors 20h-2Fh, the 8254 PIT at
;      100 Hz, 100 IRQ0s counted by the handler;
;   4. the disk: sector 0 read again through the ATA ports (PIO) and compared with the
;      boot sector the BIOS loaded;
;   5. the serial console: what the user types on COM1 is echoed until Enter + 'q',
;      or 5 s without a key;
;   6. a clean power-off through the ACPI PM1a control register (S5).
;
; Build: nasm -f bin -o demo_disk.img demo_disk.asm  (see build.sh)

%define PAYLOAD_SECTORS 31          ; sectors 2-32: the rest of the 16 KiB image
%define COM1            0x3F8
%define PM1A_CNT        0x604       ; the FADT's PM1a_CNT_BLK on rx86 (and QEMU "pc")
%define SLP_S5          0x3400      ; SLP_EN | SLP_TYP=5 (the DSDT's \_S5)
%define PAGE_DIR        0x20000
%define PAGE_TAB0       0x21000     ; identity map of 0-4 MiB
%define PAGE_TAB1       0x22000     ; linear 40000000h-403FFFFFh
%define SCREEN          0x40000000  ; linear alias of the text buffer at B8000h
%define SECTOR_BUF      0x30000
%define IDT_BASE        0x10000
%define BOOT_DRIVE      0x0500      ; outside the image, which the disk check compares

[bits 16]
org 0x7C00

boot:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
    mov [BOOT_DRIVE], dl
    mov si, msg_banner
    call bios_puts
    ; Load the payload right behind the boot sector: CHS 0/0/2, 31 sectors.
    mov ax, 0x0200 + PAYLOAD_SECTORS
    mov cx, 0x0002
    xor dh, dh
    mov dl, [BOOT_DRIVE]
    mov bx, 0x7E00
    int 0x13
    jc .fail
    jmp payload
.fail:
    mov si, msg_disk_error
    call bios_puts
.halt:
    hlt
    jmp .halt

; bios_puts: DS:SI -> INT 10h teletype (the BIOS mirrors it to COM1).
bios_puts:
    push ax
    push bx
.next:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .next
.done:
    pop bx
    pop ax
    ret

msg_banner:     db "rx86 demo guest: boot sector loaded by the BIOS from the first hard disk", 13, 10, 0
msg_disk_error: db "demo: INT 13h read failed", 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---------------------------------------------------------------- real mode, BIOS
payload:
    mov si, msg_loaded
    call bios_puts

    ; Memory: INT 12h (KiB below 640K) and INT 15h E801h (KiB 1-16M, 64K blocks above).
    mov si, msg_mem1
    call bios_puts
    int 0x12
    movzx eax, ax
    call bios_dec
    mov si, msg_mem2
    call bios_puts
    mov ax, 0xE801
    int 0x15
    jc .no_e801
    movzx eax, ax               ; KiB between 1 and 16 MiB
    movzx ebx, bx               ; 64 KiB blocks above 16 MiB
    shl ebx, 6
    add eax, ebx
    add eax, 1024
    shr eax, 10                 ; MiB in all
    call bios_dec
    mov si, msg_mem3
    call bios_puts
    jmp .rtc
.no_e801:
    mov si, msg_unknown
    call bios_puts

.rtc:
    mov si, msg_rtc
    call bios_puts
    mov ah, 0x02
    int 0x1A
    jc .rtc_done
    mov al, ch
    call bios_bcd
    mov al, ':'
    call bios_putc
    mov al, cl
    call bios_bcd
    mov al, ':'
    call bios_putc
    mov al, dh
    call bios_bcd
.rtc_done:
    mov si, msg_crlf
    call bios_puts

    ; Where the BIOS left the cursor: protected-mode output continues below it.
    mov al, [0x451]
    mov [cursor_row], al

    ; ------------------------------------------------------------ protected mode
    cli
    mov al, 0xFF                ; mask the PIC while the IDT changes hands
    out 0x21, al
    out 0xA1, al
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32

bios_putc:
    push ax
    push bx
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    pop bx
    pop ax
    ret

; bios_bcd: AL as two BCD digits.
bios_bcd:
    push ax
    shr al, 4
    add al, '0'
    call bios_putc
    pop ax
    and al, 0x0F
    add al, '0'
    jmp bios_putc

; bios_dec: EAX in decimal.
bios_dec:
    pushad
    mov ebx, 10
    xor cx, cx
.div:
    xor edx, edx
    div ebx
    push dx
    inc cx
    test eax, eax
    jnz .div
.out:
    pop ax
    add al, '0'
    call bios_putc
    loop .out
    popad
    ret

msg_loaded:  db "real mode: INT 13h loaded 31 more sectors to 0000:7E00", 13, 10, 0
msg_mem1:    db "BIOS: INT 12h says ", 0
msg_mem2:    db " KiB conventional, INT 15h E801h says ", 0
msg_mem3:    db " MiB in all", 13, 10, 0
msg_unknown: db "(unsupported)", 13, 10, 0
msg_rtc:     db "BIOS: INT 1Ah says the RTC time is ", 0
msg_crlf:    db 13, 10, 0

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 08h: flat 32-bit code
    dq 0x00CF92000000FFFF       ; 10h: flat 32-bit data
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt

; ---------------------------------------------------------------- 32-bit code
[bits 32]
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x90000

    ; Page tables: 0-4 MiB identity, and one page at 40000000h onto B8000h.
    mov edi, PAGE_DIR
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PAGE_DIR], PAGE_TAB0 | 3
    mov dword [PAGE_DIR + (SCREEN >> 22) * 4], PAGE_TAB1 | 3
    mov edi, PAGE_TAB0
    mov eax, 3
    mov ecx, 1024
.map:
    stosd
    add eax, 0x1000
    loop .map
    mov dword [PAGE_TAB1], 0xB8000 | 3
    mov eax, PAGE_DIR
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    mov esi, msg_pm
    call print

    ; IDT: IRQ0 -> tick, everything else -> a handler that acknowledges and returns.
    mov edi, IDT_BASE
    mov ecx, 256
.idt:
    mov eax, other_irq
    mov word [edi], ax
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0x8E00
    shr eax, 16
    mov word [edi + 6], ax
    add edi, 8
    loop .idt
    mov eax, tick
    mov word [IDT_BASE + 0x20 * 8], ax
    shr eax, 16
    mov word [IDT_BASE + 0x20 * 8 + 6], ax
    lidt [idt_desc]

    ; 8259A pair: vectors 20h/28h, cascade on IRQ2; only IRQ0 unmasked.
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    ; 8254 counter 0, mode 2, 1193182 / 11932 = 100 Hz.
    mov al, 0x34
    out 0x43, al
    mov ax, 11932
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov dword [ticks], 0
    sti
.wait:
    hlt
    cmp dword [ticks], 100
    jb .wait
    mov esi, msg_timer
    call print

    ; The disk again, by the ATA ports: LBA 0 from the primary master, polled.
    mov dx, 0x3F6
    mov al, 2                   ; nIEN: no IRQ14
    out dx, al
    call ata_wait
    mov dx, 0x1F6
    mov al, 0xE0
    out dx, al
    mov dx, 0x1F2
    mov al, 1
    out dx, al
    xor al, al
    mov dx, 0x1F3
    out dx, al
    inc dx
    out dx, al
    inc dx
    out dx, al
    mov dx, 0x1F7
    mov al, 0x20                ; READ SECTORS
    out dx, al
    call ata_wait
    in al, dx
    test al, 0x08               ; DRQ
    jz .disk_bad
    mov dx, 0x1F0
    mov edi, SECTOR_BUF
    mov ecx, 256
    rep insw
    mov esi, SECTOR_BUF
    mov edi, 0x7C00
    mov ecx, 512 / 4
    repe cmpsd
    jne .disk_bad
    mov esi, msg_disk_ok
    call print
    jmp .serial
.disk_bad:
    mov esi, msg_disk_bad
    call print

    ; The serial console: echo what arrives on COM1.
.serial:
    mov esi, msg_echo
    call print
    mov ebx, [ticks]            ; time of the last key
.poll:
    mov dx, COM1 + 5
    in al, dx
    test al, 1
    jnz .key
    mov eax, [ticks]
    sub eax, ebx
    cmp eax, 500                ; 5 s without a key
    jae .idle
    hlt
    jmp .poll
.key:
    mov ebx, [ticks]
    mov dx, COM1
    in al, dx
    cmp al, 13
    je .enter
    cmp al, 10
    je .enter
    cmp al, 3                   ; Ctrl-C
    je .off
    mov ecx, [line_len]
    cmp ecx, 60
    jae .poll
    mov [line + ecx], al
    inc dword [line_len]
    call putc
    jmp .poll
.enter:
    mov ecx, [line_len]
    mov byte [line + ecx], 0
    mov dword [line_len], 0
    cmp ecx, 1
    jne .echo_line
    cmp byte [line], 'q'
    je .off
.echo_line:
    mov esi, msg_typed
    call print
    mov esi, line
    call print
    mov esi, msg_nl
    call print
    jmp .poll
.idle:
    mov esi, msg_idle
    call print
.off:
    mov esi, msg_off
    call print
    mov dx, PM1A_CNT
    mov ax, SLP_S5
    out dx, ax
    ; Only reached without ACPI power-off.
    cli
.dead:
    hlt
    jmp .dead

tick:
    inc dword [ticks]
    push eax
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

other_irq:
    push eax
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop eax
    iret

; ata_wait: until BSY clears (DX left at the status port).
ata_wait:
    mov dx, 0x1F7
.busy:
    in al, dx
    test al, 0x80
    jnz .busy
    ret

; print: the NUL-terminated string at ESI, to COM1 and the screen.
print:
    push eax
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop eax
    ret

; putc: AL to COM1 (waiting for THRE) and to the text screen through its paged alias.
putc:
    pushad
    mov bl, al
    mov dx, COM1 + 5
.thre:
    in al, dx
    test al, 0x20
    jz .thre
    mov dx, COM1
    mov al, bl
    out dx, al
    cmp bl, 13
    je .cr
    cmp bl, 10
    je .lf
    movzx eax, byte [cursor_row]
    imul eax, 80
    movzx ecx, byte [cursor_col]
    add eax, ecx
    mov bh, 0x0F                ; bright white on black
    mov [SCREEN + eax * 2], bx
    inc byte [cursor_col]
    cmp byte [cursor_col], 80
    jb .cursor
    mov byte [cursor_col], 0
.lf:
    inc byte [cursor_row]
    cmp byte [cursor_row], 25
    jb .cursor
    mov byte [cursor_row], 24
    ; Scroll up one line.
    mov esi, SCREEN + 160
    mov edi, SCREEN
    mov ecx, 24 * 80 / 2
    rep movsd
    mov eax, 0x07200720
    mov ecx, 80 / 2
    rep stosd
    jmp .cursor
.cr:
    mov byte [cursor_col], 0
.cursor:
    ; The CRTC cursor location registers follow.
    movzx eax, byte [cursor_row]
    imul eax, 80
    movzx ecx, byte [cursor_col]
    add eax, ecx
    mov ecx, eax
    mov dx, 0x3D4
    mov al, 0x0F
    out dx, al
    inc dx
    mov al, cl
    out dx, al
    dec dx
    mov al, 0x0E
    out dx, al
    inc dx
    mov al, ch
    out dx, al
    popad
    ret

idt_desc:
    dw 256 * 8 - 1
    dd IDT_BASE

msg_pm:       db "protected mode, paging on: this text reaches the screen via linear 40000000h", 13, 10, 0
msg_timer:    db "timer: 100 IRQ0 interrupts from the 8254 at 100 Hz through the 8259A", 13, 10, 0
msg_disk_ok:  db "disk: sector 0 read through the ATA ports matches the boot sector", 13, 10, 0
msg_disk_bad: db "disk: the ATA read of sector 0 FAILED", 13, 10, 0
msg_echo:     db "serial: type a line and press Enter; 'q' + Enter powers off (or wait 5 s)", 13, 10, 0
msg_typed:    db 13, 10, "you typed: ", 0
msg_nl:       db 13, 10, 0
msg_idle:     db 13, 10, "no key for 5 s", 13, 10, 0
msg_off:      db "power off through ACPI (S5)", 13, 10, 0

align 4
ticks:      dd 0
line_len:   dd 0
cursor_row: db 0
cursor_col: db 0
line:       times 64 db 0

    times 16384 - ($ - $$) db 0
