//! The Intel 8254 programmable interval timer, after the Intel 8254 datasheet (order no.
//! 231164): "Control Word Format", "Read Operations" (Counter Latch Command, Read-Back
//! Command, Status Byte), "Mode Definitions" (modes 0-5 and their timing diagrams,
//! Figures 15-20), "Gate Pin Operations Summary" and "Minimum and Maximum Initial
//! Counts". Wired as on the PC/AT: counters 0-2 at ports 0x40-0x42, the control word
//! register at 0x43, every CLK input at 105/88 MHz; OUT0 drives IRQ0, counter 1 times
//! DRAM refresh (its output is not modelled), counter 2's GATE and OUT go through port
//! 0x61, "NMI Status and Control Register" of the Intel 82371SB (PIIX3) datasheet.
//!
//! Time model: CLK pulse `T` is the instant `clock::ns_to_ticks(now, PIT_HZ)` becomes
//! `T`; a counter's state is a closed-form function of the pulse number, computed lazily
//! from the last event that changed it (a write, a gate change), so a long gap costs
//! O(1) and deadlines are exact pulse boundaries. An event at virtual time `now` happens
//! after pulse `ns_to_ticks(now)` and before the next one.
//!
//! IRQ0 follows OUT0: `next_deadline` is the next rising edge of OUT0; `advance` (and
//! any PIT port access) brings the line to OUT0's level, lowering it first if OUT0 rose
//! since the last update while the line was still high, so the edge-triggered PIC sees
//! one edge per rising edge of OUT0 (several crossed in one long gap coalesce into one,
//! as a PIC latches only one). Falling edges get no deadline of their own: the line
//! follows OUT0 down at the next update, never later than the next rising edge. OUT is
//! undefined until a counter is programmed; here it starts low, so a first control word
//! for modes 1-5 on counter 0 is itself a rising edge on IRQ0.
//!
//! Not modelled: the datasheet's "GATE transition one clock before terminal count"
//! undefined cases, counter 1's OUT (refresh), the speaker sound itself.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bus::{all_ones, BusDevice, PortBus};
use crate::clock::{ns_to_ticks, ticks_to_ns, Clock};
use crate::irq::IrqLine;

/// CLK frequency of all three counters (14.31818 MHz / 12 = 105/88 MHz), in whole Hz.
pub const PIT_HZ: u64 = 1_193_182;
/// Counter 0 port; the PIT occupies `PIT_BASE .. PIT_BASE + PIT_PORTS`.
pub const PIT_BASE: u16 = 0x40;
pub const PIT_PORTS: u16 = 4;
/// System control port B (PIIX3 NMISC).
pub const PORT_B: u16 = 0x61;

/// Offset of the control word register in the PIT's range (A1 = A0 = 1).
const CONTROL: u32 = 3;

// Control word: SC1 SC0 RW1 RW0 M2 M1 M0 BCD.
const CW_SC_SHIFT: u8 = 6;
const CW_SC_READ_BACK: u8 = 3;
const CW_RW_SHIFT: u8 = 4;
const CW_RW_MASK: u8 = 0x03;
const CW_M_SHIFT: u8 = 1;
const CW_M_MASK: u8 = 0x07;
const CW_BCD: u8 = 0x01;
/// Bits 5:0 of the control word, which the status byte reports back.
const CW_PROGRAM_MASK: u8 = 0x3f;

// RW1 RW0.
const RW_LATCH: u8 = 0;
const RW_LSB: u8 = 1;
const RW_MSB: u8 = 2;
const RW_LSB_MSB: u8 = 3;

// Read-back command: 1 1 /COUNT /STATUS CNT2 CNT1 CNT0 0.
const RB_NOT_COUNT: u8 = 0x20;
const RB_NOT_STATUS: u8 = 0x10;
const RB_CNT0: u8 = 0x02;

// Status byte: OUTPUT NULL-COUNT RW1 RW0 M2 M1 M0 BCD.
const STATUS_OUTPUT: u8 = 0x80;
const STATUS_NULL_COUNT: u8 = 0x40;

// Port 0x61 (NMISC).
const NMISC_TIM2_GATE: u8 = 0x01;
/// Bits 3:0 are read/write: timer 2 gate, speaker data enable, PCI SERR# enable, IOCHK
/// NMI enable.
const NMISC_RW_MASK: u8 = 0x0f;
const NMISC_SPKR_DAT_EN: u8 = 0x02;
const NMISC_REF_TOGGLE: u8 = 0x10;
const NMISC_TIM2_OUT: u8 = 0x20;
/// The refresh toggle flips on every OUT1 pulse; the BIOS programs counter 1 in mode 2
/// with count 18 (15.085 µs).
const REFRESH_TICKS: u64 = 18;

/// `load` of a counter that has nothing to load.
const NEVER: u64 = u64::MAX;

/// The first virtual time (ns) at which CLK pulse `tick` has happened.
fn tick_to_ns(tick: u64) -> u64 {
    let ns = ticks_to_ns(tick, PIT_HZ);
    if ns_to_ticks(ns, PIT_HZ) >= tick {
        ns
    } else {
        ns + 1
    }
}

/// Decodes a BCD count as written; nibbles above 9 count at their binary weight (the
/// datasheet leaves them undefined).
fn from_bcd(v: u16) -> u32 {
    let d = |shift: u16| ((v >> shift) & 0xf) as u32;
    d(12) * 1000 + d(8) * 100 + d(4) * 10 + d(0)
}

fn to_bcd(v: u32) -> u16 {
    ((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10)) as u16
}

/// A pending mode 2/3 reload with a new count at the end of the current period
/// (mode 2) or half-cycle (mode 3).
#[derive(Clone, Copy)]
struct Switch {
    at: u64,
    n: u32,
    off: u32,
}

/// One counter: control logic, CR, CE, OL and status latch.
///
/// The counting element is described from pulse `load` (when CE takes the count `n`):
/// before it, CE and OUT are `pre_ce`/`pre_out`; while counting is disabled by GATE
/// they are `hold_ce`/`hold_out` from pulse `hold_from`. Modes 0/1/4/5 count `d = T - base` decrements; modes
/// 2/3 are periodic with phase `q = (off + T - base) mod n`, until `switch`.
struct Counter {
    /// Control word bits 5:0 as programmed (for the status byte).
    program: u8,
    mode: u8,
    bcd: bool,
    access: u8,
    /// Write flip-flop: the next byte written is the MSB of a two-byte count.
    write_msb: bool,
    write_lsb: u8,
    /// The count register, once a count has been written after the control word.
    cr: Option<u16>,
    /// Read flip-flop: the next byte read is the MSB.
    read_msb: bool,
    /// Output latch, while a latched count waits to be read.
    latch: Option<u16>,
    status: Option<u8>,
    gate: bool,
    pre_ce: u32,
    pre_out: bool,
    load: u64,
    counting: bool,
    hold_from: u64,
    hold_ce: u32,
    hold_out: bool,
    /// Decrements done before GATE disabled counting (modes 0 and 4).
    hold_d: u64,
    /// Mode 4: the strobe at `d == n` already ended while GATE held the count there.
    strobe_done: bool,
    n: u32,
    base: u64,
    off: u32,
    switch: Option<Switch>,
    /// Pulse at which CR reaches CE and NULL COUNT clears; `None` while it waits for a
    /// trigger.
    null_clear_at: Option<u64>,
}

impl Counter {
    fn new(gate: bool) -> Self {
        Self {
            program: RW_LSB_MSB << CW_RW_SHIFT,
            mode: 0,
            bcd: false,
            access: RW_LSB_MSB,
            write_msb: false,
            write_lsb: 0,
            cr: None,
            read_msb: false,
            latch: None,
            status: None,
            gate,
            pre_ce: 0,
            pre_out: false,
            load: NEVER,
            counting: gate,
            hold_from: 0,
            hold_ce: 0,
            hold_out: false,
            hold_d: 0,
            strobe_done: false,
            n: 1,
            base: 0,
            off: 0,
            switch: None,
            null_clear_at: None,
        }
    }

    fn modulus(&self) -> u32 {
        if self.bcd {
            10_000
        } else {
            0x1_0000
        }
    }

    /// The number of pulses a count register value stands for (0 is the maximum).
    fn effective(&self, cr: u16) -> u32 {
        let n = if self.bcd {
            from_bcd(cr) % 10_000
        } else {
            cr as u32
        };
        if n == 0 {
            self.modulus()
        } else {
            n
        }
    }

    /// Whether GATE's level enables counting in the current mode (Gate Pin Operations).
    fn gate_enables(&self) -> bool {
        matches!(self.mode, 1 | 5) || self.gate
    }

    /// The periodic segment in force at pulse `t`: (count, base, offset).
    fn segment(&self, t: u64) -> (u32, u64, u32) {
        match self.switch {
            Some(sw) if t >= sw.at => (sw.n, sw.at, sw.off),
            _ => (self.n, self.base, self.off),
        }
    }

    /// CE (as a linear count, not reduced) and OUT of a mode 2/3 counter at phase `q`.
    fn periodic(&self, n: u32, q: u32) -> (u32, bool) {
        if self.mode == 2 {
            // Figure 17: OUT low while CE holds 1, reload on the next pulse.
            (n - q, q != n - 1)
        } else {
            // Mode 3: high for (N+1)/2 pulses, low for (N-1)/2; CE counts down by two from
            // N (even) or N-1 (odd) in each half.
            let h = n.div_ceil(2);
            let k = if q < h { q } else { q - h };
            ((n & !1) - 2 * k, q < h)
        }
    }

    /// CE (linear, below the modulus) and OUT after pulse `t`.
    fn eval(&self, t: u64) -> (u32, bool) {
        if t < self.load {
            return (self.pre_ce, self.pre_out);
        }
        if !self.counting && t >= self.hold_from {
            return (self.hold_ce, self.hold_out);
        }
        let m = self.modulus() as u64;
        match self.mode {
            0 | 1 | 4 | 5 => {
                let d = t.saturating_sub(self.base);
                let ce = ((self.n as u64 % m + m - d % m) % m) as u32;
                let n = self.n as u64;
                let out = if self.mode <= 1 {
                    d >= n
                } else {
                    d != n || self.strobe_done
                };
                (ce, out)
            }
            _ => {
                let (n, base, off) = self.segment(t);
                let q = ((off as u64 + t.saturating_sub(base)) % n as u64) as u32;
                let (ce, out) = self.periodic(n, q);
                (ce % m as u32, out)
            }
        }
    }

    fn out(&self, t: u64) -> bool {
        self.eval(t).1
    }

    /// CE as the guest reads it.
    fn count(&self, t: u64) -> u16 {
        let ce = self.eval(t).0 % self.modulus();
        if self.bcd {
            to_bcd(ce)
        } else {
            ce as u16
        }
    }

    fn null_count(&self, t: u64) -> bool {
        self.null_clear_at.is_none_or(|c| t < c)
    }

    fn status_byte(&self, t: u64) -> u8 {
        let mut s = self.program;
        if self.out(t) {
            s |= STATUS_OUTPUT;
        }
        if self.null_count(t) {
            s |= STATUS_NULL_COUNT;
        }
        s
    }

    /// True if OUT goes from low to high at pulse `p`.
    fn rises_at(&self, p: u64) -> bool {
        p > 0 && !self.out(p - 1) && self.out(p)
    }

    /// The first pulse after `after` at which OUT rises, if nothing else happens.
    fn next_rising(&self, after: u64) -> Option<u64> {
        if self.load == NEVER {
            return None;
        }
        let mut from = after;
        if after < self.load {
            if self.rises_at(self.load) {
                return Some(self.load);
            }
            from = self.load;
        }
        let running = self.next_rising_counting(from);
        if self.counting {
            return running;
        }
        // Counting stopped at `hold_from`: edges before it, or one into the held level.
        if let Some(p) = running.filter(|&p| p < self.hold_from) {
            return Some(p);
        }
        (self.hold_from > from && self.rises_at(self.hold_from)).then_some(self.hold_from)
    }

    /// `next_rising` from `from` (not before `load`) as if counting went on.
    fn next_rising_counting(&self, from: u64) -> Option<u64> {
        match self.mode {
            0 | 1 | 4 | 5 => {
                let extra = if self.mode <= 1 { 0 } else { 1 };
                let p = self.base + self.n as u64 + extra;
                (p > from && self.rises_at(p)).then_some(p)
            }
            _ => {
                // In a segment, OUT rises each time the phase wraps to 0, if the count
                // is at least 2 (counts of 1 are illegal in modes 2 and 3).
                let wrap = |n: u32, base: u64, off: u32, from: u64| -> Option<u64> {
                    if n < 2 {
                        return None;
                    }
                    let n = n as u64;
                    let p0 = base + (n - off as u64 % n) % n;
                    Some(if p0 > from {
                        p0
                    } else {
                        p0 + ((from - p0) / n + 1) * n
                    })
                };
                let first = wrap(self.n, self.base, self.off, from);
                match self.switch {
                    None => first,
                    Some(sw) => {
                        if let Some(p) = first.filter(|&p| p < sw.at) {
                            return Some(p);
                        }
                        if sw.at > from && self.rises_at(sw.at) {
                            return Some(sw.at);
                        }
                        wrap(sw.n, sw.at, sw.off, from.max(sw.at))
                    }
                }
            }
        }
    }

    /// A control word for this counter (SC = 0-2).
    fn control(&mut self, t: u64, cw: u8) {
        let rw = (cw >> CW_RW_SHIFT) & CW_RW_MASK;
        if rw == RW_LATCH {
            self.latch_count(t);
            return;
        }
        let ce = self.eval(t).0 % self.modulus();
        self.program = cw & CW_PROGRAM_MASK;
        self.mode = match (cw >> CW_M_SHIFT) & CW_M_MASK {
            6 => 2,
            7 => 3,
            m => m,
        };
        self.bcd = cw & CW_BCD != 0;
        self.access = rw;
        self.write_msb = false;
        self.read_msb = false;
        self.latch = None;
        self.status = None;
        self.cr = None;
        // "OUT goes to a known initial state": low in mode 0, high otherwise.
        self.pre_ce = ce;
        self.pre_out = self.mode != 0;
        self.load = NEVER;
        self.counting = self.gate_enables();
        self.strobe_done = false;
        self.switch = None;
        self.null_clear_at = None;
    }

    fn latch_count(&mut self, t: u64) {
        // A second latch before the first is read is ignored.
        if self.latch.is_none() {
            self.latch = Some(self.count(t));
        }
    }

    fn latch_status(&mut self, t: u64) {
        if self.status.is_none() {
            self.status = Some(self.status_byte(t));
        }
    }

    fn read(&mut self, t: u64) -> u8 {
        if let Some(s) = self.status.take() {
            return s;
        }
        let value = self.latch.unwrap_or_else(|| self.count(t));
        let [lsb, msb] = value.to_le_bytes();
        match self.access {
            RW_LSB => {
                self.latch = None;
                lsb
            }
            RW_MSB => {
                self.latch = None;
                msb
            }
            _ => {
                self.read_msb = !self.read_msb;
                if self.read_msb {
                    lsb
                } else {
                    self.latch = None;
                    msb
                }
            }
        }
    }

    fn write(&mut self, t: u64, v: u8) {
        match self.access {
            RW_LSB => self.write_count(t, v as u16),
            RW_MSB => self.write_count(t, (v as u16) << 8),
            _ if !self.write_msb => {
                self.write_lsb = v;
                self.write_msb = true;
                if self.mode == 0 {
                    // Mode 0: the first byte stops counting and sets OUT low at once.
                    self.pre_ce = self.eval(t).0;
                    self.pre_out = false;
                    self.load = NEVER;
                }
            }
            _ => {
                self.write_msb = false;
                self.write_count(t, u16::from_le_bytes([self.write_lsb, v]))
            }
        }
    }

    /// A complete count written to CR after pulse `t`.
    fn write_count(&mut self, t: u64, cr: u16) {
        self.cr = Some(cr);
        let n = self.effective(cr);
        let (ce, out) = self.eval(t);
        match self.mode {
            0 | 4 => {
                // Loaded on the next pulse, which does not decrement; with GATE low the
                // count is loaded all the same and held.
                self.pre_ce = ce;
                self.pre_out = self.mode == 4 && out;
                self.load = t + 1;
                self.base = self.load;
                self.n = n;
                self.hold_from = self.load;
                self.hold_ce = n;
                self.hold_out = self.mode == 4;
                self.hold_d = 0;
                self.strobe_done = false;
                self.null_clear_at = Some(self.load);
            }
            1 | 5 => {
                if self.load != NEVER && t < self.load {
                    // A trigger's load is still to come: it takes this count.
                    self.n = n;
                    self.null_clear_at = Some(self.load);
                } else {
                    // Takes effect at the next trigger.
                    self.null_clear_at = None;
                }
            }
            _ => {
                if self.load == NEVER || t < self.load {
                    if self.load == NEVER {
                        self.pre_ce = ce;
                        self.pre_out = true;
                        self.load = t + 1;
                    }
                    self.base = self.load;
                    self.off = 0;
                    self.n = n;
                    self.switch = None;
                    self.hold_from = self.load;
                    self.hold_ce = self.periodic(n, 0).0;
                    self.hold_out = true;
                    self.null_clear_at = Some(self.load);
                } else if !self.counting {
                    // Loaded by the GATE trigger that restarts counting.
                    self.null_clear_at = None;
                } else {
                    // The current period (mode 2) or half-cycle (mode 3) finishes first.
                    if let Some(sw) = self.switch.filter(|sw| t >= sw.at) {
                        self.n = sw.n;
                        self.base = sw.at;
                        self.off = sw.off;
                    }
                    let q = ((self.off as u64 + (t - self.base)) % self.n as u64) as u32;
                    let h = self.n.div_ceil(2);
                    let (delta, off) = if self.mode == 3 && q < h {
                        (h - q, n.div_ceil(2))
                    } else {
                        (self.n - q, 0)
                    };
                    let at = t + delta as u64;
                    self.switch = Some(Switch { at, n, off });
                    self.null_clear_at = Some(at);
                }
            }
        }
    }

    /// CE takes CR on the next pulse (a GATE trigger in modes 1, 2, 3, 5).
    fn reload(&mut self, t: u64, cr: u16) {
        let (ce, out) = self.eval(t);
        let null_pending = self.null_count(t);
        self.pre_ce = ce;
        self.pre_out = out;
        self.load = t + 1;
        self.base = self.load;
        self.off = 0;
        self.n = self.effective(cr);
        self.switch = None;
        self.counting = true;
        self.strobe_done = false;
        if null_pending {
            self.null_clear_at = Some(self.load);
        }
    }

    /// GATE changes level after pulse `t` (Gate Pin Operations Summary).
    fn set_gate(&mut self, t: u64, gate: bool) {
        if gate == self.gate {
            return;
        }
        self.gate = gate;
        match self.mode {
            0 | 4 => {
                if gate && !self.counting {
                    self.counting = true;
                    // Unless GATE came back before the next pulse, CE resumes where it
                    // stopped.
                    if self.load != NEVER && t >= self.hold_from {
                        self.base = self.load.max(t.saturating_sub(self.hold_d));
                        if self.mode == 4 && self.hold_d == self.n as u64 {
                            self.strobe_done = true;
                        }
                    }
                } else if !gate && self.counting {
                    // The next pulse does not decrement; GATE has no effect on OUT, so a
                    // mode 4 strobe still ends there.
                    self.hold_from = t + 1;
                    if self.load != NEVER && t >= self.load {
                        let (ce, out) = self.eval(t);
                        self.hold_ce = ce;
                        self.hold_out = out || self.mode == 4;
                        self.hold_d = t.saturating_sub(self.base);
                    } else {
                        self.hold_ce = self.n;
                        self.hold_out = self.mode == 4;
                        self.hold_d = 0;
                    }
                    self.counting = false;
                }
            }
            1 | 5 => {
                if let (true, Some(cr)) = (gate, self.cr) {
                    self.reload(t, cr);
                }
            }
            _ => {
                if gate {
                    match self.cr {
                        Some(cr) => self.reload(t, cr),
                        None => self.counting = true,
                    }
                } else if self.counting {
                    // Counting stops and OUT goes high at once.
                    if self.load != NEVER {
                        self.hold_ce = if t >= self.load {
                            self.eval(t).0
                        } else {
                            self.periodic(self.n, 0).0
                        };
                    }
                    // A new count waiting for the end of the half-cycle now waits for
                    // the GATE trigger.
                    if self.switch.is_some_and(|sw| t < sw.at) {
                        self.null_clear_at = None;
                    }
                    self.hold_from = t;
                    self.hold_out = true;
                    self.pre_out = true;
                    self.counting = false;
                }
            }
        }
    }
}

/// The 8254 at ports 0x40-0x43, with the port 0x61 bits it shares (see
/// `SystemControlB`).
pub struct Pit {
    clock: Clock,
    irq0: IrqLine,
    counters: [Counter; 3],
    /// Pulse up to which IRQ0 reflects OUT0.
    irq_tick: u64,
    irq_level: bool,
    /// Port 0x61 bits 3:0 as written.
    nmisc: u8,
}

impl Pit {
    /// A PIT whose counter 0 drives `irq0`. Counters 0 and 1 have GATE tied high;
    /// counter 2's GATE is port 0x61 bit 0 (low at power-on). No counter counts until
    /// programmed.
    pub fn new(clock: Clock, irq0: IrqLine) -> Self {
        Self {
            clock,
            irq0,
            counters: [Counter::new(true), Counter::new(true), Counter::new(false)],
            irq_tick: 0,
            irq_level: false,
            nmisc: 0,
        }
    }

    fn now_tick(&self) -> u64 {
        ns_to_ticks(self.clock.now(), PIT_HZ).max(self.irq_tick)
    }

    /// Brings IRQ0 to OUT0's level after pulse `t`, with a fresh edge if OUT0 rose since
    /// the last update.
    fn sync_irq(&mut self, t: u64) {
        let c0 = &self.counters[0];
        let rose = c0.next_rising(self.irq_tick).is_some_and(|p| p <= t);
        let level = c0.out(t);
        if rose {
            if self.irq_level {
                self.irq0.lower();
            }
            self.irq0.raise();
            self.irq_level = true;
        }
        if level != self.irq_level {
            self.irq0.set(level);
            self.irq_level = level;
        }
        self.irq_tick = t;
    }

    /// OUT of `counter` (0-2) now.
    pub fn out(&self, counter: usize) -> bool {
        self.counters[counter % 3].out(self.now_tick())
    }

    /// Whether the speaker is driven: OUT2 gated by port 0x61 bit 1.
    pub fn speaker(&self) -> bool {
        self.nmisc & NMISC_SPKR_DAT_EN != 0 && self.out(2)
    }

    fn read_byte(&mut self, offset: u32) -> u8 {
        let t = self.now_tick();
        self.sync_irq(t);
        match offset {
            0..=2 => self.counters[offset as usize].read(t),
            _ => {
                tracing::debug!(offset, "8254: read of the control word register");
                0xff
            }
        }
    }

    fn write_byte(&mut self, offset: u32, v: u8) {
        let t = self.now_tick();
        self.sync_irq(t);
        match offset {
            0..=2 => self.counters[offset as usize].write(t, v),
            CONTROL => {
                let sc = v >> CW_SC_SHIFT;
                if sc == CW_SC_READ_BACK {
                    for (i, c) in self.counters.iter_mut().enumerate() {
                        if v & (RB_CNT0 << i) == 0 {
                            continue;
                        }
                        if v & RB_NOT_COUNT == 0 {
                            c.latch_count(t);
                        }
                        if v & RB_NOT_STATUS == 0 {
                            c.latch_status(t);
                        }
                    }
                } else {
                    self.counters[sc as usize].control(t, v);
                }
            }
            _ => tracing::debug!(offset, v, "8254: write outside the PIT"),
        }
        self.sync_irq(t);
    }

    /// Port 0x61 read: bits 3:0 as written, refresh toggle, OUT2.
    pub fn read_nmisc(&mut self) -> u8 {
        let t = self.now_tick();
        let mut v = self.nmisc;
        if (t / REFRESH_TICKS) & 1 != 0 {
            v |= NMISC_REF_TOGGLE;
        }
        if self.counters[2].out(t) {
            v |= NMISC_TIM2_OUT;
        }
        v
    }

    /// Port 0x61 write: bit 0 is counter 2's GATE, bit 1 the speaker data enable.
    pub fn write_nmisc(&mut self, v: u8) {
        let t = self.now_tick();
        self.nmisc = v & NMISC_RW_MASK;
        self.counters[2].set_gate(t, v & NMISC_TIM2_GATE != 0);
    }
}

impl BusDevice for Pit {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        (0..size.min(4) as u32).fold(0, |acc, i| {
            let port = offset.wrapping_add(i);
            let b = if port < PIT_PORTS as u32 {
                self.read_byte(port)
            } else {
                0xff
            };
            acc | (b as u32) << (8 * i)
        })
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        for i in 0..size.min(4) as u32 {
            let port = offset.wrapping_add(i);
            if port < PIT_PORTS as u32 {
                self.write_byte(port, (value >> (8 * i)) as u8);
            }
        }
    }

    fn name(&self) -> &str {
        "pit8254"
    }

    fn next_deadline(&self) -> Option<u64> {
        self.counters[0].next_rising(self.irq_tick).map(tick_to_ns)
    }

    fn advance(&mut self, now: u64) {
        let t = ns_to_ticks(now, PIT_HZ).max(self.irq_tick);
        self.sync_irq(t);
    }
}

/// Port 0x61, system control port B, sharing the PIT it gates.
pub struct SystemControlB {
    pit: Rc<RefCell<Pit>>,
}

impl SystemControlB {
    pub fn new(pit: Rc<RefCell<Pit>>) -> Self {
        Self { pit }
    }
}

impl BusDevice for SystemControlB {
    fn read(&mut self, _offset: u32, size: u8) -> u32 {
        let v = self.pit.borrow_mut().read_nmisc() as u32;
        v | (all_ones(size) & !0xff)
    }

    fn write(&mut self, _offset: u32, _size: u8, value: u32) {
        self.pit.borrow_mut().write_nmisc(value as u8);
    }

    fn name(&self) -> &str {
        "port61"
    }
}

/// Creates the PIT on `ports` (0x40-0x43 and 0x61) and returns it; the machine polls
/// its `next_deadline` and calls `advance`.
pub fn register(ports: &mut PortBus, clock: Clock, irq0: IrqLine) -> Rc<RefCell<Pit>> {
    let pit = Rc::new(RefCell::new(Pit::new(clock, irq0)));
    ports.register(PIT_BASE, PIT_PORTS, pit.clone());
    ports.register(
        PORT_B,
        1,
        Rc::new(RefCell::new(SystemControlB::new(pit.clone()))),
    );
    pit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::FakeIrqSink;

    struct Rig {
        clock: Clock,
        sink: Rc<FakeIrqSink>,
        ports: PortBus,
        pit: Rc<RefCell<Pit>>,
    }

    fn rig() -> Rig {
        let clock = Clock::new();
        let sink = FakeIrqSink::new();
        let mut ports = PortBus::new();
        let pit = register(&mut ports, clock.clone(), sink.line(0));
        Rig {
            clock,
            sink,
            ports,
            pit,
        }
    }

    impl Rig {
        /// Moves the clock to the first nanosecond after CLK pulse `tick`.
        fn at(&self, tick: u64) {
            self.clock.set(tick_to_ns(tick));
            assert_eq!(ns_to_ticks(self.clock.now(), PIT_HZ), tick);
        }

        fn outb(&mut self, port: u16, v: u8) {
            self.ports.write(port, 1, v as u32);
        }

        fn inb(&mut self, port: u16) -> u8 {
            self.ports.read(port, 1) as u8
        }

        /// Programs `counter` with control word `cw` and a two-byte count.
        fn program(&mut self, cw: u8, count: u16) {
            let port = PIT_BASE + (cw >> 6) as u16;
            self.outb(0x43, cw);
            self.outb(port, count as u8);
            self.outb(port, (count >> 8) as u8);
        }

        /// The count of `counter` through the counter latch command (word access).
        fn latched(&mut self, counter: u8) -> u16 {
            self.outb(0x43, counter << 6);
            let port = PIT_BASE + counter as u16;
            let lsb = self.inb(port);
            u16::from_le_bytes([lsb, self.inb(port)])
        }

        /// The status byte of `counter` through the read-back command.
        fn status(&mut self, counter: u8) -> u8 {
            self.outb(0x43, 0xc0 | RB_NOT_COUNT | (RB_CNT0 << counter));
            self.inb(PIT_BASE + counter as u16)
        }

        fn out0(&mut self) -> bool {
            self.status(0) & STATUS_OUTPUT != 0
        }

        fn deadline_tick(&self) -> Option<u64> {
            let d = self.pit.borrow().next_deadline()?;
            let tick = ns_to_ticks(d, PIT_HZ);
            // The deadline is the first nanosecond of that pulse: exact, not rounded.
            assert_eq!(ns_to_ticks(d - 1, PIT_HZ), tick - 1);
            Some(tick)
        }

        /// Runs the clock to the next deadline and services it.
        fn run_to_deadline(&mut self) -> u64 {
            let d = self.pit.borrow().next_deadline().expect("a deadline");
            self.clock.set(d);
            self.pit.borrow_mut().advance(d);
            ns_to_ticks(d, PIT_HZ)
        }
    }

    #[test]
    fn mode2_irq0_rising_edges_every_count_pulses() {
        let mut r = rig();
        let n = 1193; // ~1 kHz, as Linux programs it
        r.program(0x34, n as u16);
        // The control word takes OUT0 from its power-on low to mode 2's high: one edge.
        assert_eq!(r.sink.rising_edges(0), 1);
        for k in 1..=3000u64 {
            assert_eq!(r.deadline_tick(), Some(1 + k * n));
            assert_eq!(r.run_to_deadline(), 1 + k * n);
            assert_eq!(r.sink.rising_edges(0), 1 + k as usize);
            assert!(r.sink.level(0));
        }
        // OUT0 is low for exactly the one pulse before each reload.
        let next = 1 + 3001 * n;
        r.at(next - 2);
        assert!(r.out0());
        r.at(next - 1);
        assert!(!r.out0());
        assert_eq!(r.latched(0), 1);
        r.at(next);
        assert!(r.out0());
        assert_eq!(r.latched(0), n as u16);
    }

    #[test]
    fn mode2_long_gap_is_one_coalesced_edge_and_an_exact_deadline() {
        let mut r = rig();
        let n = 1193;
        r.program(0x34, n as u16);
        r.run_to_deadline();
        r.clock.advance(crate::clock::NS);
        let now = r.clock.now();
        r.pit.borrow_mut().advance(now);
        assert_eq!(
            r.sink.rising_edges(0),
            3,
            "programming, first period, the gap"
        );
        assert_eq!(
            r.sink.log.borrow()[r.sink.log.borrow().len() - 2..],
            [(0, false), (0, true)]
        );
        let t = ns_to_ticks(now, PIT_HZ);
        assert_eq!(r.deadline_tick(), Some(1 + ((t - 1) / n + 1) * n));
    }

    /// Samples OUT and CE of counter 0 at pulses `1..=expect.len()`.
    fn square_wave(count: u16, expect: &[(bool, u16)]) {
        let mut r = rig();
        r.program(0x36, count);
        assert!(r.out0(), "OUT high after the write");
        for (k, &(out, ce)) in expect.iter().enumerate() {
            r.at(k as u64 + 1);
            assert_eq!((r.out0(), r.latched(0)), (out, ce), "pulse {}", k + 1);
        }
    }

    #[test]
    fn mode3_even_count_square_wave() {
        let (h, l) = (true, false);
        square_wave(
            4,
            &[
                (h, 4),
                (h, 2),
                (l, 4),
                (l, 2),
                (h, 4),
                (h, 2),
                (l, 4),
                (l, 2),
                (h, 4),
            ],
        );
    }

    #[test]
    fn mode3_odd_count_high_one_pulse_longer() {
        // Datasheet: N-1 loaded, counts by two; high (N+1)/2, low (N-1)/2 pulses.
        let (h, l) = (true, false);
        square_wave(
            5,
            &[
                (h, 4),
                (h, 2),
                (h, 0),
                (l, 4),
                (l, 2),
                (h, 4),
                (h, 2),
                (h, 0),
                (l, 4),
                (l, 2),
                (h, 4),
            ],
        );
        let mut r = rig();
        r.program(0x36, 5);
        assert_eq!(r.run_to_deadline(), 6);
        assert_eq!(r.run_to_deadline(), 11);
        assert_eq!(r.sink.rising_edges(0), 3, "programming, then two periods");
    }

    #[test]
    fn mode3_bios_18hz_tick_uses_count_0_as_65536() {
        let mut r = rig();
        r.program(0x36, 0);
        assert_eq!(r.run_to_deadline(), 1 + 65536);
        r.at(1 + 65536 + 32767);
        assert!(r.out0());
        r.at(1 + 65536 + 32768);
        assert!(!r.out0());
        assert_eq!(r.run_to_deadline(), 1 + 2 * 65536);
    }

    #[test]
    fn mode0_interrupt_on_terminal_count_stays_high() {
        let mut r = rig();
        r.at(7);
        r.program(0x30, 10);
        assert!(!r.out0());
        assert!(!r.sink.level(0));
        r.at(8);
        assert_eq!(
            r.latched(0),
            10,
            "loaded on the first pulse, not decremented"
        );
        r.at(7 + 10);
        assert!(!r.out0());
        assert_eq!(r.latched(0), 1);
        assert_eq!(r.deadline_tick(), Some(7 + 11));
        assert_eq!(r.run_to_deadline(), 18);
        assert!(r.sink.level(0));
        assert_eq!(r.latched(0), 0);
        r.at(19);
        assert_eq!(r.latched(0), 0xffff, "the counter keeps wrapping");
        assert_eq!(r.deadline_tick(), None);
        r.at(100_000);
        r.pit.borrow_mut().advance(r.clock.now());
        assert!(r.out0() && r.sink.level(0));
        assert_eq!(r.sink.rising_edges(0), 1);

        // A new count: the first byte sets OUT low at once, the second restarts.
        r.outb(0x40, 3);
        assert!(!r.out0() && !r.sink.level(0));
        r.at(100_010);
        r.outb(0x40, 0);
        assert_eq!(r.deadline_tick(), Some(100_014));
    }

    #[test]
    fn mode4_software_strobe_low_for_one_pulse() {
        let mut r = rig();
        r.program(0x38, 100);
        let edges = r.sink.rising_edges(0);
        r.at(100);
        assert!(r.out0());
        r.at(101);
        assert!(!r.out0());
        assert_eq!(r.deadline_tick(), Some(102));
        assert_eq!(r.run_to_deadline(), 102);
        assert!(r.out0() && r.sink.level(0));
        assert_eq!(r.deadline_tick(), None);
        assert_eq!(r.sink.rising_edges(0), edges + 1);
    }

    #[test]
    fn counter_latch_holds_the_value_at_latch_time() {
        let mut r = rig();
        r.program(0x34, 1000);
        r.at(100);
        r.outb(0x43, 0x00);
        r.at(200);
        r.outb(0x43, 0x00); // ignored: the first latch is unread
        r.at(500);
        assert_eq!(r.inb(0x40), (901 & 0xff) as u8);
        r.at(600);
        assert_eq!(r.inb(0x40), (901 >> 8) as u8);
        // Released: reads follow the counter again.
        let live = u16::from_le_bytes([r.inb(0x40), r.inb(0x40)]);
        assert_eq!(live, 1000 - 599);
    }

    #[test]
    fn read_back_latches_status_and_count_of_several_counters() {
        let mut r = rig();
        r.outb(0x61, NMISC_TIM2_GATE);
        r.outb(0x43, 0x34);
        assert_eq!(r.status(0), 0x34 | STATUS_OUTPUT | STATUS_NULL_COUNT);
        r.outb(0x40, 0x10);
        r.outb(0x40, 0x00);
        assert_eq!(r.status(0), 0x34 | STATUS_OUTPUT | STATUS_NULL_COUNT);
        r.program(0xb0, 0x300); // counter 2, mode 0
        r.at(1);
        assert_eq!(r.status(0), 0x34 | STATUS_OUTPUT, "count loaded into CE");
        assert_eq!(r.status(2), 0x30);

        r.at(5);
        r.outb(0x43, 0xc0 | RB_CNT0 | (RB_CNT0 << 2));
        r.at(9000);
        assert_eq!(r.inb(0x40), 0x34 | STATUS_OUTPUT, "status first");
        assert_eq!(r.inb(0x40), 12);
        assert_eq!(r.inb(0x40), 0);
        assert_eq!(r.inb(0x42), 0x30);
        assert_eq!(u16::from_le_bytes([r.inb(0x42), r.inb(0x42)]), 0x300 - 4);
        // Status only: the count reads live.
        r.outb(0x43, 0xc0 | RB_NOT_COUNT | (RB_CNT0 << 2));
        assert_eq!(r.inb(0x42), 0x30 | STATUS_OUTPUT);
    }

    #[test]
    fn lsb_msb_flip_flops_and_single_byte_access() {
        let mut r = rig();
        r.outb(0x43, 0x30);
        r.outb(0x40, 0x34);
        r.outb(0x40, 0x12);
        r.at(5);
        // Read and write flip-flops are separate: read LSB, write LSB, read MSB, write MSB.
        assert_eq!(r.inb(0x40), 0x30);
        r.outb(0x40, 0x00);
        r.at(8);
        assert_eq!(r.inb(0x40), 0x12, "mode 0: the first byte stopped counting");
        r.outb(0x40, 0x20);
        r.at(9);
        assert_eq!(r.latched(0), 0x2000);

        r.outb(0x43, 0x50); // counter 1, LSB only, mode 0
        r.outb(0x41, 0x7f);
        r.at(10);
        assert_eq!(r.inb(0x41), 0x7f);
        assert_eq!(r.inb(0x41), 0x7f);
        r.outb(0x43, 0x64); // counter 1, MSB only, mode 2
        r.outb(0x41, 0x12);
        r.at(11);
        assert_eq!(r.inb(0x41), 0x12);
        r.at(12);
        assert_eq!(r.inb(0x41), 0x11);
        r.outb(0x43, 0x40);
        assert_eq!(r.inb(0x41), 0x11, "latched 0x11ff, MSB read");
    }

    #[test]
    fn bcd_counting() {
        let mut r = rig();
        r.program(0x35, 0x0100);
        r.at(1);
        assert_eq!(r.latched(0), 0x0100);
        r.at(2);
        assert_eq!(r.latched(0), 0x0099);
        r.at(50);
        assert_eq!(r.latched(0), 0x0051);
        assert_eq!(r.deadline_tick(), Some(101));

        let mut r = rig();
        r.program(0x31, 0); // mode 0, BCD, count 0 = 10000
        r.at(1);
        assert_eq!(r.latched(0), 0);
        r.at(2);
        assert_eq!(r.latched(0), 0x9999);
        assert_eq!(r.deadline_tick(), Some(10_001));
    }

    #[test]
    fn count_0_is_65536() {
        let mut r = rig();
        r.program(0x34, 0);
        r.at(1);
        assert_eq!(r.latched(0), 0);
        r.at(2);
        assert_eq!(r.latched(0), 0xffff);
        assert_eq!(r.run_to_deadline(), 65_537);
        assert_eq!(r.run_to_deadline(), 131_073);
    }

    #[test]
    fn counter2_gated_by_port61_and_read_back_in_bit5() {
        let mut r = rig();
        // Linux's PIT calibration: gate on, speaker off, mode 0, poll bit 5.
        let b = r.inb(0x61);
        r.outb(0x61, (b & !NMISC_SPKR_DAT_EN) | NMISC_TIM2_GATE);
        r.program(0xb0, 16);
        r.at(16);
        assert_eq!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        r.at(17);
        assert_eq!(r.inb(0x61) & NMISC_TIM2_OUT, NMISC_TIM2_OUT);
        assert_eq!(r.sink.log.borrow().len(), 0, "counter 2 is not IRQ0");

        // Written with GATE low: loaded, held, then N pulses after GATE rises.
        r.outb(0x61, 0);
        r.at(100);
        r.program(0xb0, 5);
        r.at(1000);
        assert_eq!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        assert_eq!(r.latched(2), 5);
        r.outb(0x61, NMISC_TIM2_GATE);
        r.at(1004);
        assert_eq!(r.inb(0x61) & !NMISC_REF_TOGGLE, NMISC_TIM2_GATE);
        r.at(1005);
        assert_eq!(
            r.inb(0x61) & !NMISC_REF_TOGGLE,
            NMISC_TIM2_GATE | NMISC_TIM2_OUT
        );

        // Mode 1: a GATE rising edge triggers a one-shot, low from the next pulse for N.
        r.outb(0x61, 0);
        r.program(0xb2, 3);
        r.at(2000);
        r.outb(0x61, NMISC_TIM2_GATE | NMISC_SPKR_DAT_EN);
        assert_ne!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        r.at(2001);
        assert_eq!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        assert!(!r.pit.borrow().speaker());
        r.at(2003);
        assert_eq!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        r.at(2004);
        assert_eq!(r.inb(0x61) & !NMISC_REF_TOGGLE, 0x03 | NMISC_TIM2_OUT);
        assert!(r.pit.borrow().speaker());

        // Mode 3 (speaker tone): GATE low forces OUT high, GATE high restarts the wave.
        r.program(0xb6, 4);
        r.at(2010);
        r.outb(0x61, 0);
        assert_ne!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        r.at(2050);
        assert_ne!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        r.outb(0x61, NMISC_TIM2_GATE);
        r.at(2052);
        assert_ne!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
        r.at(2053);
        assert_eq!(r.inb(0x61) & NMISC_TIM2_OUT, 0);
    }

    #[test]
    fn refresh_toggle_flips_every_18_pulses() {
        let mut r = rig();
        let bit = |r: &mut Rig, tick| {
            r.at(tick);
            r.inb(0x61) & NMISC_REF_TOGGLE
        };
        assert_eq!(bit(&mut r, 0), 0);
        assert_eq!(bit(&mut r, 17), 0);
        assert_eq!(bit(&mut r, 18), NMISC_REF_TOGGLE);
        assert_eq!(bit(&mut r, 35), NMISC_REF_TOGGLE);
        assert_eq!(bit(&mut r, 36), 0);
        // 15.085 µs of virtual time.
        assert_eq!(ticks_to_ns(18, PIT_HZ), 15_085);
    }

    #[test]
    fn mode2_new_count_takes_effect_after_the_current_period() {
        let mut r = rig();
        r.program(0x34, 100);
        r.at(50);
        r.outb(0x40, 30);
        r.outb(0x40, 0);
        assert_ne!(r.status(0) & STATUS_NULL_COUNT, 0);
        assert_eq!(r.run_to_deadline(), 101);
        assert_eq!(r.status(0) & STATUS_NULL_COUNT, 0);
        assert_eq!(r.latched(0), 30);
        assert_eq!(r.run_to_deadline(), 131);
        assert_eq!(r.run_to_deadline(), 161);
    }

    #[test]
    fn mode3_new_count_takes_effect_after_the_current_half_cycle() {
        let mut r = rig();
        r.program(0x36, 10); // high pulses 1-5, low 6-10
        r.at(2);
        r.outb(0x40, 4);
        r.outb(0x40, 0);
        r.at(5);
        assert!(r.out0());
        r.at(6);
        assert!(!r.out0(), "low half of the new count");
        assert_eq!(r.latched(0), 4);
        assert_eq!(r.run_to_deadline(), 8);
        assert_eq!(r.run_to_deadline(), 12);
    }

    /// Cross-checks `next_rising` against a pulse-by-pulse scan of `out`, and that no
    /// sequence of guest writes panics.
    #[test]
    fn random_programming_is_consistent() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut r = rig();
            for _ in 0..12 {
                let port = [0x40, 0x42, 0x43, 0x43, 0x61][(rnd() % 5) as usize];
                let mut v = rnd() as u8;
                if port == 0x43 && rnd() % 2 == 0 {
                    v &= 0x3f; // counter 0
                }
                if port == 0x40 {
                    v &= 0x0f; // short counts, so the scan sees edges
                }
                r.outb(port, v);
                r.inb(PIT_BASE + (rnd() % 4) as u16);
                let t = ns_to_ticks(r.clock.now(), PIT_HZ) + rnd() % 40;
                r.at(t);
                let pit = r.pit.borrow();
                for c in &pit.counters {
                    let scan = (t + 1..t + 600).find(|&p| c.rises_at(p));
                    match c.next_rising(t) {
                        Some(p) if p < t + 600 => assert_eq!(Some(p), scan),
                        Some(_) => assert_eq!(scan, None),
                        None => assert_eq!(scan, None),
                    }
                }
            }
        }
    }

    /// A pulse-by-pulse model of one counter, written straight from the datasheet's
    /// mode descriptions, to check the closed forms against.
    struct Stepper {
        mode: u8,
        m: u32,
        cr: Option<u32>,
        cur: u32,
        ce: u32,
        out: bool,
        load_next: bool,
        stopped: bool,
        armed: bool,
        gate: bool,
        trigger: bool,
        null: bool,
    }

    impl Stepper {
        fn control(&mut self, mode: u8, bcd: bool) {
            self.ce %= self.m;
            self.mode = mode;
            self.m = if bcd { 10_000 } else { 0x1_0000 };
            self.cr = None;
            self.out = mode != 0;
            self.load_next = false;
            self.stopped = true;
            self.armed = false;
            self.trigger = false;
            self.null = true;
        }

        fn first_byte_mode0(&mut self) {
            self.out = false;
            self.stopped = true;
            self.load_next = false;
        }

        fn count(&mut self, n: u32) {
            self.cr = Some(n);
            self.null = true;
            match self.mode {
                0 | 4 => {
                    if self.mode == 0 {
                        self.out = false;
                    }
                    self.load_next = true;
                }
                2 | 3 if self.stopped => self.load_next = true,
                _ => {}
            }
        }

        fn set_gate(&mut self, g: bool) {
            if g && !self.gate && self.cr.is_some() && self.mode != 0 && self.mode != 4 {
                self.trigger = true;
            }
            if !g && matches!(self.mode, 2 | 3) {
                self.out = true;
            }
            self.gate = g;
        }

        fn dec(&self, v: u32, by: u32) -> u32 {
            (v + self.m - by) % self.m
        }

        fn load(&mut self) {
            self.cur = self.cr.unwrap_or(1);
            self.null = false;
            self.stopped = false;
            self.armed = true;
            self.ce = if self.mode == 3 {
                self.cur & !1
            } else {
                self.cur
            };
        }

        fn pulse(&mut self) {
            let enabled = matches!(self.mode, 1 | 5) || self.gate;
            match self.mode {
                0 | 4 => {
                    if self.mode == 4 && self.armed && !self.out {
                        self.out = true;
                        self.armed = false;
                    }
                    if self.load_next {
                        self.load_next = false;
                        self.load();
                        if self.mode == 4 {
                            self.out = true;
                        }
                    } else if !self.stopped && enabled {
                        self.ce = self.dec(self.ce, 1);
                        if self.ce == 0 && self.armed {
                            // Mode 0: OUT high for good; mode 4: a one-pulse strobe.
                            self.out = self.mode == 0;
                            self.armed = self.mode == 4;
                        }
                    }
                }
                1 | 5 => {
                    if self.mode == 5 && self.armed && !self.out {
                        self.out = true;
                        self.armed = false;
                    }
                    if self.trigger {
                        self.trigger = false;
                        self.load();
                        self.out = self.mode == 5;
                    } else if !self.stopped {
                        self.ce = self.dec(self.ce, 1);
                        if self.ce == 0 && self.armed {
                            self.out = self.mode == 1;
                            if self.mode == 1 {
                                self.armed = false;
                            }
                        }
                    }
                }
                _ => {
                    if self.load_next || self.trigger {
                        self.load_next = false;
                        self.trigger = false;
                        self.load();
                        self.out = true;
                    } else if !self.stopped && enabled {
                        if self.mode == 2 {
                            if self.ce == 1 {
                                self.load();
                                self.out = true;
                            } else {
                                self.ce -= 1;
                                self.out = self.ce != 1;
                            }
                        } else if self.ce == 0 {
                            // Odd count: OUT falls one pulse after the count expires.
                            self.load();
                            self.out = false;
                        } else {
                            self.ce -= 2;
                            if self.ce == 0 && !(self.out && self.cur % 2 == 1) {
                                let out = !self.out;
                                self.load();
                                self.out = out;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Random programming and GATE changes on counter 2, compared pulse by pulse with
    /// the stepper (legal counts only: at least 2 in modes 2 and 3).
    #[test]
    fn closed_forms_match_a_pulse_by_pulse_model() {
        let mut seed = 0x0dd_c0ffee_u64;
        let mut rnd = move |k: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % k
        };
        for round in 0..400 {
            let mut c = Counter::new(false);
            let mut s = Stepper {
                mode: 0,
                m: 0x1_0000,
                cr: None,
                cur: 1,
                ce: 0,
                out: false,
                load_next: false,
                stopped: true,
                armed: false,
                gate: false,
                trigger: false,
                null: true,
            };
            let mut t = 1000u64;
            let mut mode = 0;
            let mut bcd = false;
            for step in 0..30 {
                match rnd(6) {
                    0 => {
                        mode = rnd(6) as u8;
                        bcd = rnd(4) == 0;
                        c.control(t, (RW_LSB_MSB << CW_RW_SHIFT) | mode << 1 | bcd as u8);
                        s.control(mode, bcd);
                    }
                    1 | 2 => {
                        let n = if matches!(mode, 2 | 3) {
                            2 + rnd(20)
                        } else {
                            rnd(20)
                        };
                        let cr = if bcd { to_bcd(n as u32) } else { n as u16 };
                        c.write(t, cr as u8);
                        if mode == 0 && rnd(3) == 0 {
                            s.first_byte_mode0();
                            t += rnd(3);
                        }
                        c.write(t, (cr >> 8) as u8);
                        s.count(c.effective(cr));
                    }
                    _ => {
                        let g = rnd(3) != 0;
                        c.set_gate(t, g);
                        s.set_gate(g);
                    }
                }
                let until = t + rnd(60);
                loop {
                    if s.cr.is_some() {
                        let (ce, out) = c.eval(t);
                        let want = (s.ce % s.m, s.out, s.null);
                        assert_eq!(
                            (ce % s.m, out, c.null_count(t)),
                            want,
                            "round {round} step {step} tick {t} mode {mode}"
                        );
                    }
                    if t == until {
                        break;
                    }
                    t += 1;
                    s.pulse();
                }
            }
        }
    }
}
