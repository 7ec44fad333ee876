; rx86 built-in BIOS ROM: 64 KiB, mapped at F0000-FFFFF (and FFFF0000-FFFFFFFF).
;
; Build: nasm -f bin -o bios.bin bios.asm   (the committed bios.bin must match; see
; tests/bios.rs). The services themselves are Rust (src/monitor/bios.rs); this ROM is
; only the entry stubs the interrupt vectors point at, the timer and keyboard IRQ
; glue, and the reset path.
;
; Back-door protocol (BACKDOOR_PORT, an I/O port no PC device decodes):
;   entry:  push ax              ; caller's AX, where the monitor reads and writes it
;           mov al, SERVICE
;           out BACKDOOR, al     ; the monitor runs the service after this retires
;           pop ax               ; <- EIP after the OUT: normal return path
;           iret
;   wait:   pop ax               ; <- the monitor sets EIP here (+2) to wait
;           sti
;           hlt                  ; timers and the console keep running
;           cli
;           jmp entry            ; and ask again
; The monitor sees the caller's registers (AX from [SS:SP]); results go to the
; registers, and CF/ZF to the FLAGS image the INT pushed, at [SS:SP+6].
;
; Reference: IBM PC AT Technical Reference (BIOS data area, vectors, F000:FFF0 reset
; vector, model byte FC at F000:FFFE), Phoenix "System BIOS for IBM PCs" (service
; conventions).

%define BACKDOOR    0xE6

; Service numbers (bios/src/lib.rs mirrors these).
%define SVC_POST    0x01
%define SVC_KEY     0x09
%define SVC_INT10   0x10
%define SVC_INT11   0x11
%define SVC_INT12   0x12
%define SVC_INT13   0x13
%define SVC_INT14   0x14
%define SVC_INT15   0x15
%define SVC_INT16   0x16
%define SVC_INT17   0x17
%define SVC_BOOT    0x19
%define SVC_INT1A   0x1A

[bits 16]
[org 0]

; ---- Header, read by the monitor's POST (offsets are fixed) ----
header:
    db 'RX86BIOS'               ; 0: signature
    dw 1                        ; 8: layout version
    dw vectors                  ; 10: vector table (vector, handler offset) pairs
    dw vectors_end - vectors    ; 12: its size in bytes
    dw config_table             ; 14: INT 15h AH=C0h system configuration table
    dw diskette_params          ; 16: INT 1Eh diskette parameter table
    dw default_iret             ; 18: what every other vector points at

; Vector table: byte vector, byte 0, word offset in segment F000.
vectors:
    db 0x08, 0
    dw int08
    db 0x09, 0
    dw int09
%assign v 0x0A
%rep 6
    db v, 0
    dw irq_master
%assign v v+1
%endrep
    db 0x10, 0
    dw int10
    db 0x11, 0
    dw int11
    db 0x12, 0
    dw int12
    db 0x13, 0
    dw int13
    db 0x14, 0
    dw int14
    db 0x15, 0
    dw int15
    db 0x16, 0
    dw int16
    db 0x17, 0
    dw int17
    db 0x18, 0
    dw int18
    db 0x19, 0
    dw int19
    db 0x1A, 0
    dw int1a
    db 0x1E, 0
    dw diskette_params
%assign v 0x70
%rep 8
    db v, 0
    dw irq_slave
%assign v v+1
%endrep
vectors_end:

; One back-door entry stub (see the protocol above).
%macro SERVICE 2
%1:
    push ax
    mov al, %2
    out BACKDOOR, al
    pop ax
    iret
    pop ax
    sti
    hlt
    cli
    jmp %1
%endmacro

SERVICE int10, SVC_INT10
SERVICE int11, SVC_INT11
SERVICE int12, SVC_INT12
SERVICE int13, SVC_INT13
SERVICE int14, SVC_INT14
SERVICE int15, SVC_INT15
SERVICE int16, SVC_INT16
SERVICE int17, SVC_INT17
SERVICE int1a, SVC_INT1A

default_iret:
    iret

; Unclaimed hardware interrupts: acknowledge them so the PIC does not stall.
irq_master:
    push ax
    mov al, 0x20
    out 0x20, al
    pop ax
    iret

irq_slave:
    push ax
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop ax
    iret

; INT 08h, IRQ0 at 18.2 Hz: the tick count at 0040:006C, rolled over at midnight
; (1800B0h ticks) with the flag at 0040:0070 set, then the user hook INT 1Ch, then EOI.
int08:
    push ds
    push ax
    xor ax, ax
    mov ds, ax
    add word [0x46C], 1
    adc word [0x46E], 0
    cmp word [0x46E], 0x18
    jb .hook
    cmp word [0x46C], 0xB0
    jb .hook
    mov word [0x46C], 0
    mov word [0x46E], 0
    mov byte [0x470], 1
.hook:
    int 0x1C
    cli
    mov al, 0x20
    out 0x20, al
    pop ax
    pop ds
    iret

; INT 09h, IRQ1: read the scan code, offer it to INT 15h AH=4Fh (CF clear = consumed),
; translate it into the keyboard buffer (monitor, SVC_KEY with the code in the saved
; AL), EOI.
int09:
    push ax
    in al, 0x60
    mov ah, 0x4F
    stc
    int 0x15
    jnc .eoi
    push ax
    mov al, SVC_KEY
    out BACKDOOR, al
    pop ax
.eoi:
    cli
    mov al, 0x20
    out 0x20, al
    pop ax
    iret

; INT 18h: no bootable device. Halt with interrupts off: the machine ends the run.
int18:
    push cs
    pop ds
    mov si, msg_noboot
    call print
.halt:
    cli
    hlt
    jmp .halt

; INT 19h: the monitor loads the first bootable sector and jumps to it; if none is
; bootable it returns here.
int19:
    push ax
    mov al, SVC_BOOT
    out BACKDOOR, al
    pop ax
    int 0x18

; Prints DS:SI (NUL-terminated) through INT 10h teletype.
print:
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

msg_noboot:
    db 'No bootable device.', 13, 10, 0

; Reset path: a stack below the boot sector, POST in the monitor (which leaves DS:SI
; at the banner), the banner, then the boot.
post:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7C00
    push ax
    mov al, SVC_POST
    out BACKDOOR, al
    pop ax
    sti
    call print
    int 0x19
.halt:
    cli
    hlt
    jmp .halt

; INT 15h AH=C0h: system configuration table (IBM PC AT Technical Reference).
config_table:
    dw 8                        ; bytes that follow
    db 0xFC                     ; model: AT
    db 0x01                     ; submodel
    db 0x00                     ; BIOS revision
    db 0x74                     ; feature 1: 2nd 8259, RTC, INT 15h/4Fh from INT 09h, EBDA
    db 0x40                     ; feature 2: INT 16h AH=09h-style extended keyboard
    db 0, 0, 0                  ; features 3-5

; INT 1Eh: diskette parameter table (1.44 MB drive).
diskette_params:
    db 0xAF, 0x02               ; specify bytes 1 and 2
    db 0x25                     ; motor-off delay (ticks)
    db 0x02                     ; 512-byte sectors
    db 18                       ; last sector of a track
    db 0x1B                     ; gap length
    db 0xFF                     ; data length
    db 0x6C                     ; format gap length
    db 0xF6                     ; format filler byte
    db 0x0F                     ; head settle time (ms)
    db 0x08                     ; motor start time (1/8 s)

; ---- Fixed addresses at the top of the segment ----
    times 0xFFF0 - ($ - $$) db 0xFF
reset_vector:                   ; F000:FFF0
    jmp 0xF000:post
    db '11/23/26'               ; F000:FFF5 BIOS date
    db 0xFF
    db 0xFC                     ; F000:FFFE model byte: AT
    db 0xFF
