//! The built-in BIOS services behind the back-door port (DESIGN.md, "BIOS and boot").
//!
//! The ROM (`bios` crate, `bios/rom/bios.asm`) is only entry stubs: each pushes AX and
//! writes its service number to [`bios::BACKDOOR_PORT`]. The run loop calls
//! [`after_step`] after every instruction; when the OUT has just retired from the ROM in
//! real or virtual-8086 mode, the service runs here with the caller's registers (AX
//! from the stub's stack slot), guest memory, the port bus and the board. Results go to
//! the registers and to the FLAGS image the INT pushed (`[SS:SP+6]`); a service that
//! must wait (a key, a delay) moves EIP to the stub's `sti; hlt` path, so timers and
//! the serial console keep running and the emulator never spins.
//!
//! Conventions follow the IBM PC AT Technical Reference (BIOS data area, POST) and the
//! Phoenix "System BIOS for IBM PCs, Compatibles and EISA Computers" service
//! descriptions, as collected in Ralf Brown's Interrupt List; the PCI parts follow the
//! PCI BIOS Specification 2.1, the disk extensions the Phoenix Enhanced Disk Drive
//! Specification 3.0, and the memory map the ACPI specification's INT 15h E820h.

mod disk;
mod keyboard;
mod pci;
mod system;
mod video;

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;

use devices::bus::all_ones;
use devices::{BusDevice, PortBus};
use jit::abi::{CS, EAX, ESP, SS};

use crate::cpu::{flags, Cpu};
use crate::error::Error;
use crate::machine::Machine;

pub use disk::{FloppyGeometry, FLOPPY_FORMATS};
pub use pci::pci_setup;

/// Where the ROM is seen below 1 MiB.
const ROM_BASE: u32 = 0xf0000;

/// BIOS data area fields (segment 0040h), by linear address.
pub(crate) mod bda {
    pub const COM_PORTS: u32 = 0x400;
    pub const LPT_PORTS: u32 = 0x408;
    pub const EBDA_SEGMENT: u32 = 0x40e;
    pub const EQUIPMENT: u32 = 0x410;
    pub const MEMORY_KIB: u32 = 0x413;
    pub const KBD_FLAGS1: u32 = 0x417;
    pub const KBD_FLAGS2: u32 = 0x418;
    pub const KBD_HEAD: u32 = 0x41a;
    pub const KBD_TAIL: u32 = 0x41c;
    pub const FLOPPY_STATUS: u32 = 0x441;
    pub const VIDEO_MODE: u32 = 0x449;
    pub const VIDEO_COLUMNS: u32 = 0x44a;
    pub const VIDEO_PAGE_SIZE: u32 = 0x44c;
    pub const VIDEO_PAGE_START: u32 = 0x44e;
    pub const CURSOR_POS: u32 = 0x450;
    pub const CURSOR_SHAPE: u32 = 0x460;
    pub const VIDEO_PAGE: u32 = 0x462;
    pub const CRTC_BASE: u32 = 0x463;
    pub const VIDEO_MODE_CTL: u32 = 0x465;
    pub const VIDEO_PALETTE: u32 = 0x466;
    pub const TICKS: u32 = 0x46c;
    pub const MIDNIGHT: u32 = 0x470;
    pub const HD_STATUS: u32 = 0x474;
    pub const HD_COUNT: u32 = 0x475;
    pub const COM_TIMEOUTS: u32 = 0x47c;
    pub const KBD_START: u32 = 0x480;
    pub const KBD_END: u32 = 0x482;
    pub const VIDEO_ROWS: u32 = 0x484;
    pub const CHAR_HEIGHT: u32 = 0x485;
    pub const VIDEO_EGA_MISC: u32 = 0x487;
    pub const VIDEO_EGA_SWITCHES: u32 = 0x488;
    pub const VIDEO_VGA_FLAGS: u32 = 0x489;
    pub const KBD_MODE: u32 = 0x496;
}

/// The extended BIOS data area: 1 KiB just below 640 KiB.
pub const EBDA_SEGMENT: u16 = 0x9fc0;
pub const EBDA_KIB: u16 = 1;
/// Where POST leaves the banner (inside the EBDA) for the ROM to print.
const BANNER_OFFSET: u16 = 0x100;

/// The BIOS state that does not live in guest memory.
pub struct Bios {
    /// Service number written to the back-door port, not yet run.
    request: Rc<Cell<Option<u8>>>,
    /// The `--fda` image, served by INT 13h DL=00h.
    pub(crate) floppy: Option<disk::Floppy>,
    /// Last INT 13h status of the CD-ROM (floppy and hard disks keep theirs in the BDA).
    cd_status: u8,
    /// Where INT 19h loaded the El Torito boot image from (INT 13h AX=4B01h).
    cd_boot: Option<disk::CdBoot>,
    /// INT 15h AH=86h: virtual time at which the current wait ends.
    wait_until: Option<u64>,
    /// RAM size found by POST (CMOS), for INT 12h/15h.
    ram_bytes: u64,
}

/// The back-door port: it only records the request; the machine runs it after the OUT.
struct Backdoor(Rc<Cell<Option<u8>>>);

impl BusDevice for Backdoor {
    fn read(&mut self, _port: u32, size: u8) -> u32 {
        all_ones(size)
    }

    fn write(&mut self, _port: u32, _size: u8, value: u32) {
        self.0.set(Some(value as u8));
    }

    fn name(&self) -> &str {
        "bios-backdoor"
    }
}

impl Bios {
    /// Opens the floppy image (if any) and claims the back-door port on `io`.
    pub fn new(fda: Option<&Path>, snapshot: bool, io: &mut PortBus) -> Result<Self, Error> {
        let floppy = fda.map(|p| disk::Floppy::open(p, snapshot)).transpose()?;
        let request = Rc::new(Cell::new(None));
        io.register(
            bios::BACKDOOR_PORT,
            1,
            Rc::new(RefCell::new(Backdoor(request.clone()))),
        );
        Ok(Self {
            request,
            floppy,
            cd_status: 0,
            cd_boot: None,
            wait_until: None,
            ram_bytes: 0,
        })
    }
}

/// The run loop's hook: runs a back-door request the last instruction made, if any.
#[inline]
pub fn after_step(m: &mut Machine) {
    if m.bios.request.get().is_some() {
        dispatch(m);
    }
}

/// What a service did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Return to the caller with the registers as set.
    Done,
    /// Nothing yet: halt until the next interrupt, then ask again.
    Wait,
    /// Control went elsewhere (INT 19h jumped to a boot sector): leave the stack alone.
    Jumped,
}

fn dispatch(m: &mut Machine) {
    let Some(svc) = m.bios.request.take() else {
        return;
    };
    let cpu = &mut m.cpu;
    // Only the ROM's own stubs may ask: the OUT ran from F0000-FFFFF in real or v86
    // mode, and that ROM is ours. Anything else writing the port is ignored.
    let at = cpu.s.seg[CS].base.wrapping_add(cpu.s.eip);
    if cpu.pmode() || !(ROM_BASE..ROM_BASE + 0x1_0000).contains(&at) || !rom_is_ours(cpu) {
        tracing::debug!(svc, at, "back-door write not from the BIOS ROM ignored");
        return;
    }
    let slot = stack_lin(cpu, 0);
    let stub_ax = r16(cpu, EAX);
    let caller_ax = read16(cpu, slot);
    set_r16(cpu, EAX, caller_ax);
    let outcome = match svc {
        bios::SVC_POST => system::post(m),
        bios::SVC_KEY => keyboard::irq_key(m),
        bios::SVC_INT10 => video::int10(m),
        bios::SVC_INT11 => system::int11(m),
        bios::SVC_INT12 => system::int12(m),
        bios::SVC_INT13 => disk::int13(m),
        bios::SVC_INT14 => system::int14(m),
        bios::SVC_INT15 => system::int15(m),
        bios::SVC_INT16 => keyboard::int16(m),
        bios::SVC_INT17 => system::int17(m),
        bios::SVC_BOOT => disk::int19(m),
        bios::SVC_INT1A => system::int1a(m),
        _ => {
            tracing::debug!(svc, "unknown BIOS service");
            Outcome::Done
        }
    };
    let cpu = &mut m.cpu;
    match outcome {
        Outcome::Done | Outcome::Wait => {
            let ax = r16(cpu, EAX);
            write16(cpu, slot, ax);
            set_r16(cpu, EAX, stub_ax);
            if outcome == Outcome::Wait {
                cpu.s.eip = cpu.s.eip.wrapping_add(bios::WAIT_PATH_OFFSET);
            }
        }
        Outcome::Jumped => {}
    }
}

/// True if the ROM mapped at F0000 carries the built-in BIOS signature.
fn rom_is_ours(cpu: &mut Cpu) -> bool {
    (0..8).all(|i| cpu.mmu.phys.read_u8(ROM_BASE + i as u32) == bios::SIGNATURE[i])
}

/// A word of the ROM image at `off`.
fn rom_word(cpu: &mut Cpu, off: usize) -> u16 {
    cpu.mmu.phys.read(ROM_BASE + off as u32, 2) as u16
}

// ---- Registers -----------------------------------------------------------------------

pub(crate) fn r16(cpu: &Cpu, r: usize) -> u16 {
    cpu.s.regs[r & 7] as u16
}

pub(crate) fn set_r16(cpu: &mut Cpu, r: usize, v: u16) {
    let reg = &mut cpu.s.regs[r & 7];
    *reg = (*reg & 0xffff_0000) | v as u32;
}

/// The low byte (AL, CL, DL, BL) of register `r`.
pub(crate) fn lo(cpu: &Cpu, r: usize) -> u8 {
    cpu.s.regs[r & 7] as u8
}

/// The high byte (AH, CH, DH, BH) of register `r`.
pub(crate) fn hi(cpu: &Cpu, r: usize) -> u8 {
    (cpu.s.regs[r & 7] >> 8) as u8
}

pub(crate) fn set_lo(cpu: &mut Cpu, r: usize, v: u8) {
    let reg = &mut cpu.s.regs[r & 7];
    *reg = (*reg & !0xff) | v as u32;
}

pub(crate) fn set_hi(cpu: &mut Cpu, r: usize, v: u8) {
    let reg = &mut cpu.s.regs[r & 7];
    *reg = (*reg & !0xff00) | (v as u32) << 8;
}

/// Loads a segment register as real mode does (base = selector << 4).
pub(crate) fn load_real_seg(cpu: &mut Cpu, seg: usize, selector: u16) {
    let s = &mut cpu.s.seg[seg % 6];
    s.selector = selector;
    s.base = (selector as u32) << 4;
}

// ---- Guest memory (linear addresses, as the caller's segments see them) --------------

fn user(cpu: &Cpu) -> bool {
    cpu.s.cpl == 3
}

/// The linear address of `seg:off`.
pub(crate) fn lin(cpu: &Cpu, seg: usize, off: u16) -> u32 {
    cpu.s.seg[seg % 6].base.wrapping_add(off as u32)
}

pub(crate) fn read8(cpu: &mut Cpu, lin: u32) -> u8 {
    let u = user(cpu);
    cpu.mmu.read_u8(lin, u).unwrap_or(0xff)
}

pub(crate) fn read16(cpu: &mut Cpu, lin: u32) -> u16 {
    u16::from_le_bytes([read8(cpu, lin), read8(cpu, lin.wrapping_add(1))])
}

pub(crate) fn read32(cpu: &mut Cpu, lin: u32) -> u32 {
    (read16(cpu, lin) as u32) | (read16(cpu, lin.wrapping_add(2)) as u32) << 16
}

pub(crate) fn write8(cpu: &mut Cpu, lin: u32, v: u8) {
    let u = user(cpu);
    if cpu.mmu.write_u8(lin, v, u).is_err() {
        tracing::debug!(lin, "BIOS write to an unmapped page dropped");
    }
}

pub(crate) fn write16(cpu: &mut Cpu, lin: u32, v: u16) {
    write8(cpu, lin, v as u8);
    write8(cpu, lin.wrapping_add(1), (v >> 8) as u8);
}

pub(crate) fn write32(cpu: &mut Cpu, lin: u32, v: u32) {
    write16(cpu, lin, v as u16);
    write16(cpu, lin.wrapping_add(2), (v >> 16) as u16);
}

pub(crate) fn write_bytes(cpu: &mut Cpu, lin: u32, data: &[u8]) {
    for (i, b) in data.iter().enumerate() {
        write8(cpu, lin.wrapping_add(i as u32), *b);
    }
}

pub(crate) fn read_bytes(cpu: &mut Cpu, lin: u32, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = read8(cpu, lin.wrapping_add(i as u32));
    }
}

/// The linear address of `[SS:SP+k]` (16-bit stack).
fn stack_lin(cpu: &Cpu, k: u16) -> u32 {
    let sp = (cpu.s.regs[ESP] as u16).wrapping_add(k);
    cpu.s.seg[SS].base.wrapping_add(sp as u32)
}

/// The FLAGS image the INT pushed: above the stub's saved AX, IP and CS.
const FLAGS_SLOT: u16 = 6;

/// Sets or clears `flag` (CF, ZF) in the caller's FLAGS image, so IRET returns it.
pub(crate) fn set_caller_flag(cpu: &mut Cpu, flag: u32, on: bool) {
    let at = stack_lin(cpu, FLAGS_SLOT);
    let f = read16(cpu, at);
    let f = if on {
        f | flag as u16
    } else {
        f & !(flag as u16)
    };
    write16(cpu, at, f);
}

pub(crate) fn set_cf(cpu: &mut Cpu, on: bool) {
    set_caller_flag(cpu, flags::CF, on);
}

/// The usual service return: AH = status, CF = (status != 0).
pub(crate) fn status(cpu: &mut Cpu, st: u8) {
    set_hi(cpu, EAX, st);
    set_cf(cpu, st != 0);
}
