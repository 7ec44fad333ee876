//! Port 0x92, System Control Port A ("fast A20 and reset"), after the IBM PS/2 Hardware
//! Interface Technical Reference, "System Control Port A (Hex 0092)", as carried on by
//! the Intel 82371 PIIX/PIIX3 datasheet (§"Port 92h").
//!
//! Bit 0 (alternate hot reset): writing 1 pulses the CPU's RESET; the bit reads back 0
//! (the pulse is over by the time the guest looks). Bit 1 (alternate gate A20) drives
//! `Signals::a20`, which the keyboard controller's output port also drives (last write wins). The
//! other bits (fixed-disk activity lights, the bit-3 security lock) have no effect here
//! and read back as written.

use std::rc::Rc;

use crate::bus::BusDevice;
use crate::signals::Signals;

/// The I/O port of System Control Port A.
pub const PORT: u16 = 0x92;

/// Alternate hot reset: a write of 1 resets the CPU.
pub const SCPA_RESET: u8 = 0x01;
/// Alternate gate A20: 1 enables address line 20.
pub const SCPA_A20: u8 = 0x02;
/// Security lock latch (no security hardware here: stored, no effect).
pub const SCPA_LOCK: u8 = 0x08;

/// System Control Port A. Register it at `PORT` with length 1.
pub struct Port92 {
    signals: Rc<Signals>,
    value: u8,
}

impl Port92 {
    /// A port at its power-on value 0. Creating it leaves the A20 gate alone (the
    /// keyboard controller's output port sets it at power-on).
    pub fn new(signals: Rc<Signals>) -> Self {
        Self { signals, value: 0 }
    }

    /// Power-on reset of the register (a CPU reset requested through bit 0 does not
    /// reset the port, as on real boards).
    pub fn reset(&mut self) {
        self.value = 0;
    }

    fn write_byte(&mut self, value: u8) {
        self.value = value & !SCPA_RESET;
        self.signals.a20.set(value & SCPA_A20 != 0);
        if value & SCPA_RESET != 0 {
            tracing::debug!(value, "port 0x92: fast reset");
            self.signals.reset.set(true);
        }
    }
}

impl BusDevice for Port92 {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        if offset != 0 || size != 1 {
            tracing::debug!(offset, size, "port 0x92: read wider than the byte register");
        }
        self.value as u32
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        if offset != 0 || size != 1 {
            tracing::debug!(offset, size, value, "port 0x92: write wider than a byte");
        }
        if offset == 0 {
            self.write_byte(value as u8);
        }
    }

    fn name(&self) -> &str {
        "port92"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit1_drives_fast_a20() {
        let signals = Signals::new();
        let mut p = Port92::new(signals.clone());
        assert_eq!(p.read(0, 1), 0);
        p.write(0, 1, 0x02);
        assert!(signals.a20.get());
        assert!(signals.a20.get());
        assert_eq!(p.read(0, 1), 0x02);
        p.write(0, 1, 0x00);
        assert!(!signals.a20.get());
        assert!(!signals.a20.get());
        assert!(!signals.reset.get(), "no reset without bit 0");
    }

    #[test]
    fn bit0_pulses_reset_and_reads_back_zero() {
        let signals = Signals::new();
        let mut p = Port92::new(signals.clone());
        p.write(0, 1, 0x03);
        assert!(signals.reset.get());
        assert!(signals.a20.get());
        assert_eq!(p.read(0, 1), 0x02, "bit 0 reads back 0");
    }

    #[test]
    fn other_bits_read_back_as_written() {
        let signals = Signals::new();
        let mut p = Port92::new(signals.clone());
        p.write(0, 1, 0xc8);
        assert_eq!(p.read(0, 1), 0xc8);
        assert!(!signals.a20.get());
        assert!(!signals.reset.get());
        p.reset();
        assert_eq!(p.read(0, 1), 0);
    }
}
