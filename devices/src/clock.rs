//! Virtual time. The machine owns the time source — host time by default, or time
//! derived from retired guest instructions with `--deterministic` — and advances this
//! shared clock; devices only read it and report the next moment they need servicing
//! (`BusDevice::next_deadline`), so a device model is deterministic given its inputs.

use std::cell::Cell;
use std::rc::Rc;

/// Nanoseconds per second.
pub const NS: u64 = 1_000_000_000;

/// A shared handle to the machine's virtual clock, in nanoseconds since power-on.
#[derive(Clone, Default)]
pub struct Clock(Rc<Cell<u64>>);

impl Clock {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn now(&self) -> u64 {
        self.0.get()
    }

    /// Moves time forward (never back: a smaller value is ignored).
    pub fn set(&self, ns: u64) {
        if ns > self.0.get() {
            self.0.set(ns);
        }
    }

    pub fn advance(&self, ns: u64) {
        self.0.set(self.0.get() + ns);
    }
}

/// Converts a tick count of a `hz` oscillator into nanoseconds (rounding down).
pub fn ticks_to_ns(ticks: u64, hz: u64) -> u64 {
    ((ticks as u128 * NS as u128) / hz as u128) as u64
}

/// Whole ticks of a `hz` oscillator elapsed in `ns` nanoseconds.
pub fn ns_to_ticks(ns: u64, hz: u64) -> u64 {
    ((ns as u128 * hz as u128) / NS as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_shared_and_monotonic() {
        let c = Clock::new();
        let d = c.clone();
        c.set(100);
        c.set(50);
        d.advance(5);
        assert_eq!(c.now(), 105);
        assert_eq!(ns_to_ticks(NS, 1_193_182), 1_193_182);
        assert_eq!(ticks_to_ns(1_193_182, 1_193_182), NS);
    }
}
