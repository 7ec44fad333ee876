//! Board-level signals devices drive and the machine acts on: the CPU reset line, the
//! A20 gate and power-off. The i8042 output port (bit 1) and port 0x92 (bit 1) both drive the one
//! gate, and whichever was written last decides it — the model QEMU and Bochs use, which
//! lets a guest turn A20 off through port 0x92 while the keyboard controller's pin is
//! still high.

use std::cell::Cell;
use std::rc::Rc;

#[derive(Default)]
pub struct Signals {
    /// Set by a device that pulses the CPU's RESET (i8042 command 0xFE, port 0x92 bit 0,
    /// port 0xCF9); the machine resets the CPU and clears it.
    pub reset: Cell<bool>,
    /// The A20 gate: true lets address bit 20 through.
    pub a20: Cell<bool>,
    /// Set when the guest enters the ACPI S5 (soft-off) state; the machine ends the run.
    pub power_off: Cell<bool>,
}

impl Signals {
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }
}
