//! The PC real-time clock and CMOS RAM: a Motorola MC146818A (datasheet "MC146818A
//! Real-Time Clock Plus RAM", Motorola; register descriptions in "Registers A-D",
//! "Time, Calendar and Alarm Locations", "Update Cycle" and "Interrupts", with the
//! periodic rates of "Table 5 — Periodic Interrupt Rate and Square-Wave Output
//! Frequency"), wired as on the IBM PC/AT: index register at port 0x70 (bit 7 of the
//! written value is the NMI-disable latch, not part of the index), data at port 0x71,
//! IRQ output to IRQ8. The century byte at 0x32 and the memory-size fields follow the
//! IBM PC/AT Technical Reference "CMOS RAM Address Map".
//!
//! Time is kept as seconds since 1970-01-01 UTC plus a free-running day-of-week
//! counter; the time registers are encoded in the current data mode (register B DM,
//! 24/12) when read. The divider chain runs off the virtual `Clock` at the 32.768 kHz
//! time base: an update every 32768 ticks, UIP high for the 8 ticks (244 µs) before it,
//! and periodic-interrupt edges every 2^(RS-1) ticks. State is brought up to date lazily
//! on every access and in `advance`, so behaviour is a pure function of the register
//! writes and the clock.

use crate::bus::BusDevice;
use crate::clock::{Clock, NS};
use crate::irq::IrqLine;

/// Port offsets relative to the base (0x70 on a PC).
const PORT_INDEX: u32 = 0;
const PORT_DATA: u32 = 1;

/// Index-port bit 7: NMI disable (PC/AT wiring, not an MC146818A address bit).
pub const NMI_DISABLE: u8 = 0x80;

// Time, calendar and alarm locations.
pub const RTC_SECONDS: u8 = 0x00;
pub const RTC_SECONDS_ALARM: u8 = 0x01;
pub const RTC_MINUTES: u8 = 0x02;
pub const RTC_MINUTES_ALARM: u8 = 0x03;
pub const RTC_HOURS: u8 = 0x04;
pub const RTC_HOURS_ALARM: u8 = 0x05;
pub const RTC_DAY_OF_WEEK: u8 = 0x06;
pub const RTC_DAY_OF_MONTH: u8 = 0x07;
pub const RTC_MONTH: u8 = 0x08;
pub const RTC_YEAR: u8 = 0x09;
pub const RTC_REG_A: u8 = 0x0a;
pub const RTC_REG_B: u8 = 0x0b;
pub const RTC_REG_C: u8 = 0x0c;
pub const RTC_REG_D: u8 = 0x0d;
/// PC/AT: shutdown status byte (plain RAM).
pub const CMOS_SHUTDOWN_STATUS: u8 = 0x0f;
/// PC/AT: century, kept in the same data mode as the year.
pub const RTC_CENTURY: u8 = 0x32;

// PC/AT CMOS map fields written by `set_memory_sizes` / `update_checksum`.
pub const CMOS_BASE_MEM_LO: u8 = 0x15;
pub const CMOS_BASE_MEM_HI: u8 = 0x16;
pub const CMOS_EXT_MEM_LO: u8 = 0x17;
pub const CMOS_EXT_MEM_HI: u8 = 0x18;
pub const CMOS_CHECKSUM_START: u8 = 0x10;
pub const CMOS_CHECKSUM_END: u8 = 0x2d;
pub const CMOS_CHECKSUM_HI: u8 = 0x2e;
pub const CMOS_CHECKSUM_LO: u8 = 0x2f;
pub const CMOS_EXT_MEM2_LO: u8 = 0x30;
pub const CMOS_EXT_MEM2_HI: u8 = 0x31;
pub const CMOS_MEM_ABOVE_16M_LO: u8 = 0x34;
pub const CMOS_MEM_ABOVE_16M_HI: u8 = 0x35;

// Register A.
pub const REG_A_UIP: u8 = 0x80;
pub const REG_A_DV_MASK: u8 = 0x70;
/// DV2-0 = 010: 32.768 kHz time base, divider chain running.
pub const REG_A_DV_32K: u8 = 0x20;
/// DV2-0 = 11x: divider chain held in reset.
pub const REG_A_DV_RESET: u8 = 0x60;
pub const REG_A_RS_MASK: u8 = 0x0f;

// Register B.
pub const REG_B_SET: u8 = 0x80;
pub const REG_B_PIE: u8 = 0x40;
pub const REG_B_AIE: u8 = 0x20;
pub const REG_B_UIE: u8 = 0x10;
pub const REG_B_SQWE: u8 = 0x08;
pub const REG_B_DM: u8 = 0x04;
pub const REG_B_24H: u8 = 0x02;
pub const REG_B_DSE: u8 = 0x01;

// Register C.
pub const REG_C_IRQF: u8 = 0x80;
pub const REG_C_PF: u8 = 0x40;
pub const REG_C_AF: u8 = 0x20;
pub const REG_C_UF: u8 = 0x10;

// Register D.
pub const REG_D_VRT: u8 = 0x80;

/// Hours byte bit 7 in 12-hour mode.
const HOURS_PM: u8 = 0x80;
/// Alarm bytes with both top bits set match any value ("don't care", 11XXXXXX).
const ALARM_DONT_CARE: u8 = 0xc0;

/// Time-base frequency with DV2-0 = 010.
const TIME_BASE_HZ: u64 = 32_768;
/// One update cycle per second of the time base.
const TICKS_PER_UPDATE: u64 = TIME_BASE_HZ;
/// UIP rises 244 µs (8 time-base ticks) before the update.
const UIP_TICKS: u64 = 8;
/// After the divider reset is released (11x -> 010) the first update comes 500 ms later.
const TICKS_AFTER_DIVIDER_RESET: u64 = TIME_BASE_HZ / 2;

const SECS_PER_DAY: i64 = 86_400;
/// Latest epoch accepted from the machine: 9999-12-31 23:59:59 UTC.
const MAX_EPOCH: u64 = 253_402_300_799;

/// Periodic interrupt period in time-base ticks for RS3-0 (datasheet Table 5, 32.768
/// kHz column): 0 = none, 1 and 2 repeat the rates of 8 and 9, 3..15 = 2^(RS-1).
fn periodic_ticks(rs: u8) -> Option<u64> {
    match rs & REG_A_RS_MASK {
        0 => None,
        1 => Some(1 << 7),
        2 => Some(1 << 8),
        rs => Some(1 << (rs - 1)),
    }
}

/// Days since 1970-01-01 of a proleptic-Gregorian date (month 1-12, any day).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day 1-31) of a day number counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of week as the RTC counts it (1 = Sunday) for a day number; 1970-01-01 was a
/// Thursday.
fn weekday(days: i64) -> u8 {
    ((days + 4).rem_euclid(7) + 1) as u8
}

/// The MC146818A with the PC's 128 bytes of CMOS RAM.
pub struct Cmos {
    clock: Clock,
    irq: IrqLine,
    irq_level: bool,
    /// RAM 0x00-0x7F. Time bytes (0x00, 0x02, 0x04, 0x06-0x09, 0x32) hold the guest's
    /// values only while SET is 1; otherwise they are encoded from `secs` on read.
    /// Bytes 0x0A-0x0D are unused here (the registers live in `reg_*`).
    ram: [u8; 128],
    index: u8,
    nmi_disabled: bool,
    reg_a: u8,
    reg_b: u8,
    reg_c: u8,
    /// Current time, seconds since 1970-01-01 00:00:00.
    secs: i64,
    /// The day-of-week counter (1 = Sunday); the chip advances it at midnight rather
    /// than deriving it from the date, so a guest-written value is kept.
    dow: u8,
    /// Divider chain position: `base_ticks` time-base ticks at virtual `base_ns`.
    base_ns: u64,
    base_ticks: u64,
    /// Chain position up to which updates and periodic edges have been accounted.
    last_ticks: u64,
}

impl Cmos {
    /// A running clock showing `epoch_secs` (seconds since 1970-01-01 UTC) at the
    /// current virtual time, register A = 0x26 (32.768 kHz, 1024 Hz), register B = 0x02
    /// (24-hour, BCD), as a PC BIOS leaves it. The first update is one second later.
    /// `irq` is IRQ8.
    pub fn new(clock: Clock, irq: IrqLine, epoch_secs: u64) -> Self {
        let secs = epoch_secs.min(MAX_EPOCH) as i64;
        let now = clock.now();
        Self {
            clock,
            irq,
            irq_level: false,
            ram: [0; 128],
            index: 0,
            nmi_disabled: false,
            reg_a: REG_A_DV_32K | 0x06,
            reg_b: REG_B_24H,
            reg_c: 0,
            secs,
            dow: weekday(secs.div_euclid(SECS_PER_DAY)),
            base_ns: now,
            base_ticks: 0,
            last_ticks: 0,
        }
    }

    /// True while the last index-port write had bit 7 set (NMI masked).
    pub fn nmi_disabled(&self) -> bool {
        self.nmi_disabled
    }

    /// Writes CMOS location `index & 0x7F` as the guest would through port 0x71
    /// (registers and time bytes keep their semantics; everything else is RAM).
    pub fn set_byte(&mut self, index: u8, value: u8) {
        self.catch_up(self.clock.now());
        self.write_reg(index & 0x7f, value);
    }

    /// Reads CMOS location `index & 0x7F` without side effects (register C is not
    /// cleared).
    pub fn byte(&mut self, index: u8) -> u8 {
        self.catch_up(self.clock.now());
        self.peek(index & 0x7f)
    }

    /// Fills the PC/AT memory-size fields for `ram_bytes` of RAM: base memory 640 KiB
    /// (0x15/0x16), KiB above 1 MiB capped at 0xFFFF (0x17/0x18 and 0x30/0x31), and
    /// 64 KiB units above 16 MiB capped at 0xFFFF (0x34/0x35). Call `update_checksum`
    /// afterwards.
    pub fn set_memory_sizes(&mut self, ram_bytes: u64) {
        const MIB: u64 = 1 << 20;
        let put16 = |ram: &mut [u8; 128], lo: u8, v: u64| {
            let v = v.min(0xffff) as u16;
            ram[lo as usize] = v as u8;
            ram[lo as usize + 1] = (v >> 8) as u8;
        };
        put16(&mut self.ram, CMOS_BASE_MEM_LO, 640);
        let ext_kib = ram_bytes.saturating_sub(MIB) / 1024;
        put16(&mut self.ram, CMOS_EXT_MEM_LO, ext_kib);
        put16(&mut self.ram, CMOS_EXT_MEM2_LO, ext_kib);
        let above_16m = ram_bytes.saturating_sub(16 * MIB) / (64 * 1024);
        put16(&mut self.ram, CMOS_MEM_ABOVE_16M_LO, above_16m);
    }

    /// Stores the PC/AT checksum (16-bit sum of 0x10-0x2D) at 0x2E (high) / 0x2F (low).
    pub fn update_checksum(&mut self) {
        let sum = self.ram[CMOS_CHECKSUM_START as usize..=CMOS_CHECKSUM_END as usize]
            .iter()
            .fold(0u16, |s, &b| s.wrapping_add(b as u16));
        self.ram[CMOS_CHECKSUM_HI as usize] = (sum >> 8) as u8;
        self.ram[CMOS_CHECKSUM_LO as usize] = sum as u8;
    }

    fn binary(&self) -> bool {
        self.reg_b & REG_B_DM != 0
    }

    fn encode(&self, v: u8) -> u8 {
        if self.binary() {
            v
        } else {
            ((v / 10 % 10) << 4) | (v % 10)
        }
    }

    fn decode(&self, v: u8) -> i64 {
        if self.binary() {
            v as i64
        } else {
            (v >> 4) as i64 * 10 + (v & 0x0f) as i64
        }
    }

    fn encode_hours(&self, h: u8) -> u8 {
        if self.reg_b & REG_B_24H != 0 {
            self.encode(h)
        } else {
            let pm = if h >= 12 { HOURS_PM } else { 0 };
            let h12 = match h % 12 {
                0 => 12,
                h => h,
            };
            self.encode(h12) | pm
        }
    }

    fn decode_hours(&self, v: u8) -> i64 {
        if self.reg_b & REG_B_24H != 0 {
            self.decode(v)
        } else {
            let h = self.decode(v & !HOURS_PM) % 12;
            if v & HOURS_PM != 0 {
                h + 12
            } else {
                h
            }
        }
    }

    /// The encoded (seconds, minutes, hours) bytes of a time of day, as the alarm
    /// comparison sees them.
    fn encode_hms(&self, secs: i64) -> [u8; 3] {
        let sod = secs.rem_euclid(SECS_PER_DAY);
        [
            self.encode((sod % 60) as u8),
            self.encode((sod / 60 % 60) as u8),
            self.encode_hours((sod / 3600) as u8),
        ]
    }

    /// The time and calendar bytes for the current time, in the current data mode.
    fn encode_time(&self, index: u8) -> u8 {
        let days = self.secs.div_euclid(SECS_PER_DAY);
        let [s, m, h] = self.encode_hms(self.secs);
        let (year, month, day) = civil_from_days(days);
        match index {
            RTC_SECONDS => s,
            RTC_MINUTES => m,
            RTC_HOURS => h,
            RTC_DAY_OF_WEEK => self.encode(self.dow),
            RTC_DAY_OF_MONTH => self.encode(day as u8),
            RTC_MONTH => self.encode(month as u8),
            RTC_YEAR => self.encode(year.rem_euclid(100) as u8),
            _ => self.encode(year.div_euclid(100).rem_euclid(100) as u8),
        }
    }

    /// Copies the current time into the RAM time bytes (entering SET mode, or before a
    /// single time byte is rewritten).
    fn materialize_time(&mut self) {
        for i in TIME_BYTES {
            self.ram[i as usize] = self.encode_time(i);
        }
    }

    /// Takes the time bytes in RAM as the new time base. Out-of-range fields carry into
    /// the next larger unit (second 0x61 is a minute and a second) rather than panic.
    fn load_time(&mut self) {
        let r = |i: u8| self.ram[i as usize];
        let sec = self.decode(r(RTC_SECONDS));
        let min = self.decode(r(RTC_MINUTES));
        let hour = self.decode_hours(r(RTC_HOURS));
        let day = self.decode(r(RTC_DAY_OF_MONTH));
        let month = self.decode(r(RTC_MONTH));
        let year = self.decode(r(RTC_CENTURY)) * 100 + self.decode(r(RTC_YEAR));
        // Month 0 or >12: fold into the year so the calendar code sees 1-12.
        let m0 = month - 1;
        let year = year + m0.div_euclid(12);
        let month = m0.rem_euclid(12) as u32 + 1;
        let days = days_from_civil(year, month, 1) + day - 1;
        self.secs = days * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
        self.dow = self.decode(r(RTC_DAY_OF_WEEK)) as u8;
    }

    fn divider_running(&self) -> bool {
        self.reg_a & REG_A_DV_MASK == REG_A_DV_32K
    }

    fn ticks_at(&self, now: u64) -> u64 {
        let elapsed = now.saturating_sub(self.base_ns);
        self.base_ticks + ((elapsed as u128 * TIME_BASE_HZ as u128) / NS as u128) as u64
    }

    /// First virtual ns at which the chain reaches `ticks`.
    fn ns_at(&self, ticks: u64) -> u64 {
        let d = ticks.saturating_sub(self.base_ticks) as u128;
        let ns = (d * NS as u128).div_ceil(TIME_BASE_HZ as u128);
        self.base_ns.saturating_add(ns.min(u64::MAX as u128) as u64)
    }

    /// Brings the chain up to `now`: periodic edges, update cycles (time, UF, AF).
    fn catch_up(&mut self, now: u64) {
        if !self.divider_running() {
            return;
        }
        let t = self.ticks_at(now);
        let last = self.last_ticks;
        if t <= last {
            return;
        }
        self.last_ticks = t;
        if let Some(p) = periodic_ticks(self.reg_a) {
            if t / p > last / p {
                self.reg_c |= REG_C_PF;
            }
        }
        let updates = t / TICKS_PER_UPDATE - last / TICKS_PER_UPDATE;
        if updates > 0 && self.reg_b & REG_B_SET == 0 {
            self.run_updates(updates);
        }
        self.update_irq();
    }

    /// `n` update cycles: the time advances `n` seconds, UF is set, and AF if any of
    /// the new times matched the alarm bytes.
    fn run_updates(&mut self, n: u64) {
        let n = n.min(i64::MAX as u64 / 2) as i64;
        let old = self.secs;
        let new = old.saturating_add(n);
        // The alarm only looks at the time of day, so one day of candidates suffices.
        let first = new - n.min(SECS_PER_DAY) + 1;
        let alarm = [
            self.ram[RTC_SECONDS_ALARM as usize],
            self.ram[RTC_MINUTES_ALARM as usize],
            self.ram[RTC_HOURS_ALARM as usize],
        ];
        let hit = (first..=new).any(|s| {
            let now = self.encode_hms(s);
            alarm
                .iter()
                .zip(now)
                .all(|(&a, v)| a >= ALARM_DONT_CARE || a == v)
        });
        let days = new.div_euclid(SECS_PER_DAY) - old.div_euclid(SECS_PER_DAY);
        self.dow = ((self.dow as i64 - 1 + days).rem_euclid(7) + 1) as u8;
        self.secs = new;
        self.reg_c |= REG_C_UF;
        if hit {
            self.reg_c |= REG_C_AF;
        }
    }

    /// IRQF = PF·PIE + AF·AIE + UF·UIE; the IRQ8 line follows it.
    fn update_irq(&mut self) {
        let enabled = self.reg_c & self.reg_b & (REG_C_PF | REG_C_AF | REG_C_UF);
        if enabled != 0 {
            self.reg_c |= REG_C_IRQF;
        } else {
            self.reg_c &= !REG_C_IRQF;
        }
        let level = enabled != 0;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set(level);
        }
    }

    fn uip(&self) -> bool {
        self.divider_running()
            && self.reg_b & REG_B_SET == 0
            && self.last_ticks % TICKS_PER_UPDATE >= TICKS_PER_UPDATE - UIP_TICKS
    }

    fn peek(&self, index: u8) -> u8 {
        match index {
            RTC_REG_A => (self.reg_a & !REG_A_UIP) | if self.uip() { REG_A_UIP } else { 0 },
            RTC_REG_B => self.reg_b,
            RTC_REG_C => self.reg_c,
            RTC_REG_D => REG_D_VRT,
            i if is_time_byte(i) && self.reg_b & REG_B_SET == 0 => self.encode_time(i),
            i => self.ram[i as usize & 0x7f],
        }
    }

    fn read_reg(&mut self, index: u8) -> u8 {
        let v = self.peek(index);
        if index == RTC_REG_C {
            // Reading C clears every flag and releases IRQ.
            self.reg_c = 0;
            self.update_irq();
        }
        v
    }

    fn write_reg(&mut self, index: u8, value: u8) {
        match index {
            RTC_REG_A => {
                let was_running = self.divider_running();
                self.reg_a = value & !REG_A_UIP;
                match (was_running, self.divider_running()) {
                    (false, true) => {
                        // Leaving reset (or a stopped time base): chain restarts so
                        // the first update comes 500 ms later.
                        self.base_ns = self.clock.now();
                        self.base_ticks = TICKS_AFTER_DIVIDER_RESET;
                        self.last_ticks = self.base_ticks;
                    }
                    (true, false) if value & REG_A_DV_RESET != REG_A_DV_RESET => {
                        tracing::debug!(value, "rtc: divider select not 32.768 kHz, clock stopped");
                    }
                    _ => {}
                }
            }
            RTC_REG_B => {
                let old = self.reg_b;
                let mut value = value;
                if value & REG_B_SET != 0 {
                    // SET going high aborts the update and clears UIE.
                    value &= !REG_B_UIE;
                }
                if value & REG_B_DSE != 0 {
                    tracing::debug!("rtc: daylight saving (DSE) is not modelled");
                }
                self.reg_b = value;
                if old & REG_B_SET == 0 && value & REG_B_SET != 0 {
                    // Freeze the time as it reads in the (new) data mode.
                    self.materialize_time();
                } else if old & REG_B_SET != 0 && value & REG_B_SET == 0 {
                    // The guest-written bytes become the new time base.
                    self.load_time();
                }
                self.update_irq();
            }
            RTC_REG_C | RTC_REG_D => {
                tracing::debug!(index, value, "rtc: write to read-only register ignored");
            }
            i if is_time_byte(i) => {
                if self.reg_b & REG_B_SET != 0 {
                    self.ram[i as usize] = value;
                } else {
                    // Writing while running: replace one field of the running time.
                    self.materialize_time();
                    self.ram[i as usize] = value;
                    self.load_time();
                }
            }
            i => self.ram[i as usize & 0x7f] = value,
        }
    }

    fn read_byte(&mut self, offset: u32) -> u8 {
        match offset {
            PORT_INDEX => 0xff, // write-only on PCs
            PORT_DATA => self.read_reg(self.index),
            _ => 0xff,
        }
    }

    fn write_byte(&mut self, offset: u32, value: u8) {
        match offset {
            PORT_INDEX => {
                self.index = value & 0x7f;
                self.nmi_disabled = value & NMI_DISABLE != 0;
            }
            PORT_DATA => self.write_reg(self.index, value),
            _ => tracing::debug!(offset, value, "rtc: write outside ports 0x70/0x71"),
        }
    }
}

/// Locations that are time and calendar counters (alarms are plain RAM).
const TIME_BYTES: [u8; 8] = [
    RTC_SECONDS,
    RTC_MINUTES,
    RTC_HOURS,
    RTC_DAY_OF_WEEK,
    RTC_DAY_OF_MONTH,
    RTC_MONTH,
    RTC_YEAR,
    RTC_CENTURY,
];

fn is_time_byte(index: u8) -> bool {
    TIME_BYTES.contains(&index)
}

impl BusDevice for Cmos {
    /// Wider accesses split into byte accesses on consecutive ports, as the ISA bus does.
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        self.catch_up(self.clock.now());
        (0..size.min(4) as u32).fold(0, |acc, i| {
            acc | (self.read_byte(offset.wrapping_add(i)) as u32) << (8 * i)
        })
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        self.catch_up(self.clock.now());
        for i in 0..size.min(4) as u32 {
            self.write_byte(offset.wrapping_add(i), (value >> (8 * i)) as u8);
        }
    }

    fn name(&self) -> &str {
        "cmos"
    }

    /// Only when an enabled interrupt could newly raise IRQ8; flags and time catch up
    /// lazily on access otherwise.
    fn next_deadline(&self) -> Option<u64> {
        if !self.divider_running() || self.reg_c & REG_C_IRQF != 0 {
            return None;
        }
        let mut next: Option<u64> = None;
        if self.reg_b & REG_B_PIE != 0 {
            if let Some(p) = periodic_ticks(self.reg_a) {
                next = Some((self.last_ticks / p + 1) * p);
            }
        }
        if self.reg_b & (REG_B_UIE | REG_B_AIE) != 0 && self.reg_b & REG_B_SET == 0 {
            let u = (self.last_ticks / TICKS_PER_UPDATE + 1) * TICKS_PER_UPDATE;
            next = Some(next.map_or(u, |n| n.min(u)));
        }
        next.map(|t| self.ns_at(t))
    }

    fn advance(&mut self, now: u64) {
        self.catch_up(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::FakeIrqSink;
    use std::rc::Rc;

    const IRQ8: u8 = 8;
    /// 2026-11-23 13:45:07 UTC, a Monday.
    const EPOCH: u64 = 1_795_441_507;

    fn rtc(epoch: u64) -> (Cmos, Clock, Rc<FakeIrqSink>) {
        let clock = Clock::new();
        let sink = FakeIrqSink::new();
        let dev = Cmos::new(clock.clone(), sink.line(IRQ8), epoch);
        (dev, clock, sink)
    }

    fn rd(d: &mut Cmos, index: u8) -> u8 {
        d.write(PORT_INDEX, 1, index as u32);
        d.read(PORT_DATA, 1) as u8
    }

    fn wr(d: &mut Cmos, index: u8, v: u8) {
        d.write(PORT_INDEX, 1, index as u32);
        d.write(PORT_DATA, 1, v as u32);
    }

    /// (sec, min, hour, dow, day, month, year, century) as read by the guest.
    fn time(d: &mut Cmos) -> [u8; 8] {
        TIME_BYTES.map(|i| rd(d, i))
    }

    /// Runs the machine's loop: advance the clock to each deadline up to `until`.
    fn run_until(d: &mut Cmos, clock: &Clock, until: u64, mut on_deadline: impl FnMut(&mut Cmos)) {
        while let Some(t) = d.next_deadline() {
            if t > until {
                break;
            }
            clock.set(t);
            d.advance(t);
            on_deadline(d);
        }
        clock.set(until);
        d.advance(until);
    }

    #[test]
    fn calendar_arithmetic_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 11, 23) * SECS_PER_DAY, 1_795_392_000);
        assert_eq!(
            civil_from_days(1_795_392_000 / SECS_PER_DAY),
            (2026, 11, 23)
        );
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(weekday(0), 5, "1970-01-01 was a Thursday");
        assert_eq!(weekday(days_from_civil(2026, 11, 23)), 2, "Monday");
    }

    #[test]
    fn encodings_bcd_binary_12h_24h_for_one_instant() {
        let (mut d, _clock, _) = rtc(EPOCH);
        assert_eq!(rd(&mut d, RTC_REG_B), REG_B_24H);
        // BCD, 24h.
        assert_eq!(
            time(&mut d),
            [0x07, 0x45, 0x13, 0x02, 0x23, 0x11, 0x26, 0x20]
        );
        // BCD, 12h: 13h is 1 PM = 0x81.
        wr(&mut d, RTC_REG_B, 0);
        assert_eq!(rd(&mut d, RTC_HOURS), 0x81);
        // Binary, 24h.
        wr(&mut d, RTC_REG_B, REG_B_DM | REG_B_24H);
        assert_eq!(time(&mut d), [7, 45, 13, 2, 23, 11, 26, 20]);
        // Binary, 12h.
        wr(&mut d, RTC_REG_B, REG_B_DM);
        assert_eq!(rd(&mut d, RTC_HOURS), 0x81);
        // Midnight and noon in 12h mode are 12 AM / 12 PM.
        let (mut d, _c, _) = rtc(EPOCH - 13 * 3600); // 00:45:07
        wr(&mut d, RTC_REG_B, 0);
        assert_eq!(rd(&mut d, RTC_HOURS), 0x12);
        let (mut d, _c, _) = rtc(EPOCH - 3600); // 12:45:07
        wr(&mut d, RTC_REG_B, 0);
        assert_eq!(rd(&mut d, RTC_HOURS), 0x92);
        wr(&mut d, RTC_REG_B, REG_B_DM);
        assert_eq!(rd(&mut d, RTC_HOURS), 0x8c);
    }

    #[test]
    fn date_rolls_over_month_year_and_leap_days() {
        // (epoch one second before the rollover, expected BCD time after one second)
        let cases: [(u64, [u8; 8]); 5] = [
            // 2026-01-31 23:59:59 Sat -> 2026-02-01 Sun
            (1_769_903_999, [0, 0, 0, 1, 0x01, 0x02, 0x26, 0x20]),
            // 2026-12-31 23:59:59 Thu -> 2027-01-01 Fri
            (1_798_761_599, [0, 0, 0, 6, 0x01, 0x01, 0x27, 0x20]),
            // 2028-02-28 -> 2028-02-29 (leap year), Mon -> Tue
            (1_835_395_199, [0, 0, 0, 3, 0x29, 0x02, 0x28, 0x20]),
            // 2100-02-28 -> 2100-03-01 (century, not leap), Sun -> Mon
            (4_107_542_399, [0, 0, 0, 2, 0x01, 0x03, 0x00, 0x21]),
            // 2000-02-28 -> 2000-02-29 (divisible by 400), Mon -> Tue
            (951_782_399, [0, 0, 0, 3, 0x29, 0x02, 0x00, 0x20]),
        ];
        for (epoch, after) in cases {
            let (mut d, clock, _) = rtc(epoch);
            assert_eq!(rd(&mut d, RTC_SECONDS), 0x59);
            clock.set(NS - 1);
            assert_eq!(rd(&mut d, RTC_SECONDS), 0x59, "no update before 1 s");
            clock.set(NS);
            assert_eq!(time(&mut d), after, "epoch {epoch}");
        }
        // The leap day itself rolls into March.
        let (mut d, clock, _) = rtc(1_835_395_199 + SECS_PER_DAY as u64);
        clock.set(NS);
        assert_eq!(time(&mut d), [0, 0, 0, 4, 0x01, 0x03, 0x28, 0x20]);
    }

    #[test]
    fn uip_is_high_only_in_the_244us_before_each_update() {
        let (mut d, clock, _) = rtc(EPOCH);
        let uip = |d: &mut Cmos| rd(d, RTC_REG_A) & REG_A_UIP != 0;
        assert_eq!(rd(&mut d, RTC_REG_A), 0x26);
        // Tick 32760 (8 ticks before the update) starts at ceil(32760e9/32768) ns.
        clock.set(999_755_859);
        assert!(!uip(&mut d));
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x07);
        clock.set(999_755_860);
        assert!(uip(&mut d));
        clock.set(999_999_999);
        assert!(uip(&mut d));
        assert_eq!(
            rd(&mut d, RTC_SECONDS),
            0x07,
            "registers change only at the update"
        );
        clock.set(NS);
        assert!(!uip(&mut d));
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x08);
        // Same window one second later.
        clock.set(2 * NS - 244_141);
        assert!(!uip(&mut d));
        clock.set(2 * NS - 244_140);
        assert!(uip(&mut d));
        // SET clears UIP.
        wr(&mut d, RTC_REG_B, REG_B_SET | REG_B_24H);
        assert!(!uip(&mut d));
    }

    #[test]
    fn update_ended_interrupt_at_each_second_cleared_by_reading_c() {
        let (mut d, clock, sink) = rtc(EPOCH);
        wr(&mut d, RTC_REG_A, REG_A_DV_32K); // no periodic flag in the way
        assert_eq!(d.next_deadline(), None, "no interrupt enabled");
        wr(&mut d, RTC_REG_B, REG_B_24H | REG_B_UIE);
        assert_eq!(d.next_deadline(), Some(NS));
        clock.set(NS - 1);
        d.advance(NS - 1);
        assert!(!sink.level(IRQ8));
        clock.set(NS);
        d.advance(NS);
        assert!(sink.level(IRQ8));
        assert_eq!(d.next_deadline(), None, "IRQ8 already high");
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_IRQF | REG_C_UF);
        assert!(!sink.level(IRQ8));
        assert_eq!(rd(&mut d, RTC_REG_C), 0);
        assert_eq!(d.next_deadline(), Some(2 * NS));
        // Five seconds of updates, each acknowledged: five rising edges.
        run_until(&mut d, &clock, 6 * NS, |d| {
            assert_eq!(rd(d, RTC_REG_C), REG_C_IRQF | REG_C_UF);
        });
        assert_eq!(sink.rising_edges(IRQ8), 6);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x13);
    }

    #[test]
    fn flags_are_set_without_enables_but_do_not_raise_irq8() {
        let (mut d, clock, sink) = rtc(EPOCH);
        wr(&mut d, RTC_REG_A, REG_A_DV_32K | 0x0f); // 2 Hz
        clock.set(NS);
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_PF | REG_C_UF);
        assert!(sink.log.borrow().is_empty());
        // Enabling UIE with UF pending raises IRQ8 at once.
        clock.set(2 * NS);
        wr(&mut d, RTC_REG_B, REG_B_24H | REG_B_UIE);
        assert!(sink.level(IRQ8));
        wr(&mut d, RTC_REG_B, REG_B_24H);
        assert!(!sink.level(IRQ8), "IRQF follows the enables");
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_PF | REG_C_UF);
    }

    #[test]
    fn alarm_interrupt_when_time_matches() {
        let (mut d, clock, sink) = rtc(EPOCH); // 13:45:07
        wr(&mut d, RTC_REG_A, REG_A_DV_32K); // no periodic flag in the way
        wr(&mut d, RTC_SECONDS_ALARM, 0x10);
        wr(&mut d, RTC_MINUTES_ALARM, 0x45);
        wr(&mut d, RTC_HOURS_ALARM, 0x13);
        wr(&mut d, RTC_REG_B, REG_B_24H | REG_B_AIE);
        let mut seen = Vec::new();
        run_until(&mut d, &clock, 5 * NS, |d| {
            let c = rd(d, RTC_REG_C);
            seen.push((d.clock.now(), c));
        });
        // Updates at 1, 2, 3 s (13:45:08, :09, :10): only the third has AF (and IRQF).
        assert_eq!(
            seen,
            vec![
                (NS, REG_C_UF),
                (2 * NS, REG_C_UF),
                (3 * NS, REG_C_IRQF | REG_C_AF | REG_C_UF),
                (4 * NS, REG_C_UF),
                (5 * NS, REG_C_UF),
            ]
        );
        assert_eq!(sink.rising_edges(IRQ8), 1);
        // Don't-care in all three bytes: every second.
        wr(&mut d, RTC_SECONDS_ALARM, 0xc0);
        wr(&mut d, RTC_MINUTES_ALARM, 0xff);
        wr(&mut d, RTC_HOURS_ALARM, 0xc5);
        clock.set(6 * NS);
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_IRQF | REG_C_AF | REG_C_UF);
        // A don't-care seconds byte with fixed minutes: matches within 13:46.
        wr(&mut d, RTC_MINUTES_ALARM, 0x46);
        clock.set(7 * NS); // 13:45:14
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_UF);
        clock.set(53 * NS); // 13:46:00
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_IRQF | REG_C_AF | REG_C_UF);
    }

    #[test]
    fn alarm_compares_in_12h_mode_with_pm_bit() {
        let (mut d, clock, _) = rtc(EPOCH); // 13:45:07 = 01:45:07 PM
        wr(&mut d, RTC_REG_A, REG_A_DV_32K); // no periodic flag in the way
        wr(&mut d, RTC_REG_B, REG_B_AIE);
        wr(&mut d, RTC_SECONDS_ALARM, 0x08);
        wr(&mut d, RTC_MINUTES_ALARM, 0x45);
        wr(&mut d, RTC_HOURS_ALARM, 0x01); // 1 AM: no match
        clock.set(NS);
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_UF);
        wr(&mut d, RTC_SECONDS_ALARM, 0x09);
        wr(&mut d, RTC_HOURS_ALARM, 0x81); // 1 PM
        clock.set(2 * NS);
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_IRQF | REG_C_AF | REG_C_UF);
    }

    #[test]
    fn periodic_1024hz_gives_1024_events_per_second() {
        let (mut d, clock, sink) = rtc(EPOCH);
        assert_eq!(rd(&mut d, RTC_REG_A) & REG_A_RS_MASK, 6);
        wr(&mut d, RTC_REG_B, REG_B_24H | REG_B_PIE);
        // 32 ticks of 32.768 kHz = 976562.5 ns.
        assert_eq!(d.next_deadline(), Some(976_563));
        let mut n = 0;
        let mut times = Vec::new();
        run_until(&mut d, &clock, NS, |d| {
            let c = rd(d, RTC_REG_C);
            assert_eq!(c & (REG_C_IRQF | REG_C_PF), REG_C_IRQF | REG_C_PF);
            n += 1;
            times.push(d.clock.now());
        });
        assert_eq!(n, 1024);
        assert_eq!(sink.rising_edges(IRQ8), 1024);
        assert_eq!(times[0], 976_563);
        assert_eq!(times[1], 1_953_125);
        assert_eq!(times[1023], NS);
        // Datasheet rates: RS=3 is 8192 Hz, RS=15 is 2 Hz, RS=1 repeats 256 Hz.
        assert_eq!(periodic_ticks(3), Some(4));
        assert_eq!(periodic_ticks(15), Some(16_384));
        assert_eq!(periodic_ticks(1), periodic_ticks(8));
        assert_eq!(periodic_ticks(2), periodic_ticks(9));
        assert_eq!(periodic_ticks(0), None);
        // RS = 0 stops the periodic interrupt.
        wr(&mut d, RTC_REG_A, REG_A_DV_32K);
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn set_bit_freezes_the_clock_and_written_time_is_kept() {
        let (mut d, clock, _) = rtc(EPOCH);
        clock.set(NS / 2);
        wr(&mut d, RTC_REG_B, REG_B_SET | REG_B_24H | REG_B_UIE);
        assert_eq!(
            rd(&mut d, RTC_REG_B),
            REG_B_SET | REG_B_24H,
            "SET clears UIE"
        );
        clock.set(5 * NS);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x07, "frozen under SET");
        assert_eq!(rd(&mut d, RTC_REG_C), REG_C_PF, "no update, no UF");
        // 2030-06-15 08:30:00, Saturday (7).
        for (i, v) in [
            (RTC_SECONDS, 0x00),
            (RTC_MINUTES, 0x30),
            (RTC_HOURS, 0x08),
            (RTC_DAY_OF_WEEK, 0x07),
            (RTC_DAY_OF_MONTH, 0x15),
            (RTC_MONTH, 0x06),
            (RTC_YEAR, 0x30),
            (RTC_CENTURY, 0x20),
        ] {
            wr(&mut d, i, v);
        }
        clock.set(5 * NS + NS / 2);
        assert_eq!(
            time(&mut d),
            [0x00, 0x30, 0x08, 0x07, 0x15, 0x06, 0x30, 0x20]
        );
        wr(&mut d, RTC_REG_B, REG_B_24H);
        assert_eq!(d.secs, 1_907_742_600);
        // The divider kept running: the next update is at the next whole second.
        clock.set(6 * NS - 1);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x00);
        clock.set(6 * NS);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x01);
        // Across midnight the guest's day-of-week counter advances.
        clock.set(6 * NS + (15 * 3600 + 29 * 60 + 59) * NS);
        assert_eq!(
            time(&mut d),
            [0x00, 0x00, 0x00, 0x01, 0x16, 0x06, 0x30, 0x20]
        );
    }

    #[test]
    fn writing_one_field_while_running_and_binary_mode_set() {
        let (mut d, clock, _) = rtc(EPOCH);
        wr(&mut d, RTC_MINUTES, 0x59);
        assert_eq!(time(&mut d)[..3], [0x07, 0x59, 0x13]);
        wr(&mut d, RTC_REG_B, REG_B_SET | REG_B_DM | REG_B_24H);
        wr(&mut d, RTC_HOURS, 23);
        wr(&mut d, RTC_MINUTES, 59);
        wr(&mut d, RTC_SECONDS, 59);
        wr(&mut d, RTC_REG_B, REG_B_DM | REG_B_24H);
        clock.set(NS);
        // 2026-11-23 23:59:59 + 1 s = 2026-11-24, Tuesday.
        assert_eq!(time(&mut d), [0, 0, 0, 3, 24, 11, 26, 20]);
    }

    #[test]
    fn divider_reset_holds_the_chain_and_first_update_is_500ms_after_release() {
        let (mut d, clock, _) = rtc(EPOCH);
        wr(&mut d, RTC_REG_A, REG_A_DV_RESET | 0x06);
        clock.set(10 * NS);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x07);
        assert_eq!(rd(&mut d, RTC_REG_C), 0);
        wr(&mut d, RTC_REG_A, REG_A_DV_32K | 0x06);
        clock.set(10 * NS + NS / 2 - 1);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x07);
        clock.set(10 * NS + NS / 2);
        assert_eq!(rd(&mut d, RTC_SECONDS), 0x08);
    }

    #[test]
    fn long_gap_catches_up_in_one_step() {
        let (mut d, clock, _) = rtc(EPOCH);
        clock.set(40 * SECS_PER_DAY as u64 * NS);
        // 2026-11-23 + 40 days = 2027-01-02 (Saturday), same time of day.
        assert_eq!(
            time(&mut d),
            [0x07, 0x45, 0x13, 0x07, 0x02, 0x01, 0x27, 0x20]
        );
    }

    #[test]
    fn ports_ram_index_and_nmi_mask() {
        let (mut d, _clock, _) = rtc(EPOCH);
        assert!(!d.nmi_disabled());
        d.write(PORT_INDEX, 1, 0x8f);
        assert!(d.nmi_disabled());
        d.write(PORT_DATA, 1, 0x0a);
        assert_eq!(d.read(PORT_INDEX, 1), 0xff, "index port is write-only");
        assert_eq!(rd(&mut d, CMOS_SHUTDOWN_STATUS), 0x0a);
        assert!(!d.nmi_disabled(), "last index write had bit 7 clear");
        assert_eq!(rd(&mut d, RTC_REG_D), REG_D_VRT);
        wr(&mut d, RTC_REG_D, 0);
        wr(&mut d, RTC_REG_C, 0xff);
        assert_eq!(rd(&mut d, RTC_REG_D), REG_D_VRT);
        assert_eq!(rd(&mut d, RTC_REG_C), 0);
        wr(&mut d, 0x7f, 0x5a);
        assert_eq!(rd(&mut d, 0xff), 0x5a, "index bit 7 is not an address bit");
        // A 16-bit OUT to 0x70 writes the index then the data port.
        d.write(PORT_INDEX, 2, 0x40_11);
        assert_eq!(d.byte(0x11), 0x40);
        assert_eq!(d.read(PORT_INDEX, 2), 0x40_ff);
        d.set_byte(0x90, 0x33);
        assert_eq!(rd(&mut d, 0x10), 0x33);
    }

    #[test]
    fn guest_garbage_does_not_panic() {
        let (mut d, clock, _) = rtc(u64::MAX);
        for v in [0x00u8, 0x7f, 0x80, 0xff] {
            for i in 0..=0xffu8 {
                wr(&mut d, i, v);
                rd(&mut d, i);
            }
            wr(&mut d, RTC_REG_B, REG_B_SET | v);
            for i in TIME_BYTES {
                wr(&mut d, i, v);
            }
            wr(&mut d, RTC_REG_B, v & !REG_B_SET);
            wr(&mut d, RTC_REG_A, REG_A_DV_32K | (v & 0x0f));
            clock.advance(3 * NS + 17);
            let _ = time(&mut d);
            let _ = d.next_deadline();
        }
    }

    #[test]
    fn memory_sizes_and_checksum() {
        let (mut d, _clock, _) = rtc(EPOCH);
        d.set_byte(0x10, 0x40); // one 1.44 MB floppy
        d.set_memory_sizes(128 << 20);
        d.update_checksum();
        let r = |d: &mut Cmos, i: u8| d.byte(i);
        assert_eq!([r(&mut d, 0x15), r(&mut d, 0x16)], [0x80, 0x02]);
        // 127 MiB = 130048 KiB, capped.
        assert_eq!([r(&mut d, 0x17), r(&mut d, 0x18)], [0xff, 0xff]);
        assert_eq!([r(&mut d, 0x30), r(&mut d, 0x31)], [0xff, 0xff]);
        // 112 MiB / 64 KiB = 1792 = 0x0700.
        assert_eq!([r(&mut d, 0x34), r(&mut d, 0x35)], [0x00, 0x07]);
        // 0x40 + 0x80 + 0x02 + 0xff + 0xff = 0x2c0.
        assert_eq!([r(&mut d, 0x2e), r(&mut d, 0x2f)], [0x02, 0xc0]);

        d.set_memory_sizes(3 << 30);
        d.update_checksum();
        // 3056 MiB / 64 KiB = 48896 = 0xbf00.
        assert_eq!([r(&mut d, 0x34), r(&mut d, 0x35)], [0x00, 0xbf]);
        assert_eq!([r(&mut d, 0x17), r(&mut d, 0x18)], [0xff, 0xff]);
        assert_eq!([r(&mut d, 0x2e), r(&mut d, 0x2f)], [0x02, 0xc0]);

        // Small machine: 8 MiB = 7168 KiB extended, nothing above 16 MiB.
        d.set_memory_sizes(8 << 20);
        d.update_checksum();
        assert_eq!([r(&mut d, 0x17), r(&mut d, 0x18)], [0x00, 0x1c]);
        assert_eq!([r(&mut d, 0x30), r(&mut d, 0x31)], [0x00, 0x1c]);
        assert_eq!([r(&mut d, 0x34), r(&mut d, 0x35)], [0x00, 0x00]);
        // 0x40 + 0x80 + 0x02 + 0x00 + 0x1c = 0xde.
        assert_eq!([r(&mut d, 0x2e), r(&mut d, 0x2f)], [0x00, 0xde]);
    }
}
