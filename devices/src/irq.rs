//! Interrupt-request lines. A device holds an `IrqLine` and drives its level; the sink
//! (the 8259A pair in a machine, a `FakeIrqSink` in tests) decides what a level means
//! (edge or level triggering is the PIC's business, per ELCR).

use std::cell::RefCell;
use std::rc::Rc;

/// Receives interrupt-request levels for ISA IRQs 0-15.
pub trait IrqSink {
    fn set_irq(&self, irq: u8, level: bool);
}

/// One interrupt line, as a device holds it.
#[derive(Clone)]
pub struct IrqLine {
    sink: Rc<dyn IrqSink>,
    irq: u8,
}

impl IrqLine {
    pub fn new(sink: Rc<dyn IrqSink>, irq: u8) -> Self {
        Self { sink, irq }
    }

    pub fn irq(&self) -> u8 {
        self.irq
    }

    pub fn set(&self, level: bool) {
        self.sink.set_irq(self.irq, level);
    }

    pub fn raise(&self) {
        self.set(true);
    }

    pub fn lower(&self) {
        self.set(false);
    }

    /// A rising then falling edge (an edge-triggered request that is not held).
    pub fn pulse(&self) {
        self.set(true);
        self.set(false);
    }
}

/// A sink for unit tests: the current level of every line and the log of changes.
#[derive(Default)]
pub struct FakeIrqSink {
    pub levels: RefCell<[bool; 16]>,
    /// (irq, level) for every call, in order.
    pub log: RefCell<Vec<(u8, bool)>>,
}

impl FakeIrqSink {
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    pub fn level(&self, irq: u8) -> bool {
        self.levels.borrow()[irq as usize & 15]
    }

    /// Number of rising edges seen on `irq`.
    pub fn rising_edges(&self, irq: u8) -> usize {
        let mut last = false;
        let mut n = 0;
        for &(_, l) in self.log.borrow().iter().filter(|(i, _)| *i == irq) {
            if l && !last {
                n += 1;
            }
            last = l;
        }
        n
    }

    /// A line for `irq` wired to this sink.
    pub fn line(self: &Rc<Self>, irq: u8) -> IrqLine {
        IrqLine::new(self.clone(), irq)
    }
}

impl IrqSink for FakeIrqSink {
    fn set_irq(&self, irq: u8, level: bool) {
        self.levels.borrow_mut()[irq as usize & 15] = level;
        self.log.borrow_mut().push((irq, level));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_sink_records_levels_and_edges() {
        let sink = FakeIrqSink::new();
        let line = sink.line(4);
        line.raise();
        line.raise();
        line.lower();
        line.pulse();
        assert!(!sink.level(4));
        assert_eq!(sink.rising_edges(4), 2);
    }
}
