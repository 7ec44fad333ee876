//! The PC/AT pair of 8259A programmable interrupt controllers, after the Intel 8259A
//! datasheet (order no. 231468): "Interrupt Sequence", "Initialization Command Words",
//! "Operation Command Words", "The Special Mask Mode", "Poll Command", "Edge and Level
//! Triggered Modes" and Figure 9 ("Priority Cell — Simplified Logic Diagram"). The
//! master sits at ports 0x20-0x21, the slave at 0xA0-0xA1 with its INT output wired to
//! the master's IR2. The edge/level control registers ELCR1/ELCR2 at 0x4D0/0x4D1 follow
//! the Intel 82371SB (PIIX3) datasheet §4.2.4.
//!
//! Two datasheet details shape everything here:
//! - A request is `IR AND (LTIM OR edge latch)` (Figure 9): in both modes the line must
//!   still be high when the CPU acknowledges; a request that went away by then gives the
//!   "default IR7" vector (a spurious interrupt) and sets no ISR bit.
//! - INT, once raised, stays high until the end of the INTA sequence (or a poll read, or
//!   ICW1) even if the request goes away or is masked meanwhile — that is how the CPU
//!   comes to acknowledge a request that no longer exists. A spurious request on the
//!   slave still sets the master's IR2 ISR bit, since the master saw a valid IR2.
//!
//! Not modelled: MCS-80/85 mode (µPM = 0) returns the 8086 vector, with a debug log;
//! buffered mode and the CAS lines are ignored beyond the slave-ID check.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bus::{BusDevice, PortBus};
use crate::irq::{IrqLine, IrqSink};

/// Master 8259A command port (A0 = 0) and data port (A0 = 1).
pub const MASTER_BASE: u16 = 0x20;
/// Slave 8259A ports.
pub const SLAVE_BASE: u16 = 0xa0;
/// ELCR1 (IRQ0-7) and ELCR2 (IRQ8-15).
pub const ELCR_BASE: u16 = 0x4d0;

/// The master input the slave's INT drives on a PC/AT.
const CASCADE_IR: u8 = 2;

// ICW1 (A0 = 0, D4 = 1).
const ICW1_IC4: u8 = 0x01;
const ICW1_SNGL: u8 = 0x02;
const ICW1_LTIM: u8 = 0x08;
const ICW1_SELECT: u8 = 0x10;

// ICW4.
const ICW4_UPM: u8 = 0x01;
const ICW4_AEOI: u8 = 0x02;
const ICW4_SFNM: u8 = 0x10;

// OCW2 (A0 = 0, D4 = 0, D3 = 0): R, SL, EOI in bits 7:5, level L2-L0 in bits 2:0.
const OCW2_LEVEL: u8 = 0x07;
const OCW2_ROTATE_AEOI_CLEAR: u8 = 0x00;
const OCW2_NONSPECIFIC_EOI: u8 = 0x20;
const OCW2_NOP: u8 = 0x40;
const OCW2_SPECIFIC_EOI: u8 = 0x60;
const OCW2_ROTATE_AEOI_SET: u8 = 0x80;
const OCW2_ROTATE_NONSPECIFIC_EOI: u8 = 0xa0;
const OCW2_SET_PRIORITY: u8 = 0xc0;
const OCW2_ROTATE_SPECIFIC_EOI: u8 = 0xe0;

// OCW3 (A0 = 0, D4 = 0, D3 = 1).
const OCW3_SELECT: u8 = 0x08;
const OCW3_RIS: u8 = 0x01;
const OCW3_RR: u8 = 0x02;
const OCW3_P: u8 = 0x04;
const OCW3_SMM: u8 = 0x20;
const OCW3_ESMM: u8 = 0x40;

/// ELCR bits that exist: IRQ0-2 (ELCR1) and IRQ8, IRQ13 (ELCR2) are edge-only on PIIX3.
const ELCR1_WRITABLE: u8 = 0xf8;
const ELCR2_WRITABLE: u8 = 0xde;

/// Where a chip is in its initialization sequence: which ICW the next A0 = 1 write is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum InitStep {
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

/// One 8259A.
#[derive(Clone, Debug)]
struct Chip {
    /// IR0-7 input levels.
    lines: u8,
    /// Edge-sense latches: set on a rising edge, reset on acknowledge, ICW1, or when the
    /// line drops (a dropped request is gone, Figure 9).
    edge: u8,
    isr: u8,
    imr: u8,
    /// ELCR bits for this chip: 1 = level-triggered.
    elcr: u8,
    /// INT output, latched until the end of an acknowledge or poll.
    int_out: bool,
    /// ICW2 T7-T3.
    vector_base: u8,
    /// ICW3: the slave-input bits on the master, the slave ID on the slave.
    icw3: u8,
    step: InitStep,
    ic4: bool,
    single: bool,
    ltim: bool,
    upm: bool,
    aeoi: bool,
    sfnm: bool,
    rotate_in_aeoi: bool,
    /// The IR with the lowest priority; the one after it has the highest.
    lowest: u8,
    /// OCW3 RIS: A0 = 0 reads return the ISR instead of the IRR.
    read_isr: bool,
    /// OCW3 P: the next read is a poll.
    poll: bool,
    special_mask: bool,
}

impl Chip {
    /// The state the PC BIOS leaves: 8086 mode, fully nested, edge-triggered, the given
    /// vector base and ICW3, everything masked.
    fn new(vector_base: u8, icw3: u8) -> Self {
        Self {
            lines: 0,
            edge: 0,
            isr: 0,
            imr: 0xff,
            elcr: 0,
            int_out: false,
            vector_base,
            icw3,
            step: InitStep::Ready,
            ic4: true,
            single: false,
            ltim: false,
            upm: true,
            aeoi: false,
            sfnm: false,
            rotate_in_aeoi: false,
            lowest: 7,
            read_isr: false,
            poll: false,
            special_mask: false,
        }
    }

    fn level_mask(&self) -> u8 {
        if self.ltim {
            0xff
        } else {
            self.elcr
        }
    }

    /// The IRR as software reads it: `IR AND (level OR edge latch)`.
    fn irr(&self) -> u8 {
        self.lines & (self.edge | self.level_mask())
    }

    fn set_line(&mut self, ir: u8, level: bool) {
        let bit = 1u8 << (ir & 7);
        if level {
            if self.lines & bit == 0 {
                self.edge |= bit;
            }
            self.lines |= bit;
        } else {
            self.lines &= !bit;
            self.edge &= !bit;
        }
    }

    /// 0 for the highest priority, 7 for the lowest.
    fn priority(&self, ir: u8) -> u8 {
        ir.wrapping_sub(self.lowest).wrapping_sub(1) & 7
    }

    /// The highest-priority IR among `bits`.
    fn highest(&self, bits: u8) -> Option<u8> {
        (1..=8u8)
            .map(|i| self.lowest.wrapping_add(i) & 7)
            .find(|&ir| bits & (1 << ir) != 0)
    }

    /// The IRs that have slaves on them (master in cascade mode only).
    fn slave_inputs(&self) -> u8 {
        if self.single {
            0
        } else {
            self.icw3
        }
    }

    /// The priority resolver: the request INTA would serve now, if any.
    fn resolve(&self) -> Option<u8> {
        let requests = self.irr() & !self.imr;
        if self.special_mask {
            // Special mask mode: every unmasked level that is not itself in service may
            // interrupt, lower as well as higher.
            return self.highest(requests & !self.isr);
        }
        let mut in_service = self.isr;
        if self.sfnm {
            // Special fully nested mode: a slave in service does not lock out further
            // (higher-priority, as the slave resolves) requests from that slave.
            in_service &= !self.slave_inputs();
        }
        let request = self.highest(requests)?;
        match self.highest(in_service) {
            Some(s) if self.priority(s) <= self.priority(request) => None,
            _ => Some(request),
        }
    }

    /// The INTA pulses for `ir`: reset the edge latch, set the ISR bit (or, in AEOI mode,
    /// set and reset it, rotating if asked).
    fn acknowledge(&mut self, ir: u8) {
        let bit = 1u8 << ir;
        self.edge &= !bit;
        if self.aeoi {
            if self.rotate_in_aeoi {
                self.lowest = ir;
            }
        } else {
            self.isr |= bit;
        }
    }

    /// The ISR bit a non-specific EOI resets: the highest-priority one in service (in
    /// special mask mode, not one masked by the IMR).
    fn nonspecific_eoi_target(&self) -> Option<u8> {
        let candidates = if self.special_mask {
            self.isr & !self.imr
        } else {
            self.isr
        };
        self.highest(candidates)
    }

    fn write_icw1(&mut self, value: u8) {
        self.step = InitStep::Icw2;
        self.ic4 = value & ICW1_IC4 != 0;
        self.single = value & ICW1_SNGL != 0;
        self.ltim = value & ICW1_LTIM != 0;
        if value & 0xe4 != 0 {
            tracing::debug!(value, "8259A ICW1: MCS-80 address bits ignored");
        }
        // Datasheet: the edge sense circuit is reset, the IMR cleared, IR7 gets the lowest
        // priority, special mask mode is cleared and status read is set to IRR.
        self.edge = 0;
        self.imr = 0;
        self.isr = 0;
        self.lowest = 7;
        self.special_mask = false;
        self.read_isr = false;
        self.poll = false;
        self.rotate_in_aeoi = false;
        self.int_out = false;
        if !self.ic4 {
            // "If IC4 = 0, then all functions selected in ICW4 are set to zero."
            self.upm = false;
            self.aeoi = false;
            self.sfnm = false;
        }
    }

    /// An A0 = 1 write: the next ICW of an initialization sequence, or OCW1.
    fn write_data(&mut self, value: u8) {
        match self.step {
            InitStep::Ready => self.imr = value,
            InitStep::Icw2 => {
                self.vector_base = value & 0xf8;
                self.step = if !self.single {
                    InitStep::Icw3
                } else if self.ic4 {
                    InitStep::Icw4
                } else {
                    InitStep::Ready
                };
            }
            InitStep::Icw3 => {
                self.icw3 = value;
                self.step = if self.ic4 {
                    InitStep::Icw4
                } else {
                    InitStep::Ready
                };
            }
            InitStep::Icw4 => {
                self.upm = value & ICW4_UPM != 0;
                self.aeoi = value & ICW4_AEOI != 0;
                self.sfnm = value & ICW4_SFNM != 0;
                if value & 0xe0 != 0 {
                    tracing::debug!(value, "8259A ICW4: reserved bits set");
                }
                self.step = InitStep::Ready;
            }
        }
    }

    fn write_ocw2(&mut self, value: u8) {
        let level = value & OCW2_LEVEL;
        match value & !OCW2_LEVEL {
            OCW2_NONSPECIFIC_EOI => {
                if let Some(ir) = self.nonspecific_eoi_target() {
                    self.isr &= !(1 << ir);
                }
            }
            OCW2_ROTATE_NONSPECIFIC_EOI => {
                if let Some(ir) = self.nonspecific_eoi_target() {
                    self.isr &= !(1 << ir);
                    self.lowest = ir;
                }
            }
            OCW2_SPECIFIC_EOI => self.isr &= !(1 << level),
            OCW2_ROTATE_SPECIFIC_EOI => {
                self.isr &= !(1 << level);
                self.lowest = level;
            }
            OCW2_SET_PRIORITY => self.lowest = level,
            OCW2_ROTATE_AEOI_SET => self.rotate_in_aeoi = true,
            OCW2_ROTATE_AEOI_CLEAR => self.rotate_in_aeoi = false,
            OCW2_NOP => {}
            // R, SL, EOI take eight values, all matched above.
            other => tracing::debug!(other, "8259A OCW2: impossible command"),
        }
    }

    fn write_ocw3(&mut self, value: u8) {
        if value & 0x80 != 0 {
            tracing::debug!(value, "8259A OCW3 with D7 set");
        }
        if value & OCW3_ESMM != 0 {
            self.special_mask = value & OCW3_SMM != 0;
        }
        if value & OCW3_RR != 0 {
            self.read_isr = value & OCW3_RIS != 0;
        }
        self.poll = value & OCW3_P != 0;
    }

    /// An A0 = 0 write: ICW1, OCW2 or OCW3 by D4 and D3.
    fn write_command(&mut self, value: u8) {
        if value & ICW1_SELECT != 0 {
            self.write_icw1(value);
        } else if value & OCW3_SELECT != 0 {
            self.write_ocw3(value);
        } else {
            self.write_ocw2(value);
        }
    }
}

/// The master/slave 8259A pair with the PIIX3 ELCR. Share it as `Rc<RefCell<PicPair>>`:
/// the `RefCell` is the `IrqSink` devices' lines drive, and `PicPort`/`Elcr` are the bus
/// views.
#[derive(Clone, Debug)]
pub struct PicPair {
    chips: [Chip; 2],
    /// ISA IRQ input levels 0-15 as devices drive them. IRQ2 is the AT bus's "IRQ2/9" pin
    /// and, as on the AT, reaches the slave's IR1 together with IRQ9.
    inputs: u16,
}

impl Default for PicPair {
    fn default() -> Self {
        Self::new()
    }
}

impl PicPair {
    /// A pair as the BIOS leaves it: vectors 0x08 and 0x70, slave on IR2, 8086 mode,
    /// everything edge-triggered and masked. Guests normally reinitialize it anyway.
    pub fn new() -> Self {
        Self {
            chips: [
                Chip::new(0x08, 1 << CASCADE_IR),
                Chip::new(0x70, CASCADE_IR),
            ],
            inputs: 0,
        }
    }

    /// A new pair, shared.
    pub fn new_shared() -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Self::new()))
    }

    /// Back to the `new` state (a chipset reset); the input lines keep their levels but
    /// need a new rising edge to request in edge mode.
    pub fn reset(&mut self) {
        let inputs = self.inputs;
        *self = Self::new();
        for irq in 0..16 {
            self.drive(irq, inputs & (1 << irq) != 0);
        }
        for chip in &mut self.chips {
            chip.edge = 0;
        }
        self.sync();
    }

    /// Registers the master (0x20), slave (0xA0) and ELCR (0x4D0) ranges.
    pub fn register(pic: &Rc<RefCell<Self>>, ports: &mut PortBus) {
        for (base, chip) in [(MASTER_BASE, 0), (SLAVE_BASE, 1)] {
            let view = PicPort {
                pic: pic.clone(),
                chip,
            };
            ports.register(base, 2, Rc::new(RefCell::new(view)));
        }
        let elcr = Elcr { pic: pic.clone() };
        ports.register(ELCR_BASE, 2, Rc::new(RefCell::new(elcr)));
    }

    /// The interrupt line for ISA IRQ `irq`, for a device to hold.
    pub fn irq_line(pic: &Rc<RefCell<Self>>, irq: u8) -> IrqLine {
        IrqLine::new(pic.clone(), irq)
    }

    /// The master's INT output: the CPU's INTR input.
    pub fn intr(&self) -> bool {
        self.chips[0].int_out
    }

    /// The INTA cycle: the vector the CPU should take. Sets the ISR bit(s) (unless AEOI)
    /// and resets the edge latches of the acknowledged request. A request that went away
    /// gives vector base + 7 without an ISR bit (on the slave: the master's IR2 ISR bit is
    /// set all the same). Called only when `intr()` is true; otherwise it answers as the
    /// hardware would, with a spurious IR7.
    pub fn acknowledge(&mut self) -> u8 {
        let master = &mut self.chips[0];
        if !master.upm {
            tracing::debug!("8259A in MCS-80/85 mode: answering INTA with an 8086 vector");
        }
        let vector = match master.resolve() {
            None => master.vector_base | 7,
            Some(ir) => {
                master.acknowledge(ir);
                if master.slave_inputs() & (1 << ir) != 0 {
                    self.acknowledge_slave(ir)
                } else {
                    master.vector_base | ir
                }
            }
        };
        self.chips[0].int_out = false;
        self.sync();
        vector
    }

    /// The slave's part of an INTA the master cascaded through its IR `ir`.
    fn acknowledge_slave(&mut self, ir: u8) -> u8 {
        let slave = &mut self.chips[1];
        if slave.icw3 & 7 != ir {
            tracing::debug!(
                ir,
                id = slave.icw3 & 7,
                "8259A cascade address matches no slave"
            );
            return 0xff;
        }
        let vector = match slave.resolve() {
            None => slave.vector_base | 7,
            Some(s) => {
                slave.acknowledge(s);
                slave.vector_base | s
            }
        };
        slave.int_out = false;
        // The slave's INT falls at the end of its INTA; a further request raises it again,
        // which the master sees as a new edge.
        self.chips[0].set_line(CASCADE_IR, false);
        vector
    }

    /// Drives ISA IRQ `irq` to `level` (what `IrqSink::set_irq` does).
    pub fn set_irq(&mut self, irq: u8, level: bool) {
        if irq >= 16 {
            tracing::debug!(irq, "8259A: no such IRQ");
            return;
        }
        self.drive(irq, level);
        self.sync();
    }

    fn drive(&mut self, irq: u8, level: bool) {
        if level {
            self.inputs |= 1 << irq;
        } else {
            self.inputs &= !(1 << irq);
        }
        match irq {
            CASCADE_IR | 9 => {
                let level = self.inputs & (1 << CASCADE_IR | 1 << 9) != 0;
                self.chips[1].set_line(1, level);
            }
            0..=7 => self.chips[0].set_line(irq, level),
            _ => self.chips[1].set_line(irq - 8, level),
        }
    }

    /// Re-evaluates both INT outputs (a raised INT stays latched) and carries the slave's
    /// INT to the master's IR2.
    fn sync(&mut self) {
        let [master, slave] = &mut self.chips;
        if slave.resolve().is_some() {
            slave.int_out = true;
        }
        master.set_line(CASCADE_IR, slave.int_out);
        if master.resolve().is_some() {
            master.int_out = true;
        }
    }

    /// A poll read (OCW3 P = 1 then RD): acknowledge-like, returns 0x80 | level or 0.
    fn poll(&mut self, chip: usize) -> u8 {
        let c = &mut self.chips[chip];
        c.poll = false;
        let result = match c.resolve() {
            Some(ir) => {
                c.acknowledge(ir);
                0x80 | ir
            }
            None => 0,
        };
        c.int_out = false;
        if chip == 1 {
            self.chips[0].set_line(CASCADE_IR, false);
        }
        self.sync();
        result
    }

    /// A byte read at `port` (0 or 1) of `chip` (0 master, 1 slave).
    fn read_port(&mut self, chip: usize, port: u32) -> u8 {
        let c = &self.chips[chip];
        if c.poll {
            self.poll(chip)
        } else if port == 0 {
            if c.read_isr {
                c.isr
            } else {
                c.irr()
            }
        } else {
            c.imr
        }
    }

    /// A byte write at `port` (0 or 1) of `chip`.
    fn write_port(&mut self, chip: usize, port: u32, value: u8) {
        let c = &mut self.chips[chip];
        if port == 0 {
            c.write_command(value);
        } else {
            c.write_data(value);
        }
        self.sync();
    }

    fn read_elcr(&self, index: u32) -> u8 {
        self.chips[index as usize & 1].elcr
    }

    fn write_elcr(&mut self, index: u32, value: u8) {
        let writable = if index == 0 {
            ELCR1_WRITABLE
        } else {
            ELCR2_WRITABLE
        };
        if value & !writable != 0 {
            tracing::debug!(index, value, "ELCR: reserved bits written");
        }
        self.chips[index as usize & 1].elcr = value & writable;
        self.sync();
    }
}

impl IrqSink for RefCell<PicPair> {
    fn set_irq(&self, irq: u8, level: bool) {
        self.borrow_mut().set_irq(irq, level);
    }
}

/// Reads `size` bytes from a 2-byte register block, one byte at a time as the ISA bus
/// splits wide accesses; bytes past the block read as all ones.
fn read_bytes(offset: u32, size: u8, mut read: impl FnMut(u32) -> u8) -> u32 {
    (0..size.min(4) as u32).fold(0, |acc, i| {
        let at = offset.wrapping_add(i);
        let byte = if at < 2 { read(at) } else { 0xff };
        acc | (byte as u32) << (8 * i)
    })
}

fn write_bytes(offset: u32, size: u8, value: u32, mut write: impl FnMut(u32, u8)) {
    for i in 0..size.min(4) as u32 {
        let at = offset.wrapping_add(i);
        if at < 2 {
            write(at, (value >> (8 * i)) as u8);
        }
    }
}

/// The port view of one chip: register at `MASTER_BASE` (chip 0) or `SLAVE_BASE`
/// (chip 1), 2 ports.
pub struct PicPort {
    pub pic: Rc<RefCell<PicPair>>,
    pub chip: usize,
}

impl BusDevice for PicPort {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        let mut pic = self.pic.borrow_mut();
        let chip = self.chip & 1;
        read_bytes(offset, size, |port| pic.read_port(chip, port))
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        let mut pic = self.pic.borrow_mut();
        let chip = self.chip & 1;
        write_bytes(offset, size, value, |port, byte| {
            pic.write_port(chip, port, byte)
        });
    }

    fn name(&self) -> &str {
        if self.chip & 1 == 0 {
            "8259A master"
        } else {
            "8259A slave"
        }
    }
}

/// ELCR1/ELCR2 at `ELCR_BASE`, 2 ports.
pub struct Elcr {
    pub pic: Rc<RefCell<PicPair>>,
}

impl BusDevice for Elcr {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        let pic = self.pic.borrow();
        read_bytes(offset, size, |index| pic.read_elcr(index))
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        let mut pic = self.pic.borrow_mut();
        write_bytes(offset, size, value, |index, byte| {
            pic.write_elcr(index, byte)
        });
    }

    fn name(&self) -> &str {
        "elcr"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rig {
        pic: Rc<RefCell<PicPair>>,
        bus: PortBus,
    }

    impl Rig {
        /// A pair initialized as a PC BIOS does: master vectors 0x20, slave 0x28,
        /// cascade on IR2, 8086 mode, `icw4` extra bits, nothing masked.
        fn with_icw4(icw4_master: u8, icw4_slave: u8) -> Self {
            let pic = PicPair::new_shared();
            let mut bus = PortBus::new();
            PicPair::register(&pic, &mut bus);
            let mut rig = Self { pic, bus };
            for (base, vec, icw3, icw4) in [
                (0x20, 0x20, 0x04, icw4_master),
                (0xa0, 0x28, 0x02, icw4_slave),
            ] {
                rig.out(base, 0x11);
                rig.out(base + 1, vec);
                rig.out(base + 1, icw3);
                rig.out(base + 1, 0x01 | icw4);
                rig.out(base + 1, 0x00);
            }
            rig
        }

        fn new() -> Self {
            Self::with_icw4(0, 0)
        }

        fn out(&mut self, port: u16, value: u8) {
            self.bus.write(port, 1, value as u32);
        }

        fn inb(&mut self, port: u16) -> u8 {
            self.bus.read(port, 1) as u8
        }

        fn irq(&self, irq: u8, level: bool) {
            self.pic.set_irq(irq, level);
        }

        fn intr(&self) -> bool {
            self.pic.borrow().intr()
        }

        fn ack(&self) -> u8 {
            self.pic.borrow_mut().acknowledge()
        }

        /// (master ISR, slave ISR) through OCW3.
        fn isr(&mut self) -> (u8, u8) {
            self.out(0x20, 0x0b);
            self.out(0xa0, 0x0b);
            let r = (self.inb(0x20), self.inb(0xa0));
            self.out(0x20, 0x0a);
            self.out(0xa0, 0x0a);
            r
        }

        fn irr(&mut self) -> (u8, u8) {
            self.out(0x20, 0x0a);
            self.out(0xa0, 0x0a);
            (self.inb(0x20), self.inb(0xa0))
        }

        fn eoi(&mut self, port: u16) {
            self.out(port, 0x20);
        }
    }

    #[test]
    fn init_sequence_sets_vector_base_and_clears_imr() {
        let mut r = Rig::new();
        assert_eq!(r.inb(0x21), 0x00, "ICW1 cleared the IMR, OCW1 wrote 0");
        assert!(!r.intr());
        r.irq(0, true);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x20);
        r.eoi(0x20);
        r.irq(11, true);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x2b);
        assert_eq!(r.isr(), (0x04, 0x08));

        // Single mode with IC4: ICW1, ICW2, ICW4 — no ICW3; the next data write is OCW1.
        r.out(0x20, 0x13);
        r.out(0x21, 0x47);
        r.out(0x21, 0x01);
        r.out(0x21, 0xa5);
        assert_eq!(r.inb(0x21), 0xa5);
        assert_eq!(
            r.pic.borrow().chips[0].vector_base,
            0x40,
            "T2-T0 are ignored"
        );
        // Without IC4 and cascaded: ICW1, ICW2, ICW3, then OCW1.
        r.out(0x20, 0x10);
        r.out(0x21, 0x50);
        r.out(0x21, 0x04);
        r.out(0x21, 0x3c);
        assert_eq!(r.inb(0x21), 0x3c);
        assert!(
            !r.pic.borrow().chips[0].upm,
            "IC4 = 0 zeroes the ICW4 functions"
        );
    }

    #[test]
    fn irq0_has_priority_over_irq1_and_the_slave_ranks_at_ir2() {
        let mut r = Rig::new();
        r.irq(1, true);
        r.irq(0, true);
        r.irq(3, true);
        r.irq(8, true);
        assert_eq!(r.ack(), 0x20);
        assert!(!r.intr(), "lower levels wait for the EOI");
        r.eoi(0x20);
        assert_eq!(r.ack(), 0x21);
        r.eoi(0x20);
        assert_eq!(r.ack(), 0x28, "IRQ8 via IR2 ranks above IRQ3");
        assert_eq!(r.isr(), (0x04, 0x01));
        r.eoi(0xa0);
        r.eoi(0x20);
        assert_eq!(r.ack(), 0x23);
        r.eoi(0x20);
        assert!(!r.intr());
    }

    #[test]
    fn nested_interrupts_and_eoi_order() {
        let mut r = Rig::new();
        r.irq(3, true);
        assert_eq!(r.ack(), 0x23);
        r.irq(5, true);
        assert!(!r.intr(), "IRQ5 is below IRQ3 in service");
        r.irq(1, true);
        assert!(r.intr(), "IRQ1 nests above IRQ3");
        assert_eq!(r.ack(), 0x21);
        assert_eq!(r.isr().0, 0x0a);
        r.eoi(0x20);
        assert_eq!(
            r.isr().0,
            0x08,
            "non-specific EOI ends the highest in service"
        );
        assert!(!r.intr());
        r.eoi(0x20);
        assert_eq!(r.isr().0, 0x00);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x25);
    }

    #[test]
    fn specific_eoi_resets_the_named_level() {
        let mut r = Rig::new();
        r.irq(3, true);
        r.ack();
        r.irq(1, true);
        r.ack();
        assert_eq!(r.isr().0, 0x0a);
        r.out(0x20, 0x63);
        assert_eq!(r.isr().0, 0x02);
        r.out(0x20, 0x61);
        assert_eq!(r.isr().0, 0x00);
    }

    #[test]
    fn rotation_commands_move_the_lowest_priority() {
        let mut r = Rig::new();
        // Set priority: IR4 lowest, so IR5 is the highest.
        r.out(0x20, 0xc4);
        r.irq(4, true);
        r.irq(5, true);
        assert_eq!(r.ack(), 0x25);
        // Rotate on non-specific EOI: IR5 becomes lowest, IR6 highest, IR4 next to lowest.
        r.out(0x20, 0xa0);
        assert_eq!(r.isr().0, 0);
        r.irq(5, false);
        r.irq(5, true);
        assert_eq!(r.ack(), 0x24, "IR4 now ranks above IR5");
        // Rotate on specific EOI for IR4: IR4 lowest, IR5 highest again.
        r.out(0x20, 0xe4);
        assert_eq!(r.isr().0, 0);
        r.irq(4, false);
        r.irq(4, true);
        assert_eq!(r.ack(), 0x25);
        assert_eq!(r.pic.borrow().chips[0].lowest, 4);
    }

    #[test]
    fn auto_eoi_sets_no_isr_bit_and_rotates_when_asked() {
        let mut r = Rig::with_icw4(ICW4_AEOI, ICW4_AEOI);
        r.irq(0, true);
        r.irq(1, true);
        assert_eq!(r.ack(), 0x20);
        assert_eq!(r.isr(), (0, 0));
        assert!(r.intr(), "no EOI needed for IRQ1");
        assert_eq!(r.ack(), 0x21);
        // Two slave requests without any EOI: the slave's INT falls and rises again at the
        // end of the first INTA, a new edge at the master's IR2.
        r.irq(9, true);
        r.irq(10, true);
        assert_eq!(r.ack(), 0x29);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x2a);
        assert!(!r.intr());
        // Rotate in AEOI: the acknowledged level becomes the lowest.
        r.out(0x20, 0x80);
        r.irq(0, false);
        r.irq(1, false);
        r.irq(0, true);
        assert_eq!(r.ack(), 0x20);
        r.irq(0, false);
        r.irq(0, true);
        r.irq(1, true);
        assert_eq!(r.ack(), 0x21, "IR0 rotated to the lowest priority");
        assert_eq!(r.ack(), 0x20);
        r.out(0x20, 0x00);
        assert!(!r.pic.borrow().chips[0].rotate_in_aeoi);
    }

    #[test]
    fn imr_masks_requests_but_irr_shows_them() {
        let mut r = Rig::new();
        r.out(0x21, 0x08);
        r.irq(3, true);
        assert!(!r.intr());
        assert_eq!(r.irr().0, 0x08);
        r.out(0x21, 0x00);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x23);
        // Masking the cascade input blocks every slave request.
        r.eoi(0x20);
        r.out(0x21, 0x04);
        r.irq(12, true);
        assert!(!r.intr());
        r.out(0x21, 0x00);
        assert_eq!(r.ack(), 0x2c);
    }

    #[test]
    fn elcr_level_triggered_request_reasserts_after_eoi() {
        let mut r = Rig::new();
        r.bus.write(ELCR_BASE, 2, 0xffff);
        assert_eq!(
            r.bus.read(ELCR_BASE, 2),
            0xdef8,
            "reserved ELCR bits stay 0"
        );
        r.out(0x4d0, 0x08);
        r.out(0x4d1, 0x00);
        r.irq(3, true);
        assert_eq!(r.ack(), 0x23);
        assert_eq!(r.irr().0, 0x08, "IRR follows the line");
        assert!(!r.intr());
        r.eoi(0x20);
        assert!(r.intr(), "still high after EOI: requests again");
        assert_eq!(r.ack(), 0x23);
        r.irq(3, false);
        assert_eq!(r.irr().0, 0x00);
        r.eoi(0x20);
        assert!(!r.intr());
        // Level-triggered slave line (IRQ11 = ELCR2 bit 3).
        r.out(0x4d1, 0x08);
        r.irq(11, true);
        assert_eq!(r.ack(), 0x2b);
        r.eoi(0xa0);
        r.eoi(0x20);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x2b);
    }

    #[test]
    fn ltim_makes_every_input_level_triggered() {
        let mut r = Rig::new();
        r.out(0x20, 0x19);
        r.out(0x21, 0x20);
        r.out(0x21, 0x04);
        r.out(0x21, 0x01);
        r.irq(6, true);
        assert_eq!(r.ack(), 0x26);
        r.eoi(0x20);
        assert_eq!(r.ack(), 0x26);
    }

    #[test]
    fn edge_triggered_request_does_not_reassert_while_held() {
        let mut r = Rig::new();
        r.irq(4, true);
        assert_eq!(r.irr().0, 0x10);
        assert_eq!(r.ack(), 0x24);
        assert_eq!(r.irr().0, 0x00, "acknowledge resets the edge latch");
        r.eoi(0x20);
        assert!(!r.intr());
        r.irq(4, true);
        assert!(!r.intr(), "no new edge");
        r.irq(4, false);
        r.irq(4, true);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x24);
    }

    #[test]
    fn vanished_master_request_gives_spurious_irq7() {
        let mut r = Rig::new();
        r.irq(3, true);
        assert!(r.intr());
        r.irq(3, false);
        assert_eq!(r.irr().0, 0x00, "the request is gone");
        assert!(r.intr(), "INT stays latched until INTA");
        assert_eq!(r.ack(), 0x27);
        assert_eq!(r.isr(), (0, 0));
        assert!(!r.intr());
        // Masking a pending request does the same.
        r.irq(5, true);
        r.out(0x21, 0x20);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x27);
        assert_eq!(r.isr(), (0, 0));
        // A real IRQ7 sets its ISR bit.
        r.irq(5, false);
        r.out(0x21, 0x00);
        r.irq(7, true);
        assert_eq!(r.ack(), 0x27);
        assert_eq!(r.isr(), (0x80, 0));
    }

    #[test]
    fn vanished_slave_request_gives_spurious_irq15_with_master_isr2() {
        let mut r = Rig::new();
        r.irq(10, true);
        assert!(r.intr());
        r.irq(10, false);
        assert!(r.intr());
        assert_eq!(r.ack(), 0x2f);
        assert_eq!(r.isr(), (0x04, 0x00), "the master saw a valid IR2");
        assert!(!r.intr());
        r.eoi(0x20);
        r.irq(10, true);
        assert_eq!(r.ack(), 0x2a, "the slave is not stuck");
    }

    #[test]
    fn poll_mode_reads_and_acknowledges_the_highest_request() {
        let mut r = Rig::new();
        r.irq(5, true);
        r.irq(3, true);
        r.out(0x20, 0x0c);
        assert!(r.intr());
        assert_eq!(r.inb(0x20), 0x83);
        assert!(!r.intr(), "a poll read ends INT like an INTA");
        assert_eq!(r.isr().0, 0x08);
        r.out(0x20, 0x0c);
        assert_eq!(r.inb(0x21), 0x00, "IR5 is below IR3 in service");
        assert_eq!(
            r.inb(0x21),
            0x00,
            "poll applies to one read; this is the IMR"
        );
        r.eoi(0x20);
        r.out(0x20, 0x0c);
        assert_eq!(r.inb(0x20), 0x85);
        r.eoi(0x20);
        r.irq(9, true);
        r.out(0x20, 0x0c);
        assert_eq!(r.inb(0x20), 0x82);
        r.out(0xa0, 0x0c);
        assert_eq!(r.inb(0xa0), 0x81);
        assert_eq!(r.isr(), (0x04, 0x02));
        r.out(0xa0, 0x0c);
        assert_eq!(r.inb(0xa0), 0x00);
    }

    #[test]
    fn special_mask_mode_lets_lower_levels_in() {
        let mut r = Rig::new();
        r.irq(3, true);
        assert_eq!(r.ack(), 0x23);
        r.irq(5, true);
        assert!(!r.intr());
        r.out(0x21, 0x08);
        r.out(0x20, 0x68);
        assert!(
            r.intr(),
            "IR3 masked in special mask mode no longer blocks IR5"
        );
        assert_eq!(r.ack(), 0x25);
        assert_eq!(r.isr().0, 0x28);
        // A non-specific EOI skips the masked in-service IR3.
        r.eoi(0x20);
        assert_eq!(r.isr().0, 0x08);
        r.out(0x20, 0x48);
        r.out(0x21, 0x00);
        r.out(0x20, 0x63);
        assert_eq!(r.isr().0, 0x00);
        assert!(!r.pic.borrow().chips[0].special_mask);
    }

    #[test]
    fn ocw3_selects_irr_or_isr_and_keeps_the_choice() {
        let mut r = Rig::new();
        r.out(0x21, 0xfe);
        r.irq(0, true);
        r.irq(6, true);
        r.ack();
        assert_eq!(r.inb(0x20), 0x40, "IRR after init");
        r.out(0x20, 0x0b);
        assert_eq!(r.inb(0x20), 0x01);
        r.out(0x20, 0x08);
        assert_eq!(r.inb(0x20), 0x01, "RR = 0 leaves the selection alone");
        r.out(0x20, 0x0a);
        assert_eq!(r.inb(0x20), 0x40);
        assert_eq!(r.inb(0x21), 0xfe, "A0 = 1 reads the IMR");
    }

    #[test]
    fn special_fully_nested_mode_lets_the_slave_nest() {
        for (sfnm, expect) in [(false, false), (true, true)] {
            let mut r = Rig::with_icw4(if sfnm { ICW4_SFNM } else { 0 }, 0);
            r.irq(10, true);
            assert_eq!(r.ack(), 0x2a);
            r.irq(9, true);
            assert_eq!(r.intr(), expect, "sfnm = {sfnm}");
            if expect {
                assert_eq!(r.ack(), 0x29);
                assert_eq!(r.isr(), (0x04, 0x06));
            }
        }
    }

    #[test]
    fn irq_lines_drive_the_pair() {
        let r = Rig::new();
        let line = PicPair::irq_line(&r.pic, 14);
        line.raise();
        assert!(r.intr());
        assert_eq!(r.ack(), 0x2e);
        // The AT's IRQ2 pin reaches the slave's IR1.
        let irq2 = PicPair::irq_line(&r.pic, 2);
        r.pic.borrow_mut().write_port(1, 0, 0x20);
        r.pic.borrow_mut().write_port(0, 0, 0x20);
        irq2.raise();
        assert_eq!(r.ack(), 0x29);
    }

    #[test]
    fn defaults_before_any_initialization() {
        let pic = PicPair::new_shared();
        let mut bus = PortBus::new();
        PicPair::register(&pic, &mut bus);
        assert_eq!(bus.read(0x21, 1), 0xff);
        assert_eq!(bus.read(0xa1, 1), 0xff);
        bus.write(0x21, 1, 0xfb);
        bus.write(0xa1, 1, 0xfe);
        pic.set_irq(8, true);
        assert_eq!(pic.borrow_mut().acknowledge(), 0x70);
        pic.borrow_mut().reset();
        assert_eq!(bus.read(0x21, 1), 0xff);
        assert_eq!(bus.read(0x20, 2), 0xff00, "word read: IRR then IMR");
    }

    #[test]
    fn any_guest_writes_are_harmless() {
        let pic = PicPair::new_shared();
        let mut bus = PortBus::new();
        PicPair::register(&pic, &mut bus);
        // A deterministic walk over every command value on every port and size.
        let mut x: u32 = 0x1234_5678;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let port = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1][(x % 6) as usize];
            let size = [1, 2, 4][(x >> 8) as usize % 3];
            match (x >> 12) % 4 {
                0 => bus.write(port, size, x >> 16),
                1 => {
                    bus.read(port, size);
                }
                2 => pic.set_irq((x >> 20) as u8 % 20, x & 1 << 30 != 0),
                _ => {
                    if pic.borrow().intr() || i % 7 == 0 {
                        pic.borrow_mut().acknowledge();
                    }
                }
            }
        }
    }
}
