//! ACPI fixed-feature power-management registers (ACPI Specification 6.5, §4.8
//! "ACPI Hardware Features": PM1 event and control blocks, §4.8.3.3 the power-management
//! timer), the block the FADT points the OS at.
//!
//! One I/O block of 12 bytes, laid out as on PIIX4-style chipsets:
//!
//! | offset | register  | width | ACPI name      |
//! |--------|-----------|-------|----------------|
//! | 0      | PM1_STS   | 2     | PM1a_EVT_BLK   |
//! | 2      | PM1_EN    | 2     |                |
//! | 4      | PM1_CNT   | 2     | PM1a_CNT_BLK   |
//! | 8      | PM_TMR    | 4     | PM_TMR_BLK     |
//!
//! The timer is the 24-bit, 3.579545 MHz counter (TMR_VAL_EXT = 0); TMR_STS is set
//! each time its bit 23 changes, and raises the SCI when TMR_EN and SCI_EN are set.
//! Writing SLP_EN with SLP_TYP = [`SLP_TYP_S5`] asks the board to power off (the
//! DSDT's `\_S5` package carries the same value). There is no SMI command port: the
//! FADT's SMI_CMD is 0, so the OS finds the hardware already in ACPI mode (SCI_EN = 1).

use std::rc::Rc;

use crate::bus::BusDevice;
use crate::{Clock, IrqLine, Signals};

/// Register offsets within the block.
pub const PM1_STS: u32 = 0;
pub const PM1_EN: u32 = 2;
pub const PM1_CNT: u32 = 4;
pub const PM_TMR: u32 = 8;
/// The block's length in I/O ports.
pub const LEN: u16 = 12;

/// PM1_STS / PM1_EN bits (ACPI §4.8.3.1).
pub const TMR_STS: u16 = 1 << 0;
pub const BM_STS: u16 = 1 << 4;
pub const GBL_STS: u16 = 1 << 5;
pub const PWRBTN_STS: u16 = 1 << 8;
pub const SLPBTN_STS: u16 = 1 << 9;
pub const RTC_STS: u16 = 1 << 10;
pub const WAK_STS: u16 = 1 << 15;
/// The status bits that exist here; the rest read 0.
const STS_MASK: u16 = TMR_STS | BM_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS | WAK_STS;
/// The enable bits that exist (TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN).
const EN_MASK: u16 = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS;

/// PM1_CNT bits (ACPI §4.8.3.2.1).
pub const SCI_EN: u16 = 1 << 0;
pub const BM_RLD: u16 = 1 << 1;
pub const GBL_RLS: u16 = 1 << 2;
pub const SLP_TYP_SHIFT: u16 = 10;
pub const SLP_TYP_MASK: u16 = 7 << SLP_TYP_SHIFT;
pub const SLP_EN: u16 = 1 << 13;
/// The SLP_TYP value this board treats as S5 (soft off); the DSDT's `\_S5` says so too.
pub const SLP_TYP_S5: u16 = 5;

/// The power-management timer's frequency (ACPI §4.8.3.3).
pub const PM_TIMER_HZ: u64 = 3_579_545;

pub struct AcpiPm {
    clock: Clock,
    sci: IrqLine,
    signals: Rc<Signals>,
    sts: u16,
    en: u16,
    cnt: u16,
    /// The number of bit-23 transitions of the timer already reflected in TMR_STS.
    timer_edges_seen: u64,
    sci_level: bool,
}

impl AcpiPm {
    pub fn new(clock: Clock, sci: IrqLine, signals: Rc<Signals>) -> Self {
        let mut pm = Self {
            clock,
            sci,
            signals,
            sts: 0,
            en: 0,
            cnt: SCI_EN,
            timer_edges_seen: 0,
            sci_level: false,
        };
        pm.timer_edges_seen = pm.timer_edges();
        pm
    }

    /// The timer's tick count since power-on, unwrapped.
    fn ticks(&self) -> u64 {
        (self.clock.now() as u128 * PM_TIMER_HZ as u128 / 1_000_000_000) as u64
    }

    /// The PM_TMR register: the low 24 bits of the tick count.
    pub fn timer(&self) -> u32 {
        (self.ticks() & 0xff_ffff) as u32
    }

    /// How many times bit 23 of the counter has changed since power-on.
    fn timer_edges(&self) -> u64 {
        self.ticks() >> 23
    }

    /// Folds timer carries into TMR_STS and drives the SCI level.
    fn update(&mut self) {
        let edges = self.timer_edges();
        if edges != self.timer_edges_seen {
            self.timer_edges_seen = edges;
            self.sts |= TMR_STS;
        }
        let level = self.cnt & SCI_EN != 0 && self.sts & self.en & EN_MASK != 0;
        if level != self.sci_level {
            self.sci_level = level;
            self.sci.set(level);
        }
    }

    /// A power-on reset of the chipset: events disabled, status clear, ACPI mode kept
    /// (the firmware would enable it again at once).
    pub fn reset(&mut self) {
        self.sts = 0;
        self.en = 0;
        self.cnt = SCI_EN;
        self.timer_edges_seen = self.timer_edges();
        self.update();
    }

    fn read_byte(&mut self, offset: u32) -> u8 {
        let word = |v: u16| (v >> ((offset & 1) * 8)) as u8;
        match offset {
            0..=1 => word(self.sts),
            2..=3 => word(self.en),
            // SLP_EN and GBL_RLS are write-only and read as 0.
            4..=5 => word(self.cnt & !(SLP_EN | GBL_RLS)),
            8..=11 => (self.timer() >> ((offset - 8) * 8)) as u8,
            _ => 0,
        }
    }

    /// A write of `value` to the bytes of the 16-bit register at `reg` selected by
    /// `mask`.
    fn write_reg(&mut self, reg: u32, value: u16, mask: u16) {
        match reg {
            PM1_STS => self.sts &= !(value & mask & STS_MASK),
            PM1_EN => self.en = (self.en & !mask) | (value & mask & EN_MASK),
            PM1_CNT => {
                let v = (self.cnt & !mask) | (value & mask);
                // SCI_EN is owned by the firmware's ACPI-mode switch, which this board
                // does not have: it stays set.
                self.cnt = (v & (BM_RLD | SLP_TYP_MASK)) | SCI_EN;
                if value & mask & SLP_EN != 0 {
                    let typ = (v & SLP_TYP_MASK) >> SLP_TYP_SHIFT;
                    if typ == SLP_TYP_S5 {
                        self.signals.power_off.set(true);
                    } else {
                        tracing::debug!(typ, "acpi: sleep type not supported, ignored");
                    }
                }
            }
            _ => tracing::debug!(reg, value, "acpi: write to a read-only register"),
        }
    }
}

impl BusDevice for AcpiPm {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        self.update();
        (0..size as u32).fold(0, |acc, i| {
            acc | (self.read_byte(offset.wrapping_add(i)) as u32) << (8 * i)
        })
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        self.update();
        // Split the access into the 16-bit registers it touches.
        for i in 0..size as u32 {
            let byte = offset.wrapping_add(i);
            let v = ((value >> (8 * i)) & 0xff) as u16;
            let shift = (byte & 1) * 8;
            self.write_reg(byte & !1, v << shift, 0xff << shift);
        }
        self.update();
    }

    fn name(&self) -> &str {
        "acpi-pm"
    }

    fn next_deadline(&self) -> Option<u64> {
        if self.en & TMR_STS == 0 || self.sts & TMR_STS != 0 {
            return None;
        }
        // The first nanosecond at which the tick count reaches the next bit-23 edge.
        let next_tick = (self.timer_edges_seen + 1) << 23;
        Some((next_tick as u128 * 1_000_000_000).div_ceil(PM_TIMER_HZ as u128) as u64)
    }

    fn advance(&mut self, _now: u64) {
        self.update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::FakeIrqSink;

    fn pm() -> (AcpiPm, Clock, Rc<FakeIrqSink>, Rc<Signals>) {
        let clock = Clock::new();
        let sink = FakeIrqSink::new();
        let signals = Signals::new();
        let pm = AcpiPm::new(clock.clone(), sink.line(9), signals.clone());
        (pm, clock, sink, signals)
    }

    #[test]
    fn timer_counts_at_3_579545_mhz_and_wraps_at_24_bits() {
        let (mut pm, clock, _, _) = pm();
        assert_eq!(pm.read(PM_TMR, 4), 0);
        clock.set(1_000_000_000);
        assert_eq!(pm.read(PM_TMR, 4), 3_579_545);
        // 2^24 ticks = 4.687 s: the count wraps.
        clock.set(5_000_000_000);
        assert_eq!(pm.read(PM_TMR, 4), (17_897_725 & 0xff_ffff) as u32);
        // Byte reads see the same count.
        let lo = pm.read(PM_TMR, 1);
        let hi = pm.read(PM_TMR + 2, 1);
        assert_eq!(lo | hi << 16, 17_897_725 & 0xff_00ff);
    }

    #[test]
    fn sci_en_reads_set_and_slp_en_reads_zero() {
        let (mut pm, _, _, signals) = pm();
        assert_eq!(pm.read(PM1_CNT, 2), SCI_EN as u32);
        // S1 is not supported: nothing happens, SLP_EN is not kept.
        pm.write(PM1_CNT, 2, (1 << SLP_TYP_SHIFT | SLP_EN) as u32);
        assert!(!signals.power_off.get());
        assert_eq!(pm.read(PM1_CNT, 2), (1 << SLP_TYP_SHIFT | SCI_EN) as u32);
    }

    #[test]
    fn s5_with_slp_en_powers_off() {
        let (mut pm, _, _, signals) = pm();
        // SLP_TYP alone does not sleep.
        pm.write(PM1_CNT, 2, (SLP_TYP_S5 << SLP_TYP_SHIFT) as u32);
        assert!(!signals.power_off.get());
        // The high byte alone, as `outb` to PM1_CNT + 1 does.
        pm.write(
            PM1_CNT + 1,
            1,
            ((SLP_TYP_S5 << SLP_TYP_SHIFT | SLP_EN) >> 8) as u32,
        );
        assert!(signals.power_off.get());
    }

    #[test]
    fn timer_carry_sets_tmr_sts_and_raises_sci_when_enabled() {
        let (mut pm, clock, sink, _) = pm();
        pm.write(PM1_EN, 2, TMR_STS as u32);
        let deadline = pm.next_deadline().expect("timer enabled");
        // Bit 23 first changes at tick 2^23 = 2.3435 s.
        assert_eq!(deadline, 2_343_484_438);
        clock.set(deadline - 1);
        pm.advance(deadline - 1);
        assert_eq!(pm.read(PM1_STS, 2) as u16 & TMR_STS, 0);
        assert!(!sink.level(9));
        clock.set(deadline);
        pm.advance(deadline);
        assert_eq!(pm.read(PM1_STS, 2) as u16 & TMR_STS, TMR_STS);
        assert!(sink.level(9));
        // No deadline while the status is pending; write-1-to-clear drops the SCI.
        assert_eq!(pm.next_deadline(), None);
        pm.write(PM1_STS, 2, TMR_STS as u32);
        assert_eq!(pm.read(PM1_STS, 2), 0);
        assert!(!sink.level(9));
        // The next edge is one bit-23 period later.
        assert_eq!(pm.next_deadline(), Some(4_686_968_875));
    }

    #[test]
    fn status_without_enable_does_not_raise_sci() {
        let (mut pm, clock, sink, _) = pm();
        clock.set(3_000_000_000);
        assert_eq!(pm.read(PM1_STS, 2) as u16, TMR_STS);
        assert!(!sink.level(9));
        // Enabling it with the status pending raises the SCI at once.
        pm.write(PM1_EN, 1, TMR_STS as u32);
        assert!(sink.level(9));
        // Bits that do not exist stay 0.
        pm.write(PM1_EN, 2, 0xffff);
        assert_eq!(pm.read(PM1_EN, 2) as u16, EN_MASK);
    }

    #[test]
    fn reset_clears_events() {
        let (mut pm, clock, sink, _) = pm();
        pm.write(PM1_EN, 2, TMR_STS as u32);
        clock.set(3_000_000_000);
        pm.advance(3_000_000_000);
        assert!(sink.level(9));
        pm.reset();
        assert!(!sink.level(9));
        assert_eq!(pm.read(PM1_STS, 2), 0);
        assert_eq!(pm.read(PM1_EN, 2), 0);
        assert_eq!(pm.read(PM1_CNT, 2), SCI_EN as u32);
    }
}
