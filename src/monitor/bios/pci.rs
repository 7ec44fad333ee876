//! PCI: POST-time enumeration and resource assignment, and the PCI BIOS INT 1Ah B1xxh
//! functions (PCI BIOS Specification 2.1 §3).
//!
//! Everything goes through configuration mechanism #1 on the port bus (CONFIG_ADDRESS
//! 0CF8h, CONFIG_DATA 0CFCh), as BIOS code does, so `pci_setup` works on any board and
//! can also run before a direct `--kernel` boot. Resources: BARs are sized by writing
//! all ones (PCI 2.1 §6.2.5.1); I/O BARs get addresses from C000h up, memory BARs from
//! E0000000h up, each aligned to its size. Interrupts: PIIX3 PIRQA-D (config 60h-63h of
//! 00:01.0) route to IRQ 10, 11, 10, 11; a device in slot `d` with pin `p` (1 = INTA#)
//! uses PIRQ `(d + p - 1) mod 4`, written to its Interrupt Line (3Ch); the routed IRQs
//! are made level-triggered in ELCR (4D0h/4D1h).

use devices::pci::{
    BAR0, CONFIG_ADDRESS, CONFIG_DATA, HEDT, HEDT_MULTI_FUNCTION, INTLN, INTPN, ISA_BRIDGE_DEVFN,
    PCICMD, PCICMD_BME, PCICMD_IOSE, PCICMD_MSE, PIIX3_ISA_DEVICE, PIIX3_VENDOR, PIRQRC, RID,
};
use devices::pic8259::ELCR_BASE;
use devices::PortBus;
use jit::abi::{EAX, EBX, ECX, EDI, EDX, ESI};

use super::{hi, lo, r16, set_cf, set_hi, set_r16, Outcome};
use crate::machine::Machine;

/// PCI BIOS return codes (PCI BIOS 2.1 table 3-1).
pub const SUCCESSFUL: u8 = 0x00;
pub const FUNC_NOT_SUPPORTED: u8 = 0x81;
pub const BAD_VENDOR_ID: u8 = 0x83;
pub const DEVICE_NOT_FOUND: u8 = 0x86;
pub const BAD_REGISTER_NUMBER: u8 = 0x87;

/// ISA IRQs the four PIRQ lines are routed to.
pub const PIRQ_IRQS: [u8; 4] = [10, 11, 10, 11];
const IO_BASE: u32 = 0xc000;
const MEM_BASE: u32 = 0xe000_0000;

/// Configuration read of `size` bytes at `reg` of bus 0 `devfn` (device << 3 | function).
pub fn cfg_read(io: &mut PortBus, devfn: u8, reg: u8, size: u8) -> u32 {
    io.write(
        CONFIG_ADDRESS,
        4,
        0x8000_0000 | (devfn as u32) << 8 | (reg & 0xfc) as u32,
    );
    io.read(CONFIG_DATA + (reg & 3) as u16, size)
}

pub fn cfg_write(io: &mut PortBus, devfn: u8, reg: u8, size: u8, v: u32) {
    io.write(
        CONFIG_ADDRESS,
        4,
        0x8000_0000 | (devfn as u32) << 8 | (reg & 0xfc) as u32,
    );
    io.write(CONFIG_DATA + (reg & 3) as u16, size, v);
}

/// The functions present on bus 0 (function 0 answers; others only on multi-function
/// devices), as devfn numbers.
pub fn functions(io: &mut PortBus) -> Vec<u8> {
    let mut v = Vec::new();
    for dev in 0..32u8 {
        if cfg_read(io, dev << 3, 0, 2) as u16 == 0xffff {
            continue;
        }
        v.push(dev << 3);
        if cfg_read(io, dev << 3, HEDT, 1) as u8 & HEDT_MULTI_FUNCTION != 0 {
            for f in 1..8 {
                if cfg_read(io, dev << 3 | f, 0, 2) as u16 != 0xffff {
                    v.push(dev << 3 | f);
                }
            }
        }
    }
    v
}

/// What `pci_setup` gave one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciAssignment {
    pub devfn: u8,
    pub vendor: u16,
    pub device: u16,
    /// (BAR index, address with its type bits).
    pub bars: Vec<(u8, u32)>,
    /// The IRQ written to the Interrupt Line, if the function has an interrupt pin.
    pub irq: Option<u8>,
}

/// Enumerates bus 0, assigns I/O and memory BARs, enables decoding, routes PIRQA-D and
/// fills in the Interrupt Line registers (see the module docs).
pub fn pci_setup(io: &mut PortBus) -> Vec<PciAssignment> {
    let mut io_next = IO_BASE;
    let mut mem_next = MEM_BASE;
    let mut out = Vec::new();
    let mut level_irqs = 0u16;
    // Route the PIRQ lines, if the PIIX3 ISA bridge is there.
    let (d, f) = ISA_BRIDGE_DEVFN;
    let isa = d << 3 | f;
    let piix3 = cfg_read(io, isa, 0, 4) == (PIIX3_ISA_DEVICE as u32) << 16 | PIIX3_VENDOR as u32;
    if piix3 {
        for (i, irq) in PIRQ_IRQS.iter().enumerate() {
            cfg_write(io, isa, PIRQRC + i as u8, 1, *irq as u32);
        }
    }
    for devfn in functions(io) {
        let id = cfg_read(io, devfn, 0, 4);
        let header = cfg_read(io, devfn, HEDT, 1) as u8 & 0x7f;
        let class = cfg_read(io, devfn, RID, 4) >> 8;
        let mut a = PciAssignment {
            devfn,
            vendor: id as u16,
            device: (id >> 16) as u16,
            bars: Vec::new(),
            irq: None,
        };
        let mut cmd = 0u16;
        let nbars = match header {
            0 => 6,
            1 => 2,
            _ => 0,
        };
        let mut i = 0;
        while i < nbars {
            let reg = BAR0 + 4 * i;
            let old = cfg_read(io, devfn, reg, 4);
            cfg_write(io, devfn, reg, 4, 0xffff_ffff);
            let probe = cfg_read(io, devfn, reg, 4);
            let wide = probe & 1 == 0 && (probe >> 1) & 3 == 2;
            if probe == 0 || probe == 0xffff_ffff {
                cfg_write(io, devfn, reg, 4, old);
                i += 1;
                continue;
            }
            if probe & 1 == 1 {
                let size = (!(probe & !3) & 0xffff) + 1;
                let base = io_next.next_multiple_of(size.max(4));
                if base + size <= 0x1_0000 {
                    cfg_write(io, devfn, reg, 4, base);
                    io_next = base + size;
                    a.bars.push((i, base | 1));
                    cmd |= PCICMD_IOSE;
                }
            } else {
                let size = (!(probe & !0xf)).wrapping_add(1).max(16);
                let base = mem_next.next_multiple_of(size);
                if base.checked_add(size).is_some_and(|e| e <= 0xfec0_0000) {
                    cfg_write(io, devfn, reg, 4, base);
                    if wide {
                        cfg_write(io, devfn, reg + 4, 4, 0);
                    }
                    mem_next = base + size;
                    a.bars.push((i, base | (probe & 0xf)));
                    cmd |= PCICMD_MSE;
                }
            }
            i += if wide { 2 } else { 1 };
        }
        // Mass-storage controllers may master the bus (IDE bus-master DMA).
        if class >> 16 == 0x01 {
            cmd |= PCICMD_BME;
        }
        if cmd != 0 {
            let c = cfg_read(io, devfn, PCICMD, 2);
            cfg_write(io, devfn, PCICMD, 2, c | cmd as u32);
        }
        let pin = cfg_read(io, devfn, INTPN, 1) as u8;
        if (1..=4).contains(&pin) && piix3 {
            let pirq = ((devfn >> 3) + pin - 1) % 4;
            let irq = PIRQ_IRQS[pirq as usize];
            cfg_write(io, devfn, INTLN, 1, irq as u32);
            level_irqs |= 1 << irq;
            a.irq = Some(irq);
        }
        out.push(a);
    }
    if level_irqs != 0 {
        let e1 = io.read(ELCR_BASE, 1) as u16 & 0xff;
        let e2 = io.read(ELCR_BASE + 1, 1) as u16 & 0xff;
        io.write(ELCR_BASE, 1, (e1 | (level_irqs & 0xff)) as u32);
        io.write(ELCR_BASE + 1, 1, (e2 | (level_irqs >> 8)) as u32);
    }
    out
}

/// INT 1Ah AH=B1h: the PCI BIOS.
pub(super) fn pcibios(m: &mut Machine) -> Outcome {
    let cpu = &mut m.cpu;
    let al = lo(cpu, EAX);
    let st = match al {
        // Installation check: "PCI " in EDX, mechanism #1, version 2.10, last bus 0.
        0x01 => {
            cpu.s.regs[EDX] = u32::from_le_bytes(*b"PCI ");
            set_r16(cpu, EAX, 0x0001);
            set_r16(cpu, EBX, 0x0210);
            super::set_lo(cpu, ECX, 0);
            cpu.s.regs[EDI] = 0;
            set_cf(cpu, false);
            return Outcome::Done;
        }
        0x02 => {
            let (device, vendor, index) = (r16(cpu, ECX), r16(cpu, EDX), r16(cpu, ESI));
            if vendor == 0xffff {
                BAD_VENDOR_ID
            } else {
                let id = (device as u32) << 16 | vendor as u32;
                find(m, index, |io, f| cfg_read(io, f, 0, 4) == id)
            }
        }
        0x03 => {
            let class = cpu.s.regs[ECX] & 0x00ff_ffff;
            let index = r16(cpu, ESI);
            find(m, index, |io, f| cfg_read(io, f, RID, 4) >> 8 == class)
        }
        0x08..=0x0d => config_access(m, al),
        _ => FUNC_NOT_SUPPORTED,
    };
    let cpu = &mut m.cpu;
    set_hi(cpu, EAX, st);
    set_cf(cpu, st != SUCCESSFUL);
    Outcome::Done
}

/// The `index`-th function (bus 0) matching `pred`, into BH (bus) and BL (devfn).
fn find(m: &mut Machine, index: u16, pred: impl Fn(&mut PortBus, u8) -> bool) -> u8 {
    let io = &mut m.cpu.io;
    let found = functions(io)
        .into_iter()
        .filter(|&f| pred(io, f))
        .nth(index as usize);
    match found {
        Some(devfn) => {
            set_r16(&mut m.cpu, EBX, devfn as u16);
            SUCCESSFUL
        }
        None => DEVICE_NOT_FOUND,
    }
}

/// B108h-B10Dh: read/write byte/word/dword; BH bus, BL devfn, DI register.
fn config_access(m: &mut Machine, al: u8) -> u8 {
    let cpu = &mut m.cpu;
    let (bus, devfn, reg) = (hi(cpu, EBX), lo(cpu, EBX), r16(cpu, EDI));
    let size: u8 = match al {
        0x08 | 0x0b => 1,
        0x09 | 0x0c => 2,
        _ => 4,
    };
    if reg > 0xff || reg % size as u16 != 0 {
        return BAD_REGISTER_NUMBER;
    }
    let reg = reg as u8;
    // Only bus 0 exists: other buses read all ones, as a master abort does.
    let write = al >= 0x0b;
    if write {
        let v = cpu.s.regs[ECX];
        if bus == 0 {
            cfg_write(&mut cpu.io, devfn, reg, size, v);
        }
    } else {
        let v = if bus == 0 {
            cfg_read(&mut cpu.io, devfn, reg, size)
        } else {
            u32::MAX
        };
        let r = &mut cpu.s.regs[ECX];
        *r = match size {
            1 => (*r & !0xff) | (v & 0xff),
            2 => (*r & !0xffff) | (v & 0xffff),
            _ => v,
        };
    }
    SUCCESSFUL
}
