//! INT 13h disk services and the INT 19h bootstrap loader.
//!
//! Drives: the `--fda` floppy image is drive 00h, served here; the hard disks on the IDE
//! cables (primary master, primary slave, secondary master, secondary slave, in that
//! order) are 80h, 81h, ...; the first CD-ROM drive with a disc is E0h. Hard disks and
//! the CD are read and written through their images directly, not through the ATA
//! register model. Functions (RBIL INT 13h; Phoenix EDD 3.0 for 41h-48h): 00h reset,
//! 01h last status, 02h/03h/04h CHS read/write/verify, 08h parameters, 0Ch seek, 0Dh
//! alternate reset, 10h test ready, 11h recalibrate, 15h type, 41h extensions check,
//! 42h/43h/44h extended read/write/verify, 47h extended seek, 48h extended parameters,
//! 4B01h CD emulation status. Status codes: 01h bad command, 03h write protected, 04h
//! sector not found, 20h controller failure.
//!
//! INT 19h boots the first hard disk, then the floppy, then the CD (El Torito
//! no-emulation): sector 0 to 0000:7C00 with the 55AAh signature required, DL = drive.

use std::path::Path;

use devices::disk::{DiskError, DiskImage, OpenMode};
use jit::abi::{DS, EAX, EBX, ECX, EDI, EDX, ES, ESI, ESP, SS};

use super::{
    hi, lin, lo, r16, read16, read32, read8, read_bytes, set_cf, set_hi, set_lo, set_r16, status,
    write16, write32, write_bytes, Outcome,
};
use crate::cpu::flags;
use crate::error::Error;
use crate::machine::Machine;

/// INT 13h status codes (RBIL table 00234).
pub const ST_OK: u8 = 0x00;
pub const ST_BAD_COMMAND: u8 = 0x01;
pub const ST_WRITE_PROTECTED: u8 = 0x03;
pub const ST_SECTOR_NOT_FOUND: u8 = 0x04;
pub const ST_CONTROLLER_FAILURE: u8 = 0x20;

/// The CD-ROM's drive number.
pub const CD_DRIVE: u8 = 0xe0;

/// A standard diskette format, recognised by image size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloppyGeometry {
    pub bytes: u64,
    pub cylinders: u32,
    pub heads: u32,
    pub sectors: u32,
    /// INT 13h AH=08h drive type (BL).
    pub drive_type: u8,
    /// CMOS register 10h drive type (one nibble).
    pub cmos_type: u8,
}

/// 360K, 720K, 1.2M, 1.44M and 2.88M diskettes.
pub const FLOPPY_FORMATS: [FloppyGeometry; 5] = [
    FloppyGeometry {
        bytes: 368_640,
        cylinders: 40,
        heads: 2,
        sectors: 9,
        drive_type: 1,
        cmos_type: 1,
    },
    FloppyGeometry {
        bytes: 737_280,
        cylinders: 80,
        heads: 2,
        sectors: 9,
        drive_type: 3,
        cmos_type: 3,
    },
    FloppyGeometry {
        bytes: 1_228_800,
        cylinders: 80,
        heads: 2,
        sectors: 15,
        drive_type: 2,
        cmos_type: 2,
    },
    FloppyGeometry {
        bytes: 1_474_560,
        cylinders: 80,
        heads: 2,
        sectors: 18,
        drive_type: 4,
        cmos_type: 4,
    },
    FloppyGeometry {
        bytes: 2_949_120,
        cylinders: 80,
        heads: 2,
        sectors: 36,
        drive_type: 5,
        cmos_type: 5,
    },
];

impl FloppyGeometry {
    /// The format of an image of `bytes` bytes, if it is one of the standard sizes.
    pub fn from_size(bytes: u64) -> Option<Self> {
        FLOPPY_FORMATS.iter().copied().find(|f| f.bytes == bytes)
    }

    pub fn chs(&self) -> Chs {
        Chs {
            cylinders: self.cylinders,
            heads: self.heads,
            sectors: self.sectors,
        }
    }
}

/// A cylinder/head/sector geometry as INT 13h presents a drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chs {
    pub cylinders: u32,
    pub heads: u32,
    pub sectors: u32,
}

impl Chs {
    /// The LBA of cylinder `c`, head `h`, sector `s` (1-based), if inside the geometry.
    pub fn lba(&self, c: u32, h: u32, s: u32) -> Option<u64> {
        if c >= self.cylinders || h >= self.heads || s == 0 || s > self.sectors {
            return None;
        }
        Some((c as u64 * self.heads as u64 + h as u64) * self.sectors as u64 + s as u64 - 1)
    }

    /// The BIOS geometry of a hard disk of `sectors` 512-byte sectors: 63 sectors per
    /// track and the head count of the usual LBA-assisted translation (16, 32, 64, 128
    /// or 255, the smallest that keeps the disk within 1024 cylinders).
    pub fn for_hard_disk(sectors: u64) -> Self {
        const SPT: u64 = 63;
        let heads = [16u64, 32, 64, 128]
            .into_iter()
            .find(|h| sectors <= 1024 * h * SPT)
            .unwrap_or(255);
        Self {
            cylinders: (sectors / (heads * SPT)).clamp(1, 1024) as u32,
            heads: heads as u32,
            sectors: SPT as u32,
        }
    }

    /// CH, CL as INT 13h AH=08h returns them for the last cylinder and sector.
    pub fn max_cx(&self) -> u16 {
        let c = self.cylinders.saturating_sub(1).min(1023);
        (((c & 0xff) as u16) << 8) | (((c >> 8) as u16 & 3) << 6) | (self.sectors as u16 & 0x3f)
    }
}

/// Decodes CX/DH of INT 13h AH=02h-04h: (cylinder, head, sector).
pub fn decode_chs(cx: u16, dh: u8) -> (u32, u32, u32) {
    let c = ((cx >> 8) as u32) | (((cx & 0xc0) as u32) << 2);
    (c, dh as u32, (cx & 0x3f) as u32)
}

/// The `--fda` diskette.
pub struct Floppy {
    image: DiskImage,
    pub geometry: FloppyGeometry,
}

impl Floppy {
    /// Opens a diskette image; its size must be one of [`FLOPPY_FORMATS`].
    pub fn open(path: &Path, snapshot: bool) -> Result<Self, Error> {
        let mode = if snapshot {
            OpenMode::Snapshot
        } else {
            OpenMode::ReadWrite
        };
        let image = DiskImage::open(path, mode)?;
        let bytes = image.sector_count() * 512;
        let geometry = FloppyGeometry::from_size(bytes).ok_or_else(|| Error::ReadFile {
            what: "floppy image",
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{bytes} bytes is not a diskette size (360K, 720K, 1.2M, 1.44M or 2.88M)"),
            ),
        })?;
        Ok(Self { image, geometry })
    }
}

/// What a drive number names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Floppy,
    /// IDE channel and position.
    Hard(usize, usize),
    Cd(usize, usize),
}

/// The IDE positions holding hard disks, in drive-number order.
fn hard_disks(m: &Machine) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for ch in 0..2 {
        for slot in 0..2 {
            if let Some((_, false)) = m.board.ide[ch].borrow_mut().media_mut(slot) {
                v.push((ch, slot));
            }
        }
    }
    v
}

/// The first CD-ROM drive holding a disc.
fn cdrom(m: &Machine) -> Option<(usize, usize)> {
    (0..4).map(|i| (i / 2, i % 2)).find(|&(ch, slot)| {
        matches!(
            m.board.ide[ch].borrow_mut().media_mut(slot),
            Some((_, true))
        )
    })
}

/// The number of hard disks INT 13h serves (BDA 0475h).
pub fn hard_disk_count(m: &Machine) -> u8 {
    hard_disks(m).len() as u8
}

fn target(m: &Machine, dl: u8) -> Option<Target> {
    match dl {
        0x00 => m.bios.floppy.as_ref().map(|_| Target::Floppy),
        0x80..=0x83 => hard_disks(m)
            .get((dl - 0x80) as usize)
            .map(|&(c, s)| Target::Hard(c, s)),
        CD_DRIVE => cdrom(m).map(|(c, s)| Target::Cd(c, s)),
        _ => None,
    }
}

/// Runs `f` on the image behind `t`.
fn with_image<R>(m: &mut Machine, t: Target, f: impl FnOnce(&mut DiskImage) -> R) -> Option<R> {
    match t {
        Target::Floppy => m.bios.floppy.as_mut().map(|fl| f(&mut fl.image)),
        Target::Hard(ch, slot) | Target::Cd(ch, slot) => {
            let mut ide = m.board.ide[ch].borrow_mut();
            ide.media_mut(slot).map(|(img, _)| f(img))
        }
    }
}

/// Sector count and size of the medium behind `t`.
fn extent(m: &mut Machine, t: Target) -> (u64, usize) {
    with_image(m, t, |img| (img.sector_count(), img.sector_size())).unwrap_or((0, 512))
}

fn geometry(m: &mut Machine, t: Target) -> Chs {
    match t {
        Target::Floppy => m
            .bios
            .floppy
            .as_ref()
            .map_or(FLOPPY_FORMATS[3].chs(), |f| f.geometry.chs()),
        _ => Chs::for_hard_disk(extent(m, t).0),
    }
}

fn disk_status(e: &DiskError) -> u8 {
    match e {
        DiskError::ReadOnly { .. } => ST_WRITE_PROTECTED,
        DiskError::OutOfRange { .. } => ST_SECTOR_NOT_FOUND,
        _ => ST_CONTROLLER_FAILURE,
    }
}

/// Direction of a transfer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Read,
    Write,
    Verify,
}

/// Moves `count` sectors from `lba` between the medium and guest memory at linear
/// `addr`. Returns the sectors done and the status.
fn transfer(m: &mut Machine, t: Target, lba: u64, count: u32, addr: u32, dir: Dir) -> (u32, u8) {
    /// Sectors per host I/O: bounds the buffer whatever the guest asks for.
    const CHUNK: u32 = 64;
    let (total, ss) = extent(m, t);
    if matches!(t, Target::Cd(..)) && dir == Dir::Write {
        return (0, ST_WRITE_PROTECTED);
    }
    let mut done = 0u32;
    let mut buf = Vec::new();
    while done < count {
        let n = (count - done).min(CHUNK);
        let at = lba + done as u64;
        if at.checked_add(n as u64).is_none_or(|end| end > total) {
            // Do what fits, then report the missing sector.
            let fit = total.saturating_sub(at).min(n as u64) as u32;
            if fit == 0 {
                return (done, ST_SECTOR_NOT_FOUND);
            }
            let (d, st) = transfer(m, t, at, fit, addr.wrapping_add(done * ss as u32), dir);
            return (done + d, if st == ST_OK { ST_SECTOR_NOT_FOUND } else { st });
        }
        buf.resize(n as usize * ss, 0);
        let mem = addr.wrapping_add(done.wrapping_mul(ss as u32));
        let res = match dir {
            Dir::Read | Dir::Verify => {
                let r = with_image(m, t, |img| img.read_sectors(at, n, &mut buf));
                if dir == Dir::Read && matches!(r, Some(Ok(()))) {
                    write_bytes(&mut m.cpu, mem, &buf);
                }
                r
            }
            Dir::Write => {
                read_bytes(&mut m.cpu, mem, &mut buf);
                with_image(m, t, |img| img.write_sectors(at, &buf))
            }
        };
        match res {
            Some(Ok(())) => done += n,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "INT 13h transfer failed");
                return (done, disk_status(&e));
            }
            None => return (done, ST_BAD_COMMAND),
        }
    }
    (done, ST_OK)
}

/// Records the last status of drive `dl` (AH=01h returns it).
fn set_last_status(m: &mut Machine, dl: u8, st: u8) {
    let phys = &mut m.cpu.mmu.phys;
    match dl {
        0x00..=0x7f => phys.write_u8(super::bda::FLOPPY_STATUS, st),
        CD_DRIVE => m.bios.cd_status = st,
        _ => phys.write_u8(super::bda::HD_STATUS, st),
    }
}

fn last_status(m: &mut Machine, dl: u8) -> u8 {
    match dl {
        0x00..=0x7f => m.cpu.mmu.phys.read_u8(super::bda::FLOPPY_STATUS),
        CD_DRIVE => m.bios.cd_status,
        _ => m.cpu.mmu.phys.read_u8(super::bda::HD_STATUS),
    }
}

/// INT 13h.
pub(super) fn int13(m: &mut Machine) -> Outcome {
    let ah = hi(&m.cpu, EAX);
    let dl = lo(&m.cpu, EDX);
    if ah == 0x01 {
        let st = last_status(m, dl);
        status(&mut m.cpu, st);
        return Outcome::Done;
    }
    let t = target(m, dl);
    let st = match (ah, t) {
        (0x08, _) => get_parameters(m, dl, t),
        (0x15, _) => {
            get_type(m, t);
            return Outcome::Done;
        }
        (_, None) => ST_BAD_COMMAND,
        (0x00 | 0x0d | 0x0c | 0x10 | 0x11 | 0x47, Some(_)) => ST_OK,
        (0x02..=0x04, Some(Target::Cd(..))) => ST_BAD_COMMAND,
        (0x02..=0x04, Some(t)) => chs_transfer(m, t, ah),
        (0x41, Some(t)) => {
            if check_extensions(m, t) {
                set_last_status(m, dl, ST_OK);
                return Outcome::Done;
            }
            ST_BAD_COMMAND
        }
        (0x42..=0x44, Some(t)) if t != Target::Floppy => ext_transfer(m, t, ah),
        (0x48, Some(t)) if t != Target::Floppy => ext_parameters(m, t),
        (0x4b, Some(t @ Target::Cd(..))) => emulation_status(m, t),
        _ => ST_BAD_COMMAND,
    };
    status(&mut m.cpu, st);
    set_last_status(m, dl, st);
    Outcome::Done
}

/// AH=02h/03h/04h: AL sectors at CH/CL/DH to or from ES:BX; AL returns the count done.
fn chs_transfer(m: &mut Machine, t: Target, ah: u8) -> u8 {
    let cpu = &m.cpu;
    let count = lo(cpu, EAX) as u32;
    let (c, h, s) = decode_chs(r16(cpu, ECX), hi(cpu, EDX));
    let addr = lin(cpu, ES, r16(cpu, EBX));
    let g = geometry(m, t);
    let Some(lba) = g.lba(c, h, s) else {
        set_lo(&mut m.cpu, EAX, 0);
        return ST_SECTOR_NOT_FOUND;
    };
    if count == 0 {
        return ST_BAD_COMMAND;
    }
    let dir = match ah {
        0x02 => Dir::Read,
        0x03 => Dir::Write,
        _ => Dir::Verify,
    };
    let (done, st) = transfer(m, t, lba, count, addr, dir);
    set_lo(&mut m.cpu, EAX, done as u8);
    st
}

/// AH=08h: geometry in CX/DH, drive count in DL (ES:DI -> diskette table, BL type).
fn get_parameters(m: &mut Machine, dl: u8, t: Option<Target>) -> u8 {
    match t {
        Some(Target::Floppy) => {
            let g = geometry(m, Target::Floppy);
            let ty = m.bios.floppy.as_ref().map_or(4, |f| f.geometry.drive_type);
            let table = super::rom_word(&mut m.cpu, bios::HDR_DISKETTE_PARAMS);
            let cpu = &mut m.cpu;
            set_r16(cpu, EAX, 0);
            set_lo(cpu, EBX, ty);
            set_r16(cpu, ECX, g.max_cx());
            set_hi(cpu, EDX, (g.heads - 1) as u8);
            set_lo(cpu, EDX, 1);
            super::load_real_seg(cpu, ES, bios::ROM_SEGMENT);
            set_r16(cpu, EDI, table);
            ST_OK
        }
        Some(t @ Target::Hard(..)) => {
            let g = geometry(m, t);
            let n = hard_disk_count(m);
            let cpu = &mut m.cpu;
            set_r16(cpu, EAX, 0);
            set_r16(cpu, ECX, g.max_cx());
            set_hi(cpu, EDX, (g.heads - 1) as u8);
            set_lo(cpu, EDX, n);
            ST_OK
        }
        _ => {
            let n = if dl < 0x80 { 0 } else { hard_disk_count(m) };
            let cpu = &mut m.cpu;
            set_r16(cpu, ECX, 0);
            set_r16(cpu, EDX, n as u16);
            ST_BAD_COMMAND
        }
    }
}

/// AH=15h: AH = 00h none, 01h diskette without change line, 03h hard disk (CX:DX
/// sectors).
fn get_type(m: &mut Machine, t: Option<Target>) {
    let (ty, sectors) = match t {
        None => (0u8, 0u64),
        Some(Target::Floppy) => (1, 0),
        Some(t @ Target::Hard(..)) => (3, extent(m, t).0),
        Some(Target::Cd(..)) => (2, 0),
    };
    let cpu = &mut m.cpu;
    set_hi(cpu, EAX, ty);
    if ty == 3 {
        let s = sectors.min(u32::MAX as u64) as u32;
        set_r16(cpu, ECX, (s >> 16) as u16);
        set_r16(cpu, EDX, s as u16);
    }
    set_cf(cpu, false);
}

/// AH=41h, BX=55AAh: AH = 30h (EDD 3.0), BX = AA55h, CX = 0001h (the fixed-disk
/// access subset: 42h-44h, 47h, 48h). False for the floppy or a wrong BX.
fn check_extensions(m: &mut Machine, t: Target) -> bool {
    let cpu = &mut m.cpu;
    if r16(cpu, EBX) != 0x55aa || t == Target::Floppy {
        return false;
    }
    set_r16(cpu, EBX, 0xaa55);
    set_r16(cpu, ECX, 0x0001);
    set_hi(cpu, EAX, 0x30);
    set_cf(cpu, false);
    true
}

/// AH=42h/43h/44h: the disk address packet at DS:SI (size, count, buffer seg:off,
/// 64-bit LBA; flat 64-bit buffer at +10h when the segment:offset is FFFF:FFFF).
fn ext_transfer(m: &mut Machine, t: Target, ah: u8) -> u8 {
    let cpu = &mut m.cpu;
    let dap = lin(cpu, DS, r16(cpu, ESI));
    let size = read8(cpu, dap);
    if size < 0x10 {
        return ST_BAD_COMMAND;
    }
    let count = read16(cpu, dap + 2) as u32;
    let off = read16(cpu, dap + 4);
    let seg = read16(cpu, dap + 6);
    let lba = read32(cpu, dap + 8) as u64 | (read32(cpu, dap + 12) as u64) << 32;
    let addr = if (seg, off) == (0xffff, 0xffff) {
        if size < 0x18 {
            return ST_BAD_COMMAND;
        }
        // Only the low 32 bits of the flat address reach this 32-bit machine.
        read32(cpu, dap + 0x10)
    } else {
        ((seg as u32) << 4).wrapping_add(off as u32)
    };
    let dir = match ah {
        0x42 => Dir::Read,
        0x43 => Dir::Write,
        _ => Dir::Verify,
    };
    let (done, st) = transfer(m, t, lba, count, addr, dir);
    if done != count {
        write16(&mut m.cpu, dap + 2, done as u16);
    }
    st
}

/// AH=48h: the result buffer at DS:SI (EDD 3.0 table 2): size, flags, geometry,
/// sectors, bytes per sector, and (buffer >= 1Eh) DPTE pointer FFFF:FFFF (none).
fn ext_parameters(m: &mut Machine, t: Target) -> u8 {
    let (sectors, ss) = extent(m, t);
    let g = geometry(m, t);
    let cpu = &mut m.cpu;
    let buf = lin(cpu, DS, r16(cpu, ESI));
    let size = read16(cpu, buf);
    if size < 0x1a {
        return ST_BAD_COMMAND;
    }
    let out = if size >= 0x1e { 0x1e } else { 0x1a };
    write16(cpu, buf, out);
    let (fl, c, h, s) = match t {
        // Removable, with no CHS geometry.
        Target::Cd(..) => (0x0004, 0, 0, 0),
        _ => {
            // The geometry describes the disk unless it was capped at 1024 cylinders.
            let valid = sectors < 1024 * g.heads as u64 * g.sectors as u64;
            let cyl = (sectors / (g.heads as u64 * g.sectors as u64)).min(u32::MAX as u64);
            (
                if valid { 0x0002 } else { 0 },
                cyl as u32,
                g.heads,
                g.sectors,
            )
        }
    };
    write16(cpu, buf + 2, fl);
    write32(cpu, buf + 4, c);
    write32(cpu, buf + 8, h);
    write32(cpu, buf + 12, s);
    write32(cpu, buf + 16, sectors as u32);
    write32(cpu, buf + 20, (sectors >> 32) as u32);
    write16(cpu, buf + 24, ss as u16);
    if out >= 0x1e {
        write32(cpu, buf + 26, 0xffff_ffff);
    }
    ST_OK
}

/// AX=4B01h: El Torito specification packet at DS:SI (no-emulation boot from E0h).
fn emulation_status(m: &mut Machine, t: Target) -> u8 {
    let cpu = &mut m.cpu;
    if lo(cpu, EAX) > 1 {
        return ST_BAD_COMMAND;
    }
    let Target::Cd(ch, slot) = t else {
        return ST_BAD_COMMAND;
    };
    let p = lin(cpu, DS, r16(cpu, ESI));
    let mut pkt = [0u8; 0x13];
    pkt[0] = 0x13;
    pkt[1] = 0x00; // no emulation
    pkt[2] = CD_DRIVE;
    pkt[3] = ch as u8; // controller index
    let boot = m.bios.cd_boot.unwrap_or_default();
    pkt[4..8].copy_from_slice(&boot.rba.to_le_bytes());
    pkt[8] = slot as u8;
    pkt[12..14].copy_from_slice(&boot.segment.to_le_bytes());
    pkt[14..16].copy_from_slice(&boot.count.to_le_bytes());
    write_bytes(cpu, p, &pkt);
    ST_OK
}

/// Where the El Torito boot image was loaded from, for AX=4B01h.
#[derive(Clone, Copy, Debug, Default)]
pub struct CdBoot {
    pub rba: u32,
    pub segment: u16,
    pub count: u16,
}

/// INT 19h: the first bootable drive's boot sector at 0000:7C00, then a jump to it.
pub(super) fn int19(m: &mut Machine) -> Outcome {
    let mut order: Vec<u8> = Vec::new();
    if !hard_disks(m).is_empty() {
        order.push(0x80);
    }
    if m.bios.floppy.is_some() {
        order.push(0x00);
    }
    for dl in order {
        let Some(t) = target(m, dl) else { continue };
        let (done, st) = transfer(m, t, 0, 1, 0x7c00, Dir::Read);
        let sig = read16(&mut m.cpu, 0x7dfe);
        if done == 1 && st == ST_OK && sig == 0xaa55 {
            jump_to_boot(m, 0x0000, 0x7c00, dl);
            return Outcome::Jumped;
        }
        tracing::debug!(drive = dl, "not bootable");
    }
    if let Some((ch, slot)) = cdrom(m) {
        if let Some((seg, boot)) = load_el_torito(m, Target::Cd(ch, slot)) {
            m.bios.cd_boot = Some(boot);
            jump_to_boot(m, seg, 0, CD_DRIVE);
            return Outcome::Jumped;
        }
    }
    Outcome::Done
}

/// Reads an El Torito no-emulation boot image (El Torito 1.0 §2: boot record volume
/// descriptor at sector 17, the validation and initial entries of the boot catalog).
/// Returns the load segment.
fn load_el_torito(m: &mut Machine, t: Target) -> Option<(u16, CdBoot)> {
    let mut sec = vec![0u8; 2048];
    with_image(m, t, |img| img.read_sectors(17, 1, &mut sec)).and_then(Result::ok)?;
    if sec[0] != 0 || &sec[1..6] != b"CD001" || !sec[7..].starts_with(b"EL TORITO SPECIFICATION") {
        return None;
    }
    let catalog = u32::from_le_bytes(sec[0x47..0x4b].try_into().ok()?);
    with_image(m, t, |img| img.read_sectors(catalog as u64, 1, &mut sec)).and_then(Result::ok)?;
    // Validation entry: header 01h, key 55h AAh at 1Eh, words summing to zero.
    let sum = sec[..32].chunks_exact(2).fold(0u16, |s, w| {
        s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    if sec[0] != 1 || sec[0x1e] != 0x55 || sec[0x1f] != 0xaa || sum != 0 {
        return None;
    }
    let e = &sec[32..64];
    // Bootable, no emulation.
    if e[0] != 0x88 || e[1] & 0x0f != 0 {
        return None;
    }
    let seg = match u16::from_le_bytes([e[2], e[3]]) {
        0 => 0x07c0,
        s => s,
    };
    let count = u16::from_le_bytes([e[6], e[7]]);
    let rba = u32::from_le_bytes([e[8], e[9], e[10], e[11]]);
    // `count` 512-byte virtual sectors, read in whole 2048-byte sectors; the image
    // must stay below the EBDA.
    let bytes = (count as u32).max(1) * 512;
    let base = (seg as u32) << 4;
    if base + bytes > (super::EBDA_SEGMENT as u32) << 4 {
        return None;
    }
    let mut data = vec![0u8; bytes.div_ceil(2048) as usize * 2048];
    let n = (data.len() / 2048) as u32;
    with_image(m, t, |img| img.read_sectors(rba as u64, n, &mut data)).and_then(Result::ok)?;
    write_bytes(&mut m.cpu, base, &data[..bytes as usize]);
    Some((
        seg,
        CdBoot {
            rba,
            segment: seg,
            count,
        },
    ))
}

/// Starts a boot sector at `seg:off` with DL = drive, DS = ES = SS = 0, SP = 7C00h and
/// interrupts enabled.
fn jump_to_boot(m: &mut Machine, seg: u16, off: u16, dl: u8) {
    let cpu = &mut m.cpu;
    super::load_real_seg(cpu, jit::abi::CS, seg);
    for s in [DS, ES, SS] {
        super::load_real_seg(cpu, s, 0);
    }
    cpu.s.eip = off as u32;
    cpu.s.regs[ESP] = 0x7c00;
    cpu.s.regs[EDX] = dl as u32;
    flags::set_flag(&mut cpu.s, flags::IF, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floppy_geometry_comes_from_the_image_size() {
        let g = FloppyGeometry::from_size(1_474_560).unwrap();
        assert_eq!(
            (g.cylinders, g.heads, g.sectors, g.drive_type),
            (80, 2, 18, 4)
        );
        assert_eq!(FloppyGeometry::from_size(368_640).unwrap().sectors, 9);
        assert_eq!(FloppyGeometry::from_size(368_640).unwrap().cylinders, 40);
        assert_eq!(FloppyGeometry::from_size(1_228_800).unwrap().sectors, 15);
        assert_eq!(FloppyGeometry::from_size(2_949_120).unwrap().sectors, 36);
        assert_eq!(FloppyGeometry::from_size(737_280).unwrap().drive_type, 3);
        assert!(FloppyGeometry::from_size(1_000_000).is_none());
        for f in FLOPPY_FORMATS {
            assert_eq!(
                f.bytes,
                (f.cylinders * f.heads * f.sectors) as u64 * 512,
                "{f:?}"
            );
        }
    }

    #[test]
    fn chs_maps_to_lba_and_back() {
        let g = FLOPPY_FORMATS[3].chs();
        assert_eq!(g.lba(0, 0, 1), Some(0));
        assert_eq!(g.lba(0, 1, 1), Some(18));
        assert_eq!(g.lba(1, 0, 1), Some(36));
        assert_eq!(g.lba(79, 1, 18), Some(2879));
        assert_eq!(g.lba(0, 0, 0), None);
        assert_eq!(g.lba(0, 0, 19), None);
        assert_eq!(g.lba(80, 0, 1), None);
        assert_eq!(g.lba(0, 2, 1), None);
        // CX = cylinder 0x123, sector 5: CH = 23h, CL = 40h | 05h.
        assert_eq!(decode_chs(0x2345, 7), (0x123, 7, 5));
        assert_eq!(decode_chs(0xffff, 0), (1023, 0, 63));
    }

    #[test]
    fn hard_disk_geometry_uses_lba_assisted_heads() {
        // 1 MiB: 16 heads, 63 sectors, 2 cylinders.
        let g = Chs::for_hard_disk(2048);
        assert_eq!((g.cylinders, g.heads, g.sectors), (2, 16, 63));
        assert_eq!(g.max_cx(), 0x013f);
        // 504 MiB exactly still fits 16 heads; 1 GiB needs 64.
        assert_eq!(Chs::for_hard_disk(1024 * 16 * 63).heads, 16);
        assert_eq!(Chs::for_hard_disk(2 << 20).heads, 64);
        // Past 7.8 GiB: 255 heads, capped at 1024 cylinders.
        let big = Chs::for_hard_disk(40 << 21);
        assert_eq!((big.cylinders, big.heads), (1024, 255));
        assert_eq!(big.max_cx(), 0xffff);
        // Round trip of the last addressable sector.
        let g = Chs::for_hard_disk(1 << 21);
        let (c, h, s) = decode_chs(g.max_cx(), (g.heads - 1) as u8);
        assert_eq!(
            g.lba(c, h, s),
            Some((g.cylinders * g.heads * g.sectors) as u64 - 1)
        );
    }
}
