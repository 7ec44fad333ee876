//! PCI configuration space and the chipset functions of a QEMU-"pc"-like board.
//!
//! Sources:
//! - PCI Local Bus Specification 2.1, §3.2.2.3.2 (configuration mechanism #1: CONFIG_ADDRESS
//!   at 0xCF8, CONFIG_DATA at 0xCFC) and §6 (the type 0 configuration header, BAR sizing).
//! - Intel 82441FX PCI and Memory Controller (PMC) datasheet, §3.2 (host bridge registers:
//!   PCICMD, PCISTS, PAM0-PAM6 at 0x59-0x5F, SMRAM at 0x72).
//! - Intel 82371SB PCI ISA IDE Xcelerator (PIIX3) datasheet, §2.2 (function 0, PCI-to-ISA
//!   bridge: PIRQRC[A:D] at 0x60-0x63; the RC register at I/O port 0xCF9) and §2.3
//!   (function 1, IDE: PCICMD, BMIBA at 0x20, IDETIM at 0x40-0x43, SIDETIM at 0x44).
//!
//! Reset values follow QEMU's `i440FX` and `PIIX3` models where the datasheet and QEMU
//! differ in ways a guest cannot tell apart (QEMU leaves the DRAM row boundaries at 0, for
//! instance). Deliberately not modelled:
//! - PAM and SMRAM are plain configuration bytes: the machine does not remap the 0xC0000-
//!   0xFFFFF shadow area or open SMRAM when a guest writes them (SMRAM's D_LCK lock is
//!   honoured as a register behaviour only).
//! - The BMIBA window moving is not signalled: the machine asks [`PciBus::ide_bm_base`].
//! - PIIX3 functions 01.2 (USB) and 01.3 (ACPI/PM) are absent; ELCR (0x4D0) belongs to the
//!   interrupt controllers, not here.
//! - Only bus 0 exists (no PCI-to-PCI bridges), so type 1 cycles (bus != 0) master-abort.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bus::{all_ones, BusDevice, PortBus};
use crate::signals::Signals;

// ---- Configuration mechanism #1 (PCI 2.1 §3.2.2.3.2) -------------------------------

/// CONFIG_ADDRESS, a 32-bit register claimed only by dword accesses.
pub const CONFIG_ADDRESS: u16 = 0xcf8;
/// CONFIG_DATA, a 32-bit window whose bytes 0xCFC-0xCFF select bytes of the addressed dword.
pub const CONFIG_DATA: u16 = 0xcfc;
/// PIIX3 Reset Control register (byte port inside CONFIG_ADDRESS's dword).
pub const RC: u16 = 0xcf9;

/// CONFIG_ADDRESS bit 31: configuration space mapping enabled.
const CA_ENABLE: u32 = 1 << 31;
/// Bits of CONFIG_ADDRESS that are implemented: 30:24 are reserved and bits 1:0 are
/// read-only zeros.
const CA_MASK: u32 = 0x80ff_fffc;

/// RC bit 1, System Reset (SRST): 1 = hard reset (PCIRST# and CPU), 0 = soft reset (INIT).
pub const RC_SRST: u8 = 1 << 1;
/// RC bit 2, Reset CPU (RCPU): writing 1 starts the reset selected by SRST.
pub const RC_RCPU: u8 = 1 << 2;

// ---- Type 0 configuration header (PCI 2.1 §6.1) --------------------------------------

pub const VID: u8 = 0x00;
pub const DID: u8 = 0x02;
pub const PCICMD: u8 = 0x04;
pub const PCISTS: u8 = 0x06;
pub const RID: u8 = 0x08;
/// Programming interface, sub-class, base class (three bytes, 0x09-0x0B).
pub const CLASSC: u8 = 0x09;
pub const MLT: u8 = 0x0d;
pub const HEDT: u8 = 0x0e;
/// BAR0; BARn is at `BAR0 + 4 * n`.
pub const BAR0: u8 = 0x10;
pub const INTLN: u8 = 0x3c;
pub const INTPN: u8 = 0x3d;

/// PCICMD bit 0: I/O space enable.
pub const PCICMD_IOSE: u16 = 1 << 0;
/// PCICMD bit 1: memory space enable.
pub const PCICMD_MSE: u16 = 1 << 1;
/// PCICMD bit 2: bus master enable.
pub const PCICMD_BME: u16 = 1 << 2;
/// PCICMD bit 3: special cycle enable.
pub const PCICMD_SCE: u16 = 1 << 3;
/// PCICMD bit 6: parity error response enable.
pub const PCICMD_PERRE: u16 = 1 << 6;
/// PCICMD bit 8: SERR# enable.
pub const PCICMD_SERRE: u16 = 1 << 8;

/// PCISTS bit 7: fast back-to-back capable.
pub const PCISTS_FB2B: u16 = 1 << 7;
/// PCISTS bit 8: data parity detected.
pub const PCISTS_DPD: u16 = 1 << 8;
/// PCISTS bits 10:9 = 01: DEVSEL# timing medium.
pub const PCISTS_DEVT_MEDIUM: u16 = 1 << 9;
/// PCISTS bit 11: signaled target abort.
pub const PCISTS_STA: u16 = 1 << 11;
/// PCISTS bit 12: received target abort.
pub const PCISTS_RTA: u16 = 1 << 12;
/// PCISTS bit 13: received master abort.
pub const PCISTS_RMA: u16 = 1 << 13;
/// PCISTS bit 14: signaled system error.
pub const PCISTS_SSE: u16 = 1 << 14;
/// PCISTS bit 15: detected parity error.
pub const PCISTS_DPE: u16 = 1 << 15;

/// HEDT bit 7: the device has more than one function.
pub const HEDT_MULTI_FUNCTION: u8 = 0x80;

/// BAR bit 0: the BAR describes I/O space.
pub const BAR_IO: u32 = 1;

// ---- 82441FX (i440FX) host bridge -----------------------------------------------------

pub const I440FX_VENDOR: u16 = 0x8086;
pub const I440FX_DEVICE: u16 = 0x1237;
/// PAM0: BIOS area 0xF0000-0xFFFFF attributes; PAM1-PAM6 follow (0x5A-0x5F).
pub const PAM0: u8 = 0x59;
/// Number of PAM registers.
pub const PAM_COUNT: u8 = 7;
/// SMRAM control register.
pub const SMRAM: u8 = 0x72;
/// SMRAM bits 2:0, C_BASE_SEG: hard-wired 010 (SMRAM at 0xA0000).
pub const SMRAM_C_BASE_SEG: u8 = 0x02;
/// SMRAM bit 3, G_SMRAME: global SMRAM enable.
pub const SMRAM_G_SMRAME: u8 = 1 << 3;
/// SMRAM bit 4, D_LCK: locks the register until power-on reset.
pub const SMRAM_D_LCK: u8 = 1 << 4;
/// SMRAM bit 5, D_CLS: SMRAM closed for data accesses.
pub const SMRAM_D_CLS: u8 = 1 << 5;
/// SMRAM bit 6, D_OPEN: SMRAM visible outside SMM.
pub const SMRAM_D_OPEN: u8 = 1 << 6;

// ---- 82371SB (PIIX3) function 0: PCI-to-ISA bridge ------------------------------------

pub const PIIX3_VENDOR: u16 = 0x8086;
pub const PIIX3_ISA_DEVICE: u16 = 0x7000;
/// ISA I/O recovery timer.
pub const IORT: u8 = 0x4c;
/// X-bus chip select.
pub const XBCS: u8 = 0x4e;
/// PIRQA route control; PIRQB-PIRQD follow at 0x61-0x63.
pub const PIRQRC: u8 = 0x60;
/// PIRQRC bit 7, IRQROUTEN: 1 = routing disabled (the reset value).
pub const PIRQRC_DISABLE: u8 = 0x80;
/// PIRQRC bits 3:0, IRQ0-IRQ3 routing: the ISA IRQ the PIRQ drives.
pub const PIRQRC_IRQ: u8 = 0x0f;
/// Top of memory.
pub const TOM: u8 = 0x69;
/// Motherboard device IRQ route control 0 and 1.
pub const MBIRQ0: u8 = 0x70;
pub const MBIRQ1: u8 = 0x71;
/// Motherboard device DMA control.
pub const MBDMA: u8 = 0x76;
/// Programmable chip select control.
pub const PCSC: u8 = 0x78;
/// SMI control.
pub const SMICNTL: u8 = 0xa0;
/// Fast off timer.
pub const FTMR: u8 = 0xa8;

// ---- 82371SB (PIIX3) function 1: IDE --------------------------------------------------

pub const PIIX3_IDE_DEVICE: u16 = 0x7010;
/// Bus master interface base address (BAR4).
pub const BMIBA: u8 = 0x20;
/// Size of the bus-master register block BMIBA decodes.
pub const BMIBA_SIZE: u32 = 16;
/// IDE timing, primary channel (16 bits); the secondary channel's follows at 0x42.
pub const IDETIM: u8 = 0x40;
/// Slave IDE timing.
pub const SIDETIM: u8 = 0x44;

/// Where the chipset functions sit on bus 0: (device, function).
pub const HOST_BRIDGE_DEVFN: (u8, u8) = (0, 0);
pub const ISA_BRIDGE_DEVFN: (u8, u8) = (1, 0);
pub const IDE_DEVFN: (u8, u8) = (1, 1);

// ---- A function's configuration space --------------------------------------------------

/// Identification every function has: read-only header fields.
#[derive(Clone, Copy, Debug)]
pub struct PciIds {
    pub vendor: u16,
    pub device: u16,
    pub revision: u8,
    /// Base class, sub-class and programming interface as 0xBBSSPP.
    pub class: u32,
    pub header_type: u8,
}

/// A 256-byte configuration space with per-bit write semantics: bits in `wmask` are
/// read/write, bits in `w1cmask` are cleared by writing 1 (status bits), everything else
/// is read-only. The power-on contents are kept so `reset` can restore them, write masks
/// included (a lock bit may have made a register read-only).
#[derive(Clone)]
pub struct ConfigSpace {
    data: [u8; 256],
    wmask: [u8; 256],
    w1cmask: [u8; 256],
    reset_data: [u8; 256],
    reset_wmask: [u8; 256],
}

impl ConfigSpace {
    /// A header with the identification registers set and nothing writable.
    pub fn new(ids: PciIds) -> Self {
        let mut cs = Self {
            data: [0; 256],
            wmask: [0; 256],
            w1cmask: [0; 256],
            reset_data: [0; 256],
            reset_wmask: [0; 256],
        };
        cs.init(VID, 2, ids.vendor as u32, 0);
        cs.init(DID, 2, ids.device as u32, 0);
        cs.init(RID, 1, ids.revision as u32, 0);
        // Little-endian: programming interface at 0x09, sub-class 0x0A, base class 0x0B.
        cs.init(CLASSC, 3, ids.class, 0);
        cs.init(HEDT, 1, ids.header_type as u32, 0);
        cs
    }

    /// Sets the power-on value and the writable bits of `size` bytes at `offset`.
    pub fn init(&mut self, offset: u8, size: u8, value: u32, wmask: u32) -> &mut Self {
        for i in 0..size.min(4) {
            let off = offset.wrapping_add(i) as usize;
            let shift = 8 * i as u32;
            self.data[off] = (value >> shift) as u8;
            self.reset_data[off] = (value >> shift) as u8;
            self.wmask[off] = (wmask >> shift) as u8;
            self.reset_wmask[off] = (wmask >> shift) as u8;
        }
        self
    }

    /// Makes `mask` bits of `size` bytes at `offset` write-1-to-clear.
    pub fn w1c(&mut self, offset: u8, size: u8, mask: u32) -> &mut Self {
        for i in 0..size.min(4) {
            self.w1cmask[offset.wrapping_add(i) as usize] = (mask >> (8 * i as u32)) as u8;
        }
        self
    }

    /// Marks `count` bytes from `offset` fully read/write (device-specific registers with
    /// no effect modelled here), keeping their power-on values.
    pub fn writable(&mut self, offset: u8, count: usize) -> &mut Self {
        for i in 0..count {
            let off = (offset as usize + i) & 0xff;
            self.wmask[off] = 0xff;
            self.reset_wmask[off] = 0xff;
        }
        self
    }

    /// Declares BAR `index` as an I/O BAR decoding `size` bytes (a power of two, at
    /// least 4): the address bits above the size are writable, bit 0 reads 1, so writing
    /// all ones reads back `!(size - 1) | 1` (PCI 2.1 §6.2.5.1).
    pub fn io_bar(&mut self, index: u8, size: u32) -> &mut Self {
        debug_assert!(size.is_power_of_two() && size >= 4);
        let offset = BAR0.wrapping_add(index.wrapping_mul(4));
        self.init(offset, 4, BAR_IO, !(size.max(4) - 1))
    }

    /// The byte at `offset`.
    #[inline]
    pub fn byte(&self, offset: u8) -> u8 {
        self.data[offset as usize]
    }

    /// Reads `size` bytes (1, 2 or 4) at `offset`, little-endian; offsets wrap at 256.
    pub fn read(&self, offset: u8, size: u8) -> u32 {
        (0..size.min(4)).fold(0, |acc, i| {
            acc | (self.data[offset.wrapping_add(i) as usize] as u32) << (8 * i as u32)
        })
    }

    /// Writes `size` bytes at `offset` through the write and write-1-to-clear masks.
    pub fn write(&mut self, offset: u8, size: u8, value: u32) {
        for i in 0..size.min(4) {
            let off = offset.wrapping_add(i) as usize;
            let v = (value >> (8 * i as u32)) as u8;
            let wm = self.wmask[off];
            self.data[off] = ((self.data[off] & !wm) | (v & wm)) & !(v & self.w1cmask[off]);
        }
    }

    /// Sets a byte regardless of the write mask (device-internal state changes).
    pub fn set_byte(&mut self, offset: u8, value: u8) {
        self.data[offset as usize] = value;
    }

    /// Changes the writable bits of one byte until the next reset.
    pub fn set_wmask(&mut self, offset: u8, wmask: u8) {
        self.wmask[offset as usize] = wmask;
    }

    /// Power-on values and write masks again.
    pub fn reset(&mut self) {
        self.data = self.reset_data;
        self.wmask = self.reset_wmask;
    }
}

/// One PCI function: its configuration space, with hooks for functions whose registers
/// do more than hold bits.
pub trait PciFunction {
    fn name(&self) -> &str;
    fn config(&self) -> &ConfigSpace;
    fn config_mut(&mut self) -> &mut ConfigSpace;

    /// Reads `size` bytes at `offset` (never crossing the dword the access addressed).
    fn read_config(&mut self, offset: u8, size: u8) -> u32 {
        self.config().read(offset, size)
    }

    /// Writes `size` bytes at `offset` (never crossing the dword the access addressed).
    fn write_config(&mut self, offset: u8, size: u8, value: u32) {
        self.config_mut().write(offset, size, value);
    }

    /// Hard reset (PCIRST#).
    fn reset(&mut self) {
        self.config_mut().reset();
    }
}

/// A function that is nothing but its configuration space.
pub struct PlainFunction {
    name: &'static str,
    config: ConfigSpace,
}

impl PlainFunction {
    pub fn new(name: &'static str, config: ConfigSpace) -> Self {
        Self { name, config }
    }
}

impl PciFunction for PlainFunction {
    fn name(&self) -> &str {
        self.name
    }
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }
}

// ---- The chipset functions ---------------------------------------------------------------

/// 00.0: the 82441FX host bridge. Only SMRAM's lock needs behaviour beyond masks.
pub struct I440fxHost {
    config: ConfigSpace,
}

impl I440fxHost {
    pub fn new() -> Self {
        let mut cs = ConfigSpace::new(PciIds {
            vendor: I440FX_VENDOR,
            device: I440FX_DEVICE,
            revision: 0x02,
            class: 0x06_00_00,
            header_type: 0x00,
        });
        // PCICMD 0006h: MAE and BME hard-wired on; PERRE and SERRE writable.
        cs.init(
            PCICMD,
            2,
            (PCICMD_MSE | PCICMD_BME) as u32,
            (PCICMD_PERRE | PCICMD_SERRE) as u32,
        );
        cs.init(PCISTS, 2, (PCISTS_DEVT_MEDIUM | PCISTS_FB2B) as u32, 0);
        cs.w1c(
            PCISTS,
            2,
            (PCISTS_DPE | PCISTS_SSE | PCISTS_RMA | PCISTS_RTA | PCISTS_DPD) as u32,
        );
        // MLT bits 7:3 are the count; 2:0 hard-wired 0.
        cs.init(MLT, 1, 0, 0xf8);
        // 0x50-0xFF: PMCCFG, DRAM control, PAM0-6, DRB0-7, error registers... held as
        // plain bytes (as QEMU does); their effect on memory is not modelled.
        cs.writable(0x50, 0xb0);
        cs.init(
            SMRAM,
            1,
            SMRAM_C_BASE_SEG as u32,
            (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME) as u32,
        );
        Self { config: cs }
    }
}

impl Default for I440fxHost {
    fn default() -> Self {
        Self::new()
    }
}

impl PciFunction for I440fxHost {
    fn name(&self) -> &str {
        "i440fx"
    }
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn write_config(&mut self, offset: u8, size: u8, value: u32) {
        self.config.write(offset, size, value);
        // 82441FX SMRAM: "When D_LCK is set to 1, D_OPEN is reset to 0 and all writeable
        // fields in this register are locked (become RO)" until power-on reset.
        let smram = self.config.byte(SMRAM);
        if smram & SMRAM_D_LCK != 0 {
            self.config.set_byte(SMRAM, smram & !SMRAM_D_OPEN);
            self.config.set_wmask(SMRAM, 0);
        }
    }
}

/// 01.0: the PIIX3 PCI-to-ISA bridge, function 0 of a multi-function device.
pub fn piix3_isa() -> PlainFunction {
    let mut cs = ConfigSpace::new(PciIds {
        vendor: PIIX3_VENDOR,
        device: PIIX3_ISA_DEVICE,
        revision: 0x00,
        class: 0x06_01_00,
        header_type: HEDT_MULTI_FUNCTION,
    });
    // PCICMD 0007h: I/O, memory and bus master hard-wired on; special cycles writable.
    cs.init(
        PCICMD,
        2,
        (PCICMD_IOSE | PCICMD_MSE | PCICMD_BME) as u32,
        PCICMD_SCE as u32,
    );
    cs.init(PCISTS, 2, PCISTS_DEVT_MEDIUM as u32, 0);
    cs.w1c(PCISTS, 2, (PCISTS_RMA | PCISTS_RTA | PCISTS_STA) as u32);
    // Device-specific registers 0x40-0xFF are plain bytes (their ISA-side effects are the
    // other devices' business), with the reset values of QEMU's piix3_reset.
    cs.writable(0x40, 0xc0);
    cs.init(IORT, 1, 0x4d, 0xff);
    cs.init(XBCS, 1, 0x03, 0xff);
    // PIRQRC[A:D]: bits 6:4 reserved.
    for i in 0..4 {
        cs.init(PIRQRC + i, 1, PIRQRC_DISABLE as u32, 0x8f);
    }
    cs.init(TOM, 1, 0x02, 0xff);
    cs.init(MBIRQ0, 1, 0x80, 0xff);
    cs.init(MBIRQ1, 1, 0x80, 0xff);
    cs.init(MBDMA, 2, 0x0c0c, 0xffff);
    cs.init(PCSC, 2, 0x0002, 0xffff);
    cs.init(SMICNTL, 1, 0x08, 0xff);
    cs.init(FTMR, 1, 0x0f, 0xff);
    PlainFunction::new("piix3-isa", cs)
}

/// 01.1: the PIIX3 IDE controller in ISA compatibility mode: the channels decode the
/// legacy ports (0x1F0/0x3F6 IRQ14, 0x170/0x376 IRQ15), so BAR0-3 and the interrupt pin
/// read 0; BAR4 (BMIBA) places the 16-byte bus-master register block.
pub fn piix3_ide() -> PlainFunction {
    let mut cs = ConfigSpace::new(PciIds {
        vendor: PIIX3_VENDOR,
        device: PIIX3_IDE_DEVICE,
        revision: 0x00,
        // Mass storage, IDE, programming interface 0x80: bus master capable, both
        // channels fixed in compatibility mode.
        class: 0x01_01_80,
        header_type: 0x00,
    });
    cs.init(PCICMD, 2, 0, (PCICMD_IOSE | PCICMD_BME) as u32);
    cs.init(PCISTS, 2, (PCISTS_DEVT_MEDIUM | PCISTS_FB2B) as u32, 0);
    cs.w1c(PCISTS, 2, (PCISTS_RMA | PCISTS_RTA | PCISTS_STA) as u32);
    cs.init(MLT, 1, 0, 0xf0);
    cs.io_bar(4, BMIBA_SIZE);
    cs.init(IDETIM, 4, 0, 0xffff_ffff);
    cs.init(SIDETIM, 1, 0, 0xff);
    PlainFunction::new("piix3-ide", cs)
}

// ---- The bus and the 0xCF8-0xCFF ports ------------------------------------------------

struct Slot {
    device: u8,
    function: u8,
    func: Box<dyn PciFunction>,
}

/// PCI bus 0 with the host bridge's configuration mechanism #1 and PIIX3's reset control
/// register. Registered as one device on ports 0xCF8-0xCFF (see [`PciBus::register`]).
pub struct PciBus {
    slots: Vec<Slot>,
    config_address: u32,
    /// RC as last written (only SRST is stored; RCPU reads back 0, as QEMU does).
    rc: u8,
    signals: Rc<Signals>,
}

impl PciBus {
    /// An empty bus 0.
    pub fn new(signals: Rc<Signals>) -> Self {
        Self {
            slots: Vec::new(),
            config_address: 0,
            rc: 0,
            signals,
        }
    }

    /// The "pc" chipset: 00.0 i440FX host bridge, 01.0 PIIX3 ISA bridge, 01.1 PIIX3 IDE.
    pub fn new_i440fx(signals: Rc<Signals>) -> Rc<RefCell<Self>> {
        let mut bus = Self::new(signals);
        let (d, f) = HOST_BRIDGE_DEVFN;
        bus.add(d, f, Box::new(I440fxHost::new()));
        let (d, f) = ISA_BRIDGE_DEVFN;
        bus.add(d, f, Box::new(piix3_isa()));
        let (d, f) = IDE_DEVFN;
        bus.add(d, f, Box::new(piix3_ide()));
        Rc::new(RefCell::new(bus))
    }

    /// Claims ports 0xCF8-0xCFF: CONFIG_ADDRESS (dword at 0xCF8), RC (byte at 0xCF9) and
    /// CONFIG_DATA (0xCFC-0xCFF). One range, since RC sits inside CONFIG_ADDRESS's dword
    /// and the access width decides which register is meant.
    pub fn register(pci: &Rc<RefCell<Self>>, ports: &mut PortBus) {
        ports.register(CONFIG_ADDRESS, 8, pci.clone());
    }

    /// Places a function at bus 0, `device` (0-31), `function` (0-7), replacing any there.
    pub fn add(&mut self, device: u8, function: u8, func: Box<dyn PciFunction>) {
        let (device, function) = (device & 0x1f, function & 7);
        self.slots
            .retain(|s| (s.device, s.function) != (device, function));
        self.slots.push(Slot {
            device,
            function,
            func,
        });
    }

    /// The function at bus 0, `device`, `function`, if present.
    pub fn function(&self, device: u8, function: u8) -> Option<&dyn PciFunction> {
        self.slots
            .iter()
            .find(|s| s.device == device && s.function == function)
            .map(|s| &*s.func)
    }

    fn function_mut(
        &mut self,
        device: u8,
        function: u8,
    ) -> Option<&mut (dyn PciFunction + 'static)> {
        self.slots
            .iter_mut()
            .find(|s| s.device == device && s.function == function)
            .map(|s| s.func.as_mut())
    }

    fn config_read(&self, (device, function): (u8, u8), offset: u8, size: u8) -> Option<u32> {
        self.function(device, function)
            .map(|f| f.config().read(offset, size))
    }

    /// PIRQA#-PIRQD# as PIIX3 routes them: the ISA IRQ each drives, or None when routing
    /// is disabled (IRQROUTEN set) or names a reserved IRQ (0-2, 8, 13).
    pub fn pirq_routes(&self) -> [Option<u8>; 4] {
        std::array::from_fn(|i| {
            let rc = self.config_read(ISA_BRIDGE_DEVFN, PIRQRC + i as u8, 1)? as u8;
            let irq = rc & PIRQRC_IRQ;
            let valid = matches!(irq, 3..=7 | 9..=12 | 14 | 15);
            (rc & PIRQRC_DISABLE == 0 && valid).then_some(irq)
        })
    }

    /// PAM0-PAM6 of the host bridge as the guest last wrote them (0 if the host bridge is
    /// absent), for a machine that models BIOS shadowing.
    pub fn pam(&self) -> [u8; PAM_COUNT as usize] {
        std::array::from_fn(|i| {
            self.config_read(HOST_BRIDGE_DEVFN, PAM0 + i as u8, 1)
                .unwrap_or(0) as u8
        })
    }

    /// The I/O base of the IDE bus-master registers (16 ports), or None while PCICMD's
    /// I/O space enable is clear or BMIBA is unprogrammed (0) or outside the 64 KiB port
    /// space (e.g. still all ones from sizing).
    pub fn ide_bm_base(&self) -> Option<u16> {
        let cmd = self.config_read(IDE_DEVFN, PCICMD, 2)? as u16;
        if cmd & PCICMD_IOSE == 0 {
            return None;
        }
        let base = self.config_read(IDE_DEVFN, BMIBA, 4)? & !(BMIBA_SIZE - 1);
        if base == 0 || base > 0x1_0000 - BMIBA_SIZE {
            return None;
        }
        Some(base as u16)
    }

    /// Whether the guest enabled IDE bus mastering (PCICMD bit 2).
    pub fn ide_bus_master_enabled(&self) -> bool {
        self.config_read(IDE_DEVFN, PCICMD, 2)
            .is_some_and(|cmd| cmd as u16 & PCICMD_BME != 0)
    }

    /// PCIRST#: every function back to its power-on state, CONFIG_ADDRESS and RC cleared.
    /// The machine calls this on a hard reset.
    pub fn reset(&mut self) {
        for s in &mut self.slots {
            s.func.reset();
        }
        self.config_address = 0;
        self.rc = 0;
    }

    /// The function and register CONFIG_ADDRESS selects, or None when the mapping is
    /// disabled, the cycle is for another bus, or nothing answers there (master abort).
    fn target(&mut self) -> Option<(&mut (dyn PciFunction + 'static), u8)> {
        let ca = self.config_address;
        if ca & CA_ENABLE == 0 {
            return None;
        }
        let bus = (ca >> 16) as u8;
        let device = ((ca >> 11) & 0x1f) as u8;
        let function = ((ca >> 8) & 7) as u8;
        let register = (ca & 0xfc) as u8;
        if bus != 0 {
            return None;
        }
        self.function_mut(device, function).map(|f| (f, register))
    }

    fn write_rc(&mut self, value: u8) {
        if value & RC_RCPU != 0 {
            // Soft (INIT) and hard resets both reset the CPU; a hard reset also asserts
            // PCIRST#, which the machine carries out by calling `reset` on the board.
            tracing::debug!(hard = value & RC_SRST != 0, "reset via port 0xcf9");
            self.signals.reset.set(true);
        }
        self.rc = value & RC_SRST;
    }
}

impl BusDevice for PciBus {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        match (offset, size) {
            (0, 4) => self.config_address,
            (1, 1) => self.rc as u32,
            (4..=7, _) => {
                let byte = (offset - 4) as u8;
                // Bytes beyond the dword's end belong to no register: all ones.
                let n = size.min(4 - byte);
                let fill = all_ones(size) & !all_ones(n);
                match self.target() {
                    Some((f, reg)) => f.read_config(reg | byte, n) | fill,
                    None => all_ones(size),
                }
            }
            _ => {
                // Non-dword accesses to 0xCF8-0xCFB are ordinary I/O nobody claims.
                tracing::debug!(offset, size, "pci: read of unclaimed port");
                all_ones(size)
            }
        }
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        match (offset, size) {
            (0, 4) => self.config_address = value & CA_MASK,
            (1, 1) => self.write_rc(value as u8),
            (4..=7, _) => {
                let byte = (offset - 4) as u8;
                let n = size.min(4 - byte);
                match self.target() {
                    Some((f, reg)) => f.write_config(reg | byte, n, value),
                    None => tracing::debug!(
                        address = self.config_address,
                        value,
                        "pci: config write master-aborted"
                    ),
                }
            }
            _ => tracing::debug!(offset, size, value, "pci: write to unclaimed port"),
        }
    }

    fn name(&self) -> &str {
        "pci"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> (Rc<Signals>, Rc<RefCell<PciBus>>, PortBus) {
        let signals = Signals::new();
        let pci = PciBus::new_i440fx(signals.clone());
        let mut ports = PortBus::new();
        PciBus::register(&pci, &mut ports);
        (signals, pci, ports)
    }

    fn addr(device: u32, function: u32, reg: u32) -> u32 {
        0x8000_0000 | device << 11 | function << 8 | reg
    }

    fn cfg_read(ports: &mut PortBus, a: u32, size: u8) -> u32 {
        ports.write(CONFIG_ADDRESS, 4, a & !3);
        ports.read(CONFIG_DATA + (a & 3) as u16, size)
    }

    fn cfg_write(ports: &mut PortBus, a: u32, size: u8, value: u32) {
        ports.write(CONFIG_ADDRESS, 4, a & !3);
        ports.write(CONFIG_DATA + (a & 3) as u16, size, value);
    }

    #[test]
    fn ids_by_dword_word_and_byte() {
        let (_, _, mut p) = machine();
        assert_eq!(cfg_read(&mut p, addr(0, 0, 0), 4), 0x1237_8086);
        assert_eq!(cfg_read(&mut p, addr(1, 0, 0), 4), 0x7000_8086);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 0), 4), 0x7010_8086);
        assert_eq!(cfg_read(&mut p, addr(0, 0, 2), 2), 0x1237);
        assert_eq!(cfg_read(&mut p, addr(1, 0, 2), 2), 0x7000);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 0), 2), 0x8086);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 2), 2), 0x7010);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 3), 1), 0x70);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 2), 1), 0x10);
        assert_eq!(cfg_read(&mut p, addr(0, 0, 1), 1), 0x80);
        assert_eq!(cfg_read(&mut p, addr(0, 0, 3), 1), 0x12);
        // Class codes (with revision in the low byte).
        assert_eq!(cfg_read(&mut p, addr(0, 0, 8), 4), 0x0600_0002);
        assert_eq!(cfg_read(&mut p, addr(1, 0, 8), 4), 0x0601_0000);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 8), 4), 0x0101_8000);
        // IDs are read-only.
        cfg_write(&mut p, addr(1, 1, 0), 4, 0x1234_5678);
        assert_eq!(cfg_read(&mut p, addr(1, 1, 0), 4), 0x7010_8086);
    }

    #[test]
    fn config_address_reads_back_implemented_bits() {
        let (_, _, mut p) = machine();
        p.write(CONFIG_ADDRESS, 4, 0xffff_ffff);
        assert_eq!(p.read(CONFIG_ADDRESS, 4), 0x80ff_fffc);
        p.write(CONFIG_ADDRESS, 4, 0x8000_0000);
        assert_eq!(p.read(CONFIG_ADDRESS, 4), 0x8000_0000);
    }

    #[test]
    fn absent_functions_and_disabled_mapping_read_all_ones() {
        let (_, _, mut p) = machine();
        assert_eq!(cfg_read(&mut p, addr(2, 0, 0), 4), 0xffff_ffff);
        assert_eq!(cfg_read(&mut p, addr(0, 1, 0), 4), 0xffff_ffff);
        assert_eq!(cfg_read(&mut p, addr(1, 2, 0), 2), 0xffff);
        assert_eq!(cfg_read(&mut p, addr(31, 7, 0), 1), 0xff);
        // Bus 1 does not exist: type 1 cycles master-abort.
        assert_eq!(cfg_read(&mut p, addr(0, 0, 0) | 1 << 16, 4), 0xffff_ffff);
        // Enable bit clear: CONFIG_DATA is not a configuration access.
        p.write(CONFIG_ADDRESS, 4, 0);
        assert_eq!(p.read(CONFIG_DATA, 4), 0xffff_ffff);
        // Writes there go nowhere and do not panic.
        cfg_write(&mut p, addr(5, 3, 0x10), 4, 0xffff_ffff);
    }

    #[test]
    fn header_types_show_the_multi_function_device() {
        let (_, _, mut p) = machine();
        assert_eq!(cfg_read(&mut p, addr(0, 0, HEDT as u32), 1), 0x00);
        assert_eq!(cfg_read(&mut p, addr(1, 0, HEDT as u32), 1), 0x80);
        assert_eq!(cfg_read(&mut p, addr(1, 1, HEDT as u32), 1), 0x00);
        // HEDT is read-only.
        cfg_write(&mut p, addr(1, 0, HEDT as u32), 1, 0x00);
        assert_eq!(cfg_read(&mut p, addr(1, 0, 0x0c), 4), 0x0080_0000);
    }

    #[test]
    fn bmiba_sizing_and_programming() {
        let (_, pci, mut p) = machine();
        let bar4 = addr(1, 1, BMIBA as u32);
        assert_eq!(cfg_read(&mut p, bar4, 4), 0x0000_0001);
        cfg_write(&mut p, bar4, 4, 0xffff_ffff);
        assert_eq!(cfg_read(&mut p, bar4, 4), 0xffff_fff1);
        // Still all ones from sizing, even with I/O enabled: no usable base.
        cfg_write(&mut p, addr(1, 1, PCICMD as u32), 2, PCICMD_IOSE as u32);
        assert_eq!(pci.borrow().ide_bm_base(), None);
        cfg_write(&mut p, bar4, 4, 0xc000);
        assert_eq!(cfg_read(&mut p, bar4, 4), 0x0000_c001);
        assert_eq!(pci.borrow().ide_bm_base(), Some(0xc000));
        // Low bits are not writable; a byte write to the upper address byte moves it.
        cfg_write(&mut p, bar4 + 1, 1, 0xd0);
        assert_eq!(cfg_read(&mut p, bar4, 4), 0x0000_d001);
        cfg_write(&mut p, bar4, 1, 0x0f);
        assert_eq!(cfg_read(&mut p, bar4, 4), 0x0000_d001);
        assert_eq!(pci.borrow().ide_bm_base(), Some(0xd000));
        // The other BARs read 0 in compatibility mode and cannot be sized.
        for bar in [0u32, 1, 2, 3, 5] {
            let a = addr(1, 1, BAR0 as u32 + 4 * bar);
            cfg_write(&mut p, a, 4, 0xffff_ffff);
            assert_eq!(cfg_read(&mut p, a, 4), 0, "BAR{bar}");
        }
    }

    #[test]
    fn command_register_gates_ide_bm_base() {
        let (_, pci, mut p) = machine();
        let cmd = addr(1, 1, PCICMD as u32);
        cfg_write(&mut p, addr(1, 1, BMIBA as u32), 4, 0xc040);
        assert_eq!(cfg_read(&mut p, cmd, 2), 0);
        assert_eq!(pci.borrow().ide_bm_base(), None, "I/O decoding off");
        // Only IOSE and BME are implemented.
        cfg_write(&mut p, cmd, 2, 0xffff);
        assert_eq!(cfg_read(&mut p, cmd, 2), 0x0005);
        assert_eq!(pci.borrow().ide_bm_base(), Some(0xc040));
        assert!(pci.borrow().ide_bus_master_enabled());
        cfg_write(&mut p, cmd, 2, PCICMD_BME as u32);
        assert_eq!(pci.borrow().ide_bm_base(), None);
        assert!(pci.borrow().ide_bus_master_enabled());
        // The status half of the dword: 0280h, read-only bits survive a write of ones
        // (the write-1-to-clear bits are all clear already).
        assert_eq!(cfg_read(&mut p, cmd, 4), 0x0280_0004);
        cfg_write(&mut p, cmd, 4, 0xffff_0001);
        assert_eq!(cfg_read(&mut p, cmd, 4), 0x0280_0001);
    }

    #[test]
    fn ide_timing_registers_and_interrupt_pin() {
        let (_, _, mut p) = machine();
        let idetim = addr(1, 1, IDETIM as u32);
        assert_eq!(cfg_read(&mut p, idetim, 4), 0);
        cfg_write(&mut p, idetim, 4, 0xa307_8000);
        assert_eq!(cfg_read(&mut p, idetim, 4), 0xa307_8000);
        cfg_write(&mut p, idetim + 2, 2, 0x8000);
        assert_eq!(cfg_read(&mut p, idetim, 4), 0x8000_8000);
        cfg_write(&mut p, addr(1, 1, SIDETIM as u32), 1, 0x55);
        assert_eq!(cfg_read(&mut p, addr(1, 1, SIDETIM as u32), 1), 0x55);
        // Compatibility mode: no PCI interrupt pin; the pin register is read-only.
        cfg_write(&mut p, addr(1, 1, INTLN as u32), 4, 0xffff_ffff);
        assert_eq!(cfg_read(&mut p, addr(1, 1, INTPN as u32), 1), 0);
        assert_eq!(cfg_read(&mut p, addr(1, 1, INTLN as u32), 4), 0);
    }

    #[test]
    fn pirq_route_defaults_and_writes() {
        let (_, pci, mut p) = machine();
        let rc = addr(1, 0, PIRQRC as u32);
        assert_eq!(cfg_read(&mut p, rc, 4), 0x8080_8080);
        assert_eq!(pci.borrow().pirq_routes(), [None; 4]);
        cfg_write(&mut p, rc, 4, 0x800b_0a0b);
        assert_eq!(cfg_read(&mut p, rc, 4), 0x800b_0a0b);
        assert_eq!(
            pci.borrow().pirq_routes(),
            [Some(11), Some(10), Some(11), None]
        );
        // Reserved bits 6:4 stay 0; reserved IRQ numbers route nowhere.
        cfg_write(&mut p, rc + 3, 1, 0x7f);
        assert_eq!(cfg_read(&mut p, rc + 3, 1), 0x0f);
        assert_eq!(pci.borrow().pirq_routes()[3], Some(15));
        cfg_write(&mut p, rc + 3, 1, 0x02);
        assert_eq!(pci.borrow().pirq_routes()[3], None);
        cfg_write(&mut p, rc + 3, 1, 0x0d);
        assert_eq!(pci.borrow().pirq_routes()[3], None);
        // A word write to PIRQC/PIRQD through CONFIG_DATA byte 2.
        cfg_write(&mut p, rc + 2, 2, 0x0509);
        assert_eq!(
            pci.borrow().pirq_routes(),
            [Some(11), Some(10), Some(9), Some(5)]
        );
        pci.borrow_mut().reset();
        assert_eq!(pci.borrow().pirq_routes(), [None; 4]);
    }

    #[test]
    fn piix3_isa_reset_values() {
        let (_, _, mut p) = machine();
        assert_eq!(cfg_read(&mut p, addr(1, 0, PCICMD as u32), 4), 0x0200_0007);
        assert_eq!(cfg_read(&mut p, addr(1, 0, IORT as u32), 4), 0x0003_004d);
        assert_eq!(cfg_read(&mut p, addr(1, 0, 0x68), 4), 0x0000_0200);
        assert_eq!(cfg_read(&mut p, addr(1, 0, MBIRQ0 as u32), 2), 0x8080);
        assert_eq!(cfg_read(&mut p, addr(1, 0, 0x74), 4), 0x0c0c_0000);
        assert_eq!(cfg_read(&mut p, addr(1, 0, PCSC as u32), 4), 0x0000_0002);
        assert_eq!(cfg_read(&mut p, addr(1, 0, SMICNTL as u32), 1), 0x08);
        assert_eq!(cfg_read(&mut p, addr(1, 0, FTMR as u32), 1), 0x0f);
    }

    #[test]
    fn status_bits_are_write_one_to_clear() {
        let (_, pci, mut p) = machine();
        let sts = addr(1, 1, PCISTS as u32);
        // Device-internal: a master abort was received.
        pci.borrow_mut()
            .function_mut(1, 1)
            .expect("IDE present")
            .config_mut()
            .set_byte(PCISTS + 1, 0x22);
        assert_eq!(cfg_read(&mut p, sts, 2), 0x2280);
        cfg_write(&mut p, sts, 2, 0x0000);
        assert_eq!(cfg_read(&mut p, sts, 2), 0x2280);
        cfg_write(&mut p, sts, 2, PCISTS_RMA as u32);
        assert_eq!(cfg_read(&mut p, sts, 2), 0x0280);
    }

    #[test]
    fn host_bridge_pam_and_smram() {
        let (_, pci, mut p) = machine();
        assert_eq!(cfg_read(&mut p, addr(0, 0, PCICMD as u32), 4), 0x0280_0006);
        let pam = addr(0, 0, PAM0 as u32);
        assert_eq!(cfg_read(&mut p, pam, 1), 0);
        cfg_write(&mut p, pam, 1, 0x30);
        cfg_write(&mut p, addr(0, 0, 0x5c), 4, 0x3333_3311);
        assert_eq!(cfg_read(&mut p, addr(0, 0, 0x58), 4), 0x0000_3000);
        assert_eq!(cfg_read(&mut p, addr(0, 0, 0x5c), 4), 0x3333_3311);
        assert_eq!(
            pci.borrow().pam(),
            [0x30, 0x00, 0x00, 0x11, 0x33, 0x33, 0x33]
        );
        let smram = addr(0, 0, SMRAM as u32);
        assert_eq!(cfg_read(&mut p, smram, 1), 0x02);
        // C_BASE_SEG and bit 7 are read-only.
        cfg_write(&mut p, smram, 1, 0xc8);
        assert_eq!(cfg_read(&mut p, smram, 1), 0x4a);
        // D_LCK: D_OPEN clears and the register freezes until reset.
        cfg_write(&mut p, smram, 1, 0x5a);
        assert_eq!(cfg_read(&mut p, smram, 1), 0x1a);
        cfg_write(&mut p, smram, 1, 0x42);
        assert_eq!(cfg_read(&mut p, smram, 1), 0x1a);
        pci.borrow_mut().reset();
        assert_eq!(cfg_read(&mut p, smram, 1), 0x02);
        cfg_write(&mut p, smram, 1, 0x4a);
        assert_eq!(cfg_read(&mut p, smram, 1), 0x4a);
        assert_eq!(cfg_read(&mut p, pam, 1), 0, "PAM back to power-on value");
    }

    #[test]
    fn port_cf9_resets() {
        let (signals, _, mut p) = machine();
        assert_eq!(p.read(RC, 1), 0);
        p.write(RC, 1, RC_SRST as u32);
        assert!(!signals.reset.get(), "SRST alone does not reset");
        assert_eq!(p.read(RC, 1), 0x02);
        p.write(RC, 1, (RC_SRST | RC_RCPU) as u32);
        assert!(signals.reset.get());
        assert_eq!(p.read(RC, 1), 0x02);
        signals.reset.set(false);
        p.write(RC, 1, RC_RCPU as u32);
        assert!(signals.reset.get(), "soft reset also resets the CPU");
        assert_eq!(p.read(RC, 1), 0x00);
        // A word write at 0xCF9 is not RC.
        signals.reset.set(false);
        p.write(RC, 2, 0x0606);
        assert!(!signals.reset.get());
    }

    #[test]
    fn non_dword_accesses_to_cf8_are_not_config_address() {
        let (signals, _, mut p) = machine();
        p.write(CONFIG_ADDRESS, 4, addr(1, 1, 0));
        p.write(CONFIG_ADDRESS, 1, 0x00);
        p.write(CONFIG_ADDRESS, 2, 0x0000);
        p.write(CONFIG_ADDRESS + 2, 2, 0x0000);
        p.write(CONFIG_ADDRESS + 3, 1, 0x00);
        assert_eq!(p.read(CONFIG_ADDRESS, 4), addr(1, 1, 0));
        assert_eq!(p.read(CONFIG_DATA, 4), 0x7010_8086);
        assert_eq!(p.read(CONFIG_ADDRESS, 1), 0xff);
        assert_eq!(p.read(CONFIG_ADDRESS, 2), 0xffff);
        assert_eq!(p.read(CONFIG_ADDRESS + 3, 1), 0xff);
        assert!(!signals.reset.get());
    }

    #[test]
    fn accesses_running_past_config_data_stay_in_the_dword() {
        let (_, _, mut p) = machine();
        p.write(CONFIG_ADDRESS, 4, addr(1, 1, 0));
        assert_eq!(p.read(CONFIG_DATA + 3, 2), 0xff70);
        assert_eq!(p.read(CONFIG_DATA + 2, 4), 0xffff_7010);
        // A dword write at 0xCFE touches bytes 2-3 of the dword only, not SIDETIM.
        p.write(CONFIG_ADDRESS, 4, addr(1, 1, IDETIM as u32));
        p.write(CONFIG_DATA + 2, 4, 0x1234_5678);
        assert_eq!(p.read(CONFIG_DATA, 4), 0x5678_0000);
        assert_eq!(cfg_read(&mut p, addr(1, 1, SIDETIM as u32), 4), 0);
    }
}
