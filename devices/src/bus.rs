//! The I/O port bus: devices registered on port ranges, all-ones from empty ports.

use std::cell::RefCell;
use std::rc::Rc;

/// A device reachable through the bus. `offset` is relative to the start of the range the
/// device was registered at; `size` is 1, 2 or 4 bytes.
pub trait BusDevice {
    fn read(&mut self, offset: u16, size: u8) -> u32;
    fn write(&mut self, offset: u16, size: u8, value: u32);
    fn name(&self) -> &str;
}

/// Shared handle to a device, so the machine can keep a typed reference to it.
pub type DeviceRef = Rc<RefCell<dyn BusDevice>>;

struct Mapping {
    start: u16,
    len: u16,
    device: DeviceRef,
}

/// The 64 KiB I/O port space.
#[derive(Default)]
pub struct PortBus {
    maps: Vec<Mapping>,
}

impl PortBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `device` for ports `start .. start + len`.
    pub fn register(&mut self, start: u16, len: u16, device: DeviceRef) {
        self.maps.push(Mapping { start, len, device });
    }

    fn find(&self, port: u16) -> Option<&Mapping> {
        self.maps
            .iter()
            .find(|m| port.wrapping_sub(m.start) < m.len)
    }

    /// Reads `size` bytes from `port`; unassigned ports read as all ones.
    pub fn read(&mut self, port: u16, size: u8) -> u32 {
        match self.find(port) {
            Some(m) => m.device.borrow_mut().read(port - m.start, size),
            None => {
                tracing::debug!(port, size, "read from unassigned port");
                match size {
                    1 => 0xff,
                    2 => 0xffff,
                    _ => 0xffff_ffff,
                }
            }
        }
    }

    /// Writes `size` bytes to `port`; writes to unassigned ports are dropped.
    pub fn write(&mut self, port: u16, size: u8, value: u32) {
        match self.find(port) {
            Some(m) => m.device.borrow_mut().write(port - m.start, size, value),
            None => tracing::debug!(port, size, value, "write to unassigned port"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Latch(u32);
    impl BusDevice for Latch {
        fn read(&mut self, offset: u16, _size: u8) -> u32 {
            self.0 + offset as u32
        }
        fn write(&mut self, _offset: u16, _size: u8, value: u32) {
            self.0 = value;
        }
        fn name(&self) -> &str {
            "latch"
        }
    }

    #[test]
    fn empty_ports_read_all_ones() {
        let mut bus = PortBus::new();
        assert_eq!(bus.read(0x1234, 1), 0xff);
        assert_eq!(bus.read(0x1234, 2), 0xffff);
        assert_eq!(bus.read(0x1234, 4), 0xffff_ffff);
    }

    #[test]
    fn ranges_dispatch_with_offsets() {
        let mut bus = PortBus::new();
        bus.register(0x100, 4, Rc::new(RefCell::new(Latch(0))));
        bus.write(0x101, 1, 40);
        assert_eq!(bus.read(0x103, 1), 43);
        assert_eq!(bus.read(0x104, 1), 0xff);
        assert_eq!(bus.read(0xff, 1), 0xff);
    }
}
