//! POST and the system services: INT 11h equipment, 12h memory size, 14h serial, 15h
//! system (E820h/E801h/88h memory, 86h wait, 87h block move, 24h A20, C0h/C1h, 4Fh),
//! 17h printer, 1Ah time and PCI BIOS.
//!
//! POST follows the IBM PC AT Technical Reference order: interrupt controllers (ICW1-4,
//! vector bases 08h/70h), PIT channel 0 (mode 3, count 0: 18.2 Hz), CMOS (status
//! registers, checksum, memory sizes at 15h-18h/30h-31h/34h-35h), the vector table and
//! the BIOS data area, serial ports and the keyboard controller, PCI, video mode 03h.

use devices::cmos::{
    CMOS_CHECKSUM_END, CMOS_CHECKSUM_HI, CMOS_CHECKSUM_LO, CMOS_CHECKSUM_START, CMOS_EXT_MEM_HI,
    CMOS_EXT_MEM_LO, CMOS_MEM_ABOVE_16M_HI, CMOS_MEM_ABOVE_16M_LO, CMOS_SHUTDOWN_STATUS,
    RTC_CENTURY, RTC_DAY_OF_MONTH, RTC_HOURS, RTC_MINUTES, RTC_MONTH, RTC_REG_A, RTC_REG_B,
    RTC_REG_C, RTC_REG_D, RTC_SECONDS, RTC_YEAR,
};
use jit::abi::{DS, EAX, EBX, ECX, EDI, EDX, ES, ESI};

use super::{
    bda, hi, lin, lo, r16, read16, read8, set_cf, set_hi, set_lo, set_r16, status, write_bytes,
    Outcome, BANNER_OFFSET, EBDA_KIB, EBDA_SEGMENT,
};
use crate::boot::linux::e820_map;
use crate::machine::Machine;

const MIB: u64 = 1 << 20;
/// 0040:0067, the far pointer a shutdown-status reset resumes at.
const RESUME_VECTOR: u32 = 0x467;
const PORT92: u16 = 0x92;
const PORT92_A20: u32 = 0x02;
const SMAP: u32 = u32::from_be_bytes(*b"SMAP");
/// INT 15h "function not supported" status.
const ST_UNSUPPORTED: u8 = 0x86;

fn cmos_read(m: &mut Machine, reg: u8) -> u8 {
    m.cpu.io.write(0x70, 1, reg as u32);
    m.cpu.io.read(0x71, 1) as u8
}

fn cmos_write(m: &mut Machine, reg: u8, v: u8) {
    m.cpu.io.write(0x70, 1, reg as u32);
    m.cpu.io.write(0x71, 1, v as u32);
}

/// The power-on self test (SVC_POST from the reset path). Leaves DS:SI at the banner.
pub(super) fn post(m: &mut Machine) -> Outcome {
    // A reset with CMOS shutdown status 05h or 0Ah is a return from protected mode (AT
    // Technical Reference, "Shutdown status byte"): resume at the far pointer in
    // 0040:0067 without a POST, after an EOI to both PICs for 05h.
    let shutdown = cmos_read(m, CMOS_SHUTDOWN_STATUS);
    if matches!(shutdown, 0x05 | 0x0a) {
        cmos_write(m, CMOS_SHUTDOWN_STATUS, 0);
        if shutdown == 0x05 {
            m.cpu.io.write(0xa0, 1, 0x20);
            m.cpu.io.write(0x20, 1, 0x20);
        }
        let resume = m.cpu.mmu.phys.read_u32(RESUME_VECTOR);
        super::load_real_seg(&mut m.cpu, jit::abi::CS, (resume >> 16) as u16);
        m.cpu.s.eip = resume & 0xffff;
        return Outcome::Jumped;
    }
    m.bios.wait_until = None;
    m.bios.cd_boot = None;
    // Interrupt controllers: edge-triggered cascade, vectors 08h and 70h, 8086 mode;
    // only the timer, keyboard and cascade inputs unmasked.
    for (base, icw2, icw3, mask) in [
        (0x20u16, 0x08u32, 0x04u32, 0xf8u32),
        (0xa0, 0x70, 0x02, 0xff),
    ] {
        let io = &mut m.cpu.io;
        io.write(base, 1, 0x11);
        io.write(base + 1, 1, icw2);
        io.write(base + 1, 1, icw3);
        io.write(base + 1, 1, 0x01);
        io.write(base + 1, 1, mask);
    }
    // PIT channel 0: mode 3, binary, count 0 (65536): IRQ0 at 18.2 Hz.
    m.cpu.io.write(0x43, 1, 0x36);
    m.cpu.io.write(0x40, 1, 0);
    m.cpu.io.write(0x40, 1, 0);

    // CMOS: 32.768 kHz time base with 1024 Hz rate, 24-hour BCD, no interrupts.
    cmos_write(m, RTC_REG_A, 0x26);
    cmos_write(m, RTC_REG_B, 0x02);
    cmos_read(m, RTC_REG_C);
    if cmos_read(m, RTC_REG_D) & 0x80 == 0 {
        tracing::warn!("CMOS battery reports power lost (VRT clear)");
    }
    let sum = (CMOS_CHECKSUM_START..=CMOS_CHECKSUM_END)
        .fold(0u16, |s, r| s.wrapping_add(cmos_read(m, r) as u16));
    let stored =
        (cmos_read(m, CMOS_CHECKSUM_HI) as u16) << 8 | cmos_read(m, CMOS_CHECKSUM_LO) as u16;
    if sum != stored {
        tracing::warn!(sum, stored, "CMOS checksum mismatch");
    }
    // Memory sizing from the CMOS: 64 KiB blocks above 16 MiB, else KiB above 1 MiB.
    let above16 = (cmos_read(m, CMOS_MEM_ABOVE_16M_HI) as u64) << 8
        | cmos_read(m, CMOS_MEM_ABOVE_16M_LO) as u64;
    let ext = (cmos_read(m, CMOS_EXT_MEM_HI) as u64) << 8 | cmos_read(m, CMOS_EXT_MEM_LO) as u64;
    m.bios.ram_bytes = if above16 > 0 {
        16 * MIB + above16 * 65536
    } else {
        MIB + ext * 1024
    };
    // Floppy and hard disk types, checksum again.
    let fd = m.bios.floppy.as_ref().map_or(0, |f| f.geometry.cmos_type);
    cmos_write(m, 0x10, fd << 4);
    let hds = super::disk::hard_disk_count(m);
    cmos_write(m, 0x12, if hds > 0 { 0xf0 } else { 0 });
    let equip_cmos = 0x04 | 0x02 | 0x20 | if fd != 0 { 0x01 } else { 0 };
    cmos_write(m, 0x14, equip_cmos);
    let sum = (CMOS_CHECKSUM_START..=CMOS_CHECKSUM_END)
        .fold(0u16, |s, r| s.wrapping_add(cmos_read(m, r) as u16));
    cmos_write(m, CMOS_CHECKSUM_HI, (sum >> 8) as u8);
    cmos_write(m, CMOS_CHECKSUM_LO, sum as u8);

    init_vectors(m);
    init_bda(m, fd != 0, hds);

    // COM1/COM2: 115200 baud 8N1, FIFOs on, DTR and RTS up (a console sends once DTR
    // is up), no interrupts.
    for base in [0x3f8u16, 0x2f8] {
        let io = &mut m.cpu.io;
        io.write(base + 3, 1, 0x80);
        io.write(base, 1, 1);
        io.write(base + 1, 1, 0);
        io.write(base + 3, 1, 0x03);
        io.write(base + 1, 1, 0);
        io.write(base + 2, 1, 0x07);
        io.write(base + 4, 1, 0x03);
    }
    // Keyboard controller: command byte = keyboard interrupt, system flag, translation;
    // whatever arrived before POST is discarded, so IRQ1 starts from an empty buffer.
    m.cpu.io.write(0x64, 1, 0x60);
    m.cpu.io.write(0x60, 1, 0x45);
    for _ in 0..32 {
        if m.cpu.io.read(0x64, 1) & 1 == 0 {
            break;
        }
        m.cpu.io.read(0x60, 1);
    }

    let pci = super::pci::pci_setup(&mut m.cpu.io);
    tracing::debug!(functions = pci.len(), "PCI set up");

    super::video::set_mode3(m, false);

    let banner = format!("rx86 BIOS\r\n{} MiB RAM\r\n", m.bios.ram_bytes / MIB);
    let at = (EBDA_SEGMENT as u32) << 4 | BANNER_OFFSET as u32;
    let mut bytes = banner.into_bytes();
    bytes.push(0);
    write_bytes(&mut m.cpu, at, &bytes);
    super::load_real_seg(&mut m.cpu, DS, EBDA_SEGMENT);
    set_r16(&mut m.cpu, ESI, BANNER_OFFSET);
    Outcome::Done
}

/// The interrupt vector table: every vector at the ROM's IRET, then the ROM's own
/// table of handlers; the data pointers 1Dh, 1Fh, 41h, 43h, 46h are null.
fn init_vectors(m: &mut Machine) {
    let cpu = &mut m.cpu;
    let seg = (bios::ROM_SEGMENT as u32) << 16;
    let iret = super::rom_word(cpu, bios::HDR_DEFAULT_IRET) as u32;
    for v in 0..256u32 {
        cpu.mmu.phys.write_u32(v * 4, seg | iret);
    }
    for v in [0x1du32, 0x1f, 0x41, 0x43, 0x46] {
        cpu.mmu.phys.write_u32(v * 4, 0);
    }
    let table = super::rom_word(cpu, bios::HDR_VECTORS) as usize;
    let len = super::rom_word(cpu, bios::HDR_VECTORS_LEN) as usize;
    for e in (table..table + len.min(1024)).step_by(4) {
        let vec = cpu.mmu.phys.read_u8(super::ROM_BASE + e as u32) as u32;
        let off = super::rom_word(cpu, e + 2) as u32;
        cpu.mmu.phys.write_u32(vec * 4, seg | off);
    }
}

fn init_bda(m: &mut Machine, floppy: bool, hds: u8) {
    let phys = &mut m.cpu.mmu.phys;
    for a in 0x400..0x500 {
        phys.write_u8(a, 0);
    }
    phys.write(bda::COM_PORTS, 2, 0x3f8);
    phys.write(bda::COM_PORTS + 2, 2, 0x2f8);
    phys.write(bda::LPT_PORTS, 2, 0);
    phys.write(bda::EBDA_SEGMENT, 2, EBDA_SEGMENT as u32);
    // Equipment: x87, 80x25 colour, two serial ports, one diskette drive if any.
    let mut equip = 0x0002 | 0x0020 | (2 << 9);
    if floppy {
        equip |= 0x0001;
    }
    phys.write(bda::EQUIPMENT, 2, equip);
    phys.write(bda::MEMORY_KIB, 2, (EBDA_SEGMENT as u32) >> 6);
    phys.write(bda::KBD_HEAD, 2, 0x1e);
    phys.write(bda::KBD_TAIL, 2, 0x1e);
    phys.write(bda::KBD_START, 2, 0x1e);
    phys.write(bda::KBD_END, 2, 0x3e);
    phys.write_u8(bda::KBD_MODE, 0x10);
    phys.write_u8(bda::HD_COUNT, hds);
    phys.write(bda::COM_TIMEOUTS, 2, 0x0101);
    // EBDA: its size in KiB in the first byte.
    let ebda = (EBDA_SEGMENT as u32) << 4;
    for a in ebda..ebda + EBDA_KIB as u32 * 1024 {
        phys.write_u8(a, 0);
    }
    phys.write_u8(ebda, EBDA_KIB as u8);
    // Ticks since midnight from the RTC (1193182 / 65536 per second).
    let bcd = |v: u8| (v >> 4) as u64 * 10 + (v & 0xf) as u64;
    let secs = bcd(cmos_read(m, RTC_HOURS)) * 3600
        + bcd(cmos_read(m, RTC_MINUTES)) * 60
        + bcd(cmos_read(m, RTC_SECONDS));
    let ticks = (secs * 1_193_182 / 65_536).min(0x1800af) as u32;
    m.cpu.mmu.phys.write_u32(bda::TICKS, ticks);
}

/// INT 11h: the equipment word.
pub(super) fn int11(m: &mut Machine) -> Outcome {
    let e = m.cpu.mmu.phys.read(bda::EQUIPMENT, 2) as u16;
    set_r16(&mut m.cpu, EAX, e);
    Outcome::Done
}

/// INT 12h: KiB of conventional memory.
pub(super) fn int12(m: &mut Machine) -> Outcome {
    let k = m.cpu.mmu.phys.read(bda::MEMORY_KIB, 2) as u16;
    set_r16(&mut m.cpu, EAX, k);
    Outcome::Done
}

/// INT 17h: no printer is attached: "time-out" status for every function.
pub(super) fn int17(m: &mut Machine) -> Outcome {
    set_hi(&mut m.cpu, EAX, 0x01);
    Outcome::Done
}

/// INT 14h: serial port DX (0-3) from the BDA: 00h init, 01h send, 02h receive, 03h
/// status. AH returns the line status (bit 7 = time-out), AL the modem status.
pub(super) fn int14(m: &mut Machine) -> Outcome {
    const THR: u16 = 0;
    const LCR: u16 = 3;
    const LSR: u16 = 5;
    const MSR: u16 = 6;
    let (ah, al, dx) = (hi(&m.cpu, EAX), lo(&m.cpu, EAX), r16(&m.cpu, EDX));
    let base = if dx < 4 {
        m.cpu.mmu.phys.read(bda::COM_PORTS + 2 * dx as u32, 2) as u16
    } else {
        0
    };
    if base == 0 {
        set_hi(&mut m.cpu, EAX, 0x80);
        return Outcome::Done;
    }
    let io = &mut m.cpu.io;
    match ah {
        0x00 => {
            const BAUD: [u32; 8] = [110, 150, 300, 600, 1200, 2400, 4800, 9600];
            let div = 115_200 / BAUD[(al >> 5) as usize];
            io.write(base + LCR, 1, 0x80);
            io.write(base, 1, div & 0xff);
            io.write(base + 1, 1, div >> 8);
            io.write(base + LCR, 1, (al & 0x1f) as u32);
        }
        0x01 => {
            if io.read(base + LSR, 1) & 0x20 == 0 {
                return Outcome::Wait;
            }
            io.write(base + THR, 1, al as u32);
        }
        0x02 => {
            let lsr = io.read(base + LSR, 1) as u8;
            if lsr & 1 == 0 {
                set_hi(&mut m.cpu, EAX, 0x80 | (lsr & 0x1e));
                return Outcome::Done;
            }
            let b = io.read(base + THR, 1) as u8;
            set_r16(&mut m.cpu, EAX, ((lsr & 0x1e) as u16) << 8 | b as u16);
            return Outcome::Done;
        }
        _ => {}
    }
    let io = &mut m.cpu.io;
    let lsr = io.read(base + LSR, 1) as u16;
    let msr = io.read(base + MSR, 1) as u16;
    if ah == 0x01 {
        set_hi(&mut m.cpu, EAX, lsr as u8);
    } else {
        set_r16(&mut m.cpu, EAX, lsr << 8 | msr);
    }
    Outcome::Done
}

/// One E820h entry: the 20-byte (or, for a 24-byte buffer, 24-byte with the ACPI 3.0
/// extended attributes "enabled") record of entry `index`, and the continuation value
/// the caller passes next (0 after the last entry). None for an invalid continuation.
pub fn e820_entry(map: &[(u64, u64, u32)], index: u32, buf_len: u32) -> Option<(Vec<u8>, u32)> {
    let &(base, len, ty) = map.get(index as usize)?;
    let mut rec = Vec::with_capacity(24);
    rec.extend_from_slice(&base.to_le_bytes());
    rec.extend_from_slice(&len.to_le_bytes());
    rec.extend_from_slice(&ty.to_le_bytes());
    if buf_len >= 24 {
        rec.extend_from_slice(&1u32.to_le_bytes());
    }
    let next = if index as usize + 1 < map.len() {
        index + 1
    } else {
        0
    };
    Some((rec, next))
}

/// INT 15h.
pub(super) fn int15(m: &mut Machine) -> Outcome {
    let ax = r16(&m.cpu, EAX);
    let ah = (ax >> 8) as u8;
    let ram = m.bios.ram_bytes.max(MIB);
    match ax {
        0xe820 => {
            let cpu = &mut m.cpu;
            let (edx, ebx, ecx) = (cpu.s.regs[EDX], cpu.s.regs[EBX], cpu.s.regs[ECX]);
            let map = e820_map(ram.min(u32::MAX as u64) as u32);
            match (edx == SMAP && ecx >= 20)
                .then(|| e820_entry(&map, ebx, ecx))
                .flatten()
            {
                Some((rec, next)) => {
                    let at = lin(cpu, ES, r16(cpu, EDI));
                    write_bytes(cpu, at, &rec);
                    cpu.s.regs[EAX] = SMAP;
                    cpu.s.regs[ECX] = rec.len() as u32;
                    cpu.s.regs[EBX] = next;
                    set_cf(cpu, false);
                }
                None => status(cpu, ST_UNSUPPORTED),
            }
            return Outcome::Done;
        }
        0xe801 => {
            let above1 = ram.saturating_sub(MIB).min(15 * MIB) / 1024;
            let above16 = (ram.saturating_sub(16 * MIB) / 65536).min(0xffff);
            let cpu = &mut m.cpu;
            set_r16(cpu, EAX, above1 as u16);
            set_r16(cpu, ECX, above1 as u16);
            set_r16(cpu, EBX, above16 as u16);
            set_r16(cpu, EDX, above16 as u16);
            set_cf(cpu, false);
            return Outcome::Done;
        }
        0x2400..=0x2403 => {
            a20(m, ax as u8);
            return Outcome::Done;
        }
        _ => {}
    }
    match ah {
        // Keyboard intercept: keep the scan code (CF set).
        0x4f => set_cf(&mut m.cpu, true),
        0x86 => return wait(m),
        0x87 => block_move(m),
        0x88 => {
            let k = (ram.saturating_sub(MIB) / 1024).min(0xffff);
            set_r16(&mut m.cpu, EAX, k as u16);
            set_cf(&mut m.cpu, false);
        }
        // Device busy / interrupt complete: nothing to do.
        0x90 | 0x91 => status(&mut m.cpu, 0),
        0xc0 => {
            let table = super::rom_word(&mut m.cpu, bios::HDR_CONFIG_TABLE);
            let cpu = &mut m.cpu;
            super::load_real_seg(cpu, ES, bios::ROM_SEGMENT);
            set_r16(cpu, EBX, table);
            status(cpu, 0);
        }
        0xc1 => {
            let cpu = &mut m.cpu;
            super::load_real_seg(cpu, ES, EBDA_SEGMENT);
            set_cf(cpu, false);
        }
        _ => {
            tracing::debug!(ax, "INT 15h: function not supported");
            status(&mut m.cpu, ST_UNSUPPORTED);
        }
    }
    Outcome::Done
}

/// AX=2400h-2403h: A20 through port 92h (fast A20), which the machine follows.
fn a20(m: &mut Machine, al: u8) {
    let io = &mut m.cpu.io;
    let p = io.read(PORT92, 1) & !1;
    match al {
        0 => io.write(PORT92, 1, p & !PORT92_A20),
        1 => io.write(PORT92, 1, p | PORT92_A20),
        2 => {
            // The gate the machine applies (i8042 or port 92h, whichever was last).
            let on = m.cpu.mmu.a20_enabled();
            set_lo(&mut m.cpu, EAX, on as u8);
        }
        _ => set_r16(&mut m.cpu, EBX, 0x0003),
    }
    status(&mut m.cpu, 0);
}

/// AH=86h: wait CX:DX microseconds (virtual time), halting between checks.
fn wait(m: &mut Machine) -> Outcome {
    let now = m.clock.now();
    let until = *m.bios.wait_until.get_or_insert_with(|| {
        let us = (r16(&m.cpu, ECX) as u64) << 16 | r16(&m.cpu, EDX) as u64;
        now.saturating_add(us * 1000)
    });
    if now < until {
        return Outcome::Wait;
    }
    m.bios.wait_until = None;
    status(&mut m.cpu, 0);
    Outcome::Done
}

/// AH=87h: copy CX words between the 24/32-bit bases of descriptors 2 (source) and 3
/// (destination) of the GDT at ES:SI. The copy uses physical addresses with A20 on, as
/// the AT BIOS does by entering protected mode.
fn block_move(m: &mut Machine) {
    let cpu = &mut m.cpu;
    let words = r16(cpu, ECX) as u32;
    if words > 0x8000 {
        status(cpu, 0x01);
        return;
    }
    let gdt = lin(cpu, ES, r16(cpu, ESI));
    let base = |cpu: &mut crate::cpu::Cpu, d: u32| {
        let at = gdt + d;
        read16(cpu, at + 2) as u32
            | (read8(cpu, at + 4) as u32) << 16
            | (read8(cpu, at + 7) as u32) << 24
    };
    let (src, dst) = (base(cpu, 0x10), base(cpu, 0x18));
    let phys = &mut cpu.mmu.phys;
    for i in 0..words * 2 {
        let b = phys.read_u8(src.wrapping_add(i));
        phys.write_u8(dst.wrapping_add(i), b);
    }
    status(cpu, 0);
}

/// INT 1Ah: 00h/01h tick count, 02h-05h RTC time/date (BCD), B1h PCI BIOS.
pub(super) fn int1a(m: &mut Machine) -> Outcome {
    let ah = hi(&m.cpu, EAX);
    match ah {
        0x00 => {
            let ticks = m.cpu.mmu.phys.read_u32(bda::TICKS);
            let midnight = m.cpu.mmu.phys.read_u8(bda::MIDNIGHT);
            m.cpu.mmu.phys.write_u8(bda::MIDNIGHT, 0);
            let cpu = &mut m.cpu;
            set_r16(cpu, ECX, (ticks >> 16) as u16);
            set_r16(cpu, EDX, ticks as u16);
            set_lo(cpu, EAX, midnight);
        }
        0x01 => {
            let t = (r16(&m.cpu, ECX) as u32) << 16 | r16(&m.cpu, EDX) as u32;
            m.cpu.mmu.phys.write_u32(bda::TICKS, t);
            m.cpu.mmu.phys.write_u8(bda::MIDNIGHT, 0);
        }
        0x02 => {
            let (h, mi, s) = (
                cmos_read(m, RTC_HOURS),
                cmos_read(m, RTC_MINUTES),
                cmos_read(m, RTC_SECONDS),
            );
            let dst = cmos_read(m, RTC_REG_B) & 1;
            let cpu = &mut m.cpu;
            set_r16(cpu, ECX, (h as u16) << 8 | mi as u16);
            set_r16(cpu, EDX, (s as u16) << 8 | dst as u16);
            set_cf(cpu, false);
        }
        0x03 => {
            let cpu = &m.cpu;
            let (h, mi, s, dst) = (hi(cpu, ECX), lo(cpu, ECX), hi(cpu, EDX), lo(cpu, EDX));
            let b = cmos_read(m, RTC_REG_B);
            cmos_write(m, RTC_REG_B, b | 0x80);
            cmos_write(m, RTC_HOURS, h);
            cmos_write(m, RTC_MINUTES, mi);
            cmos_write(m, RTC_SECONDS, s);
            cmos_write(m, RTC_REG_B, (b & !0x81) | (dst & 1));
            set_cf(&mut m.cpu, false);
        }
        0x04 => {
            let (c, y, mo, d) = (
                cmos_read(m, RTC_CENTURY),
                cmos_read(m, RTC_YEAR),
                cmos_read(m, RTC_MONTH),
                cmos_read(m, RTC_DAY_OF_MONTH),
            );
            let cpu = &mut m.cpu;
            set_r16(cpu, ECX, (c as u16) << 8 | y as u16);
            set_r16(cpu, EDX, (mo as u16) << 8 | d as u16);
            set_cf(cpu, false);
        }
        0x05 => {
            let cpu = &m.cpu;
            let (c, y, mo, d) = (hi(cpu, ECX), lo(cpu, ECX), hi(cpu, EDX), lo(cpu, EDX));
            let b = cmos_read(m, RTC_REG_B);
            cmos_write(m, RTC_REG_B, b | 0x80);
            cmos_write(m, RTC_CENTURY, c);
            cmos_write(m, RTC_YEAR, y);
            cmos_write(m, RTC_MONTH, mo);
            cmos_write(m, RTC_DAY_OF_MONTH, d);
            cmos_write(m, RTC_REG_B, b & !0x80);
            set_cf(&mut m.cpu, false);
        }
        0xb1 => return super::pci::pcibios(m),
        _ => {
            tracing::debug!(ah, "INT 1Ah: function not supported");
            set_cf(&mut m.cpu, true);
        }
    }
    Outcome::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e820_iterates_the_shared_map_with_continuations() {
        let map = e820_map(64 << 20);
        let mut idx = 0;
        let mut seen = Vec::new();
        loop {
            let (rec, next) = e820_entry(&map, idx, 20).expect("valid continuation");
            assert_eq!(rec.len(), 20);
            let base = u64::from_le_bytes(rec[0..8].try_into().unwrap());
            let len = u64::from_le_bytes(rec[8..16].try_into().unwrap());
            let ty = u32::from_le_bytes(rec[16..20].try_into().unwrap());
            seen.push((base, len, ty));
            if next == 0 {
                break;
            }
            assert_eq!(next, idx + 1);
            idx = next;
        }
        assert_eq!(seen, map);
        assert_eq!(seen[0], (0, 0x9fc00, 1));
        assert!(seen.contains(&(0x10_0000, (64 << 20) - 0x10_0000, 1)));
        // Past the end: an invalid continuation.
        assert!(e820_entry(&map, map.len() as u32, 20).is_none());
        // A 24-byte buffer gets the ACPI 3.0 extended attributes (enabled).
        let (rec, _) = e820_entry(&map, 0, 24).unwrap();
        assert_eq!(rec.len(), 24);
        assert_eq!(&rec[20..24], &[1, 0, 0, 0]);
    }
}
