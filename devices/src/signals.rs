//! Board-level signals devices drive and the machine acts on: the CPU reset line and
//! the A20 gate (i8042 output port bit 1, port 0x92 bit 1 — both feed one gate, as on
//! PIIX-era boards where the two sources are ORed).

use std::cell::Cell;
use std::rc::Rc;

#[derive(Default)]
pub struct Signals {
    /// Set by a device that pulses the CPU's RESET (i8042 command 0xFE, port 0x92 bit 0,
    /// port 0xCF9); the machine resets the CPU and clears it.
    pub reset: Cell<bool>,
    /// A20 enabled by the keyboard controller's output port.
    pub a20_kbc: Cell<bool>,
    /// A20 enabled by port 0x92 ("fast A20").
    pub a20_fast: Cell<bool>,
}

impl Signals {
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// The A20 gate as the CPU sees it.
    pub fn a20(&self) -> bool {
        self.a20_kbc.get() || self.a20_fast.get()
    }
}
