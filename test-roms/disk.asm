; disk: the primary IDE channel (0x1F0/0x3F6, IRQ14) with the PIIX3 bus master. Uses a
; 1 MiB test image in which every sector n starts with the dword n and is otherwise
; filled with the byte n & 0xFF (the test that runs this ROM makes it). IDENTIFY DEVICE,
; READ SECTORS by PIO with one IRQ14 per sector, WRITE SECTORS then FLUSH CACHE, READ DMA
; and WRITE DMA through a PRD table (BAR4 programmed through PCI configuration
; mechanism #1), and an out-of-range LBA. T13 ATA/ATAPI-6; SFF-8038i; Intel 82371SB.
; Writes: sector 10 = "RX86" x 128 by PIO, sectors 30-31 = "DMA!" x 256 by DMA.
; Two lines follow the standard where QEMU 7.2 does not: IDENTIFY word 255 carries the
; integrity signature A5h (QEMU leaves 00), and an LBA beyond the disk is IDNF (error
; 10h; QEMU reports ABRT). With HANG_AFTER_FLUSH (disk_hang.asm) the ROM stops for good
; right after the first FLUSH CACHE, for the kill-after-flush data-safety test.
%include "inc/common.inc"
[bits 16]
org 0

%define IRQS     0x500          ; word: IRQ14 count
%define IRQW     0x504          ; word: IRQ14s waited for so far
%define IRQMARK  0x506          ; word: IRQS before the PIO read
%define BUF      0x2000         ; PIO buffer
%define PRD      0x3000         ; PRD table (dword aligned)
%define DMABUF   0x10000        ; DMA buffer (physical)
%define BM       0xc000         ; bus-master base we give BAR4
%define ATA      0x1f0

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [IRQS], 0
    mov word [IRQW], 0
    mov word [0x76 * 4], irq14  ; IRQ14 = slave IR6 at base 0x70
    mov word [0x76 * 4 + 2], ROM_SEG
    ; 8259A pair: master 0x08, slave 0x70; unmask IRQ2 and IRQ14 only
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x70
    out 0xa1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0x21, al
    out 0xa1, al
    mov al, 0xfb
    out 0x21, al
    mov al, 0xbf
    out 0xa1, al
    sti

    ; --- PCI: 00:01.1 is the PIIX3 IDE function; BAR4 = BM, command = I/O + master
    mov eax, 0x80000900         ; bus 0, dev 1, fn 1, reg 0
    call pci_read
    PUTS16 "ide function id: "
    call rm_hex32
    call rm_nl
    mov eax, 0x80000920         ; BAR4
    mov ebx, BM | 1
    call pci_write
    mov eax, 0x80000904         ; command
    mov ebx, 0x0005
    call pci_write
    mov eax, 0x80000920
    call pci_read
    PUTS16 "bar4: "
    call rm_hex32
    call rm_nl

    ; --- IDENTIFY DEVICE (PIO data-in, one interrupt)
    mov dx, ATA + 6
    mov al, 0xe0                ; LBA, master
    out dx, al
    mov dx, ATA + 7
    mov al, 0xec
    out dx, al
    call wait_irq
    call wait_drq
    mov di, BUF
    mov cx, 256
    mov dx, ATA
    rep insw
    PUTS16 "identify lba28 sectors: "
    mov eax, [BUF + 60 * 2]
    call rm_hex32
    call rm_nl
    PUTS16 "identify word 49: "
    mov ax, [BUF + 49 * 2]
    call rm_hex16
    call rm_nl
    PUTS16 "identify integrity: "
    mov ax, [BUF + 255 * 2]
    call rm_hex8
    call rm_nl

    ; --- READ SECTORS LBA 5, count 2 (an interrupt per sector)
    mov ax, [IRQS]
    mov [IRQMARK], ax
    mov ebx, 5
    mov al, 2
    mov ah, 0x20
    call ata_cmd
    mov di, BUF
    mov si, 2
.rd:
    call wait_irq
    call wait_drq
    mov cx, 256
    mov dx, ATA
    rep insw
    dec si
    jnz .rd
    PUTS16 "pio read lba5: "
    mov eax, [BUF]
    call rm_hex32
    mov al, ' '
    out DEBUGCON, al
    mov al, [BUF + 511]
    call rm_hex8
    mov al, ' '
    out DEBUGCON, al
    mov eax, [BUF + 512]
    call rm_hex32
    call rm_nl
    PUTS16 "irqs: "
    mov ax, [IRQS]
    sub ax, [IRQMARK]
    call rm_hex16
    call rm_nl

    ; --- WRITE SECTORS LBA 10 count 1, then FLUSH CACHE
    mov ebx, 10
    mov al, 1
    mov ah, 0x30
    call ata_cmd
    call wait_drq
    mov cx, 128
    mov dx, ATA
.wr:
    mov ax, 'RX'
    out dx, ax
    mov ax, '86'
    out dx, ax
    loop .wr
    call wait_irq
    call status
    PUTS16 "pio write status: "
    call rm_hex8
    call rm_nl
    mov dx, ATA + 7
    mov al, 0xe7
    out dx, al
    call wait_irq
    call status
    PUTS16 "flush cache status: "
    call rm_hex8
    call rm_nl
%ifdef HANG_AFTER_FLUSH
    PUTS16 "flushed", 10
.spin:
    jmp .spin                   ; keep running until the test kills the process
%endif

    ; --- READ DMA LBA 20 count 1 into DMABUF
    mov dword [PRD], DMABUF
    mov dword [PRD + 4], 0x80000000 | 512
    mov dx, BM + 4
    mov eax, PRD
    out dx, eax
    mov dx, BM + 2
    mov al, 0x06                ; clear interrupt and error
    out dx, al
    mov dx, BM
    mov al, 0x08                ; direction: to memory
    out dx, al
    mov ebx, 20
    mov al, 1
    mov ah, 0xc8
    call ata_cmd
    mov dx, BM
    mov al, 0x09                ; start
    out dx, al
    call wait_irq
    mov dx, BM + 2
    in al, dx
    PUTS16 "dma read bm status: "
    and al, 0x07
    call rm_hex8
    call rm_nl
    mov dx, BM
    mov al, 0x00
    out dx, al
    call status
    push ds
    mov ax, DMABUF >> 4
    mov ds, ax
    mov eax, [0]
    mov bl, [511]
    pop ds
    PUTS16 "dma read lba20: "
    call rm_hex32
    mov al, ' '
    out DEBUGCON, al
    mov al, bl
    call rm_hex8
    call rm_nl

    ; --- WRITE DMA LBA 30 count 2 from DMABUF + 0x1000, two PRDs of 512 bytes
    push es
    mov ax, (DMABUF + 0x1000) >> 4
    mov es, ax
    xor di, di
    mov cx, 256
    mov eax, 'DMA!'
    rep stosd
    pop es
    mov dword [PRD], DMABUF + 0x1000
    mov dword [PRD + 4], 512
    mov dword [PRD + 8], DMABUF + 0x1200
    mov dword [PRD + 12], 0x80000000 | 512
    mov dx, BM + 2
    mov al, 0x06
    out dx, al
    mov dx, BM
    mov al, 0x00                ; direction: from memory
    out dx, al
    mov ebx, 30
    mov al, 2
    mov ah, 0xca
    call ata_cmd
    mov dx, BM
    mov al, 0x01
    out dx, al
    call wait_irq
    mov dx, BM + 2
    in al, dx
    PUTS16 "dma write bm status: "
    and al, 0x07
    call rm_hex8
    call rm_nl
    mov dx, BM
    mov al, 0x00
    out dx, al
    call status
    PUTS16 "dma write status: "
    call rm_hex8
    call rm_nl
    mov dx, ATA + 7
    mov al, 0xe7
    out dx, al
    call wait_irq

    ; --- out of range: LBA 0x0FFFFFF0 on a 2048-sector disk
    mov ebx, 0x0ffffff0
    mov al, 1
    mov ah, 0x20
    call ata_cmd
    call wait_irq
    call status
    PUTS16 "bad lba status: "
    call rm_hex8
    mov dx, ATA + 1
    in al, dx
    PUTS16 " error: "
    call rm_hex8
    call rm_nl
    EXIT 0

; EBX = LBA (28 bits), AL = count, AH = command; waits for BSY clear first.
ata_cmd:
    push dx
    push ax
    call wait_bsy
    mov dx, ATA + 2
    out dx, al
    mov dx, ATA + 3
    mov al, bl
    out dx, al
    mov dx, ATA + 4
    mov al, bh
    out dx, al
    mov eax, ebx
    shr eax, 16
    mov dx, ATA + 5
    out dx, al
    mov al, ah
    and al, 0x0f
    or al, 0xe0
    mov dx, ATA + 6
    out dx, al
    pop ax
    push ax
    mov al, ah
    mov dx, ATA + 7
    out dx, al
    pop ax
    pop dx
    ret

wait_bsy:
    push ax
    push dx
    mov dx, ATA + 0x206         ; alternate status: does not clear the IRQ
.w:
    in al, dx
    test al, 0x80
    jnz .w
    pop dx
    pop ax
    ret

wait_drq:
    push ax
    push dx
    mov dx, ATA + 0x206
.w:
    in al, dx
    test al, 0x80
    jnz .w
    test al, 0x08
    jz .w
    pop dx
    pop ax
    ret

; Waits for the next IRQ14 not yet waited for: it may already have come (a device can
; interrupt as soon as the command is written). STI;HLT is atomic (STI's shadow).
wait_irq:
    push ax
    inc word [IRQW]
.w:
    cli
    mov ax, [IRQS]
    cmp ax, [IRQW]
    jae .done
    sti
    hlt
    jmp .w
.done:
    sti
    pop ax
    ret

; AL = status (clears the device's interrupt).
status:
    push dx
    mov dx, ATA + 7
    in al, dx
    pop dx
    ret

; EAX = config address -> EAX = dword
pci_read:
    push dx
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    pop dx
    ret

; EAX = config address, EBX = value
pci_write:
    push dx
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    mov eax, ebx
    out dx, eax
    pop dx
    ret

irq14:
    push ax
    push dx
    push ds
    xor ax, ax
    mov ds, ax
    mov dx, ATA + 7             ; reading status deasserts INTRQ
    in al, dx
    mov [IRQS + 2], al          ; status as the handler saw it
    inc word [IRQS]
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    pop ds
    pop dx
    pop ax
    iret

%include "inc/print16.inc"
ROM_FOOTER
