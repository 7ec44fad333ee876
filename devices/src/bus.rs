//! The I/O port bus and the MMIO bus: devices registered on address ranges, all ones
//! from addresses nobody claims.

use std::cell::RefCell;
use std::rc::Rc;

/// A device reachable through the bus. `offset` is relative to the start of the range the
/// device was registered at; `size` is 1, 2 or 4 bytes.
pub trait BusDevice {
    fn read(&mut self, offset: u32, size: u8) -> u32;
    fn write(&mut self, offset: u32, size: u8, value: u32);
    fn name(&self) -> &str;
    /// The virtual time (ns, see `clock::Clock`) at which the device next needs
    /// `advance` called — a timer expiring, a FIFO timeout, a disk command completing.
    fn next_deadline(&self) -> Option<u64> {
        None
    }
    /// Called by the machine once the clock has reached `next_deadline`: the device
    /// brings its state up to `now` (raising interrupts as needed).
    fn advance(&mut self, _now: u64) {}
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
    /// Consulted, with the absolute port as offset, for ports no range claims: for
    /// windows whose base the guest programs (PCI BARs).
    fallback: Option<DeviceRef>,
}

impl PortBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `device` for ports `start .. start + len`.
    pub fn register(&mut self, start: u16, len: u16, device: DeviceRef) {
        self.maps.push(Mapping { start, len, device });
    }

    /// Sets the device that answers ports no range claims (it gets the absolute port
    /// as its offset and answers all ones for ports it does not decode either).
    pub fn set_fallback(&mut self, device: DeviceRef) {
        self.fallback = Some(device);
    }

    fn find(&self, port: u16) -> Option<&Mapping> {
        self.maps
            .iter()
            .find(|m| port.wrapping_sub(m.start) < m.len)
    }

    /// Reads `size` bytes from `port`; unassigned ports read as all ones.
    pub fn read(&mut self, port: u16, size: u8) -> u32 {
        match self.find(port) {
            Some(m) => m.device.borrow_mut().read((port - m.start) as u32, size),
            None => match &self.fallback {
                Some(f) => f.borrow_mut().read(port as u32, size),
                None => {
                    tracing::debug!(port, size, "read from unassigned port");
                    all_ones(size)
                }
            },
        }
    }

    /// Writes `size` bytes to `port`; writes to unassigned ports are dropped.
    pub fn write(&mut self, port: u16, size: u8, value: u32) {
        match self.find(port) {
            Some(m) => m
                .device
                .borrow_mut()
                .write((port - m.start) as u32, size, value),
            None => match &self.fallback {
                Some(f) => f.borrow_mut().write(port as u32, size, value),
                None => tracing::debug!(port, size, value, "write to unassigned port"),
            },
        }
    }
}

/// All ones at `size` bytes: what a read from nothing returns.
pub fn all_ones(size: u8) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xffff_ffff,
    }
}

struct MmioMapping {
    start: u32,
    len: u32,
    device: DeviceRef,
}

/// Memory-mapped device ranges in the physical address space.
#[derive(Default)]
pub struct MmioBus {
    maps: Vec<MmioMapping>,
}

impl MmioBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `device` for physical addresses `start .. start + len`.
    pub fn register(&mut self, start: u32, len: u32, device: DeviceRef) {
        self.maps.push(MmioMapping { start, len, device });
    }

    /// True if a device claims `addr`.
    #[inline]
    pub fn claims(&self, addr: u32) -> bool {
        !self.maps.is_empty() && self.find(addr).is_some()
    }

    /// True if a device claims any byte of `start .. start + len`.
    pub fn overlaps(&self, start: u32, len: u32) -> bool {
        self.maps.iter().any(|m| {
            let (a0, a1) = (start as u64, start as u64 + len as u64);
            let (b0, b1) = (m.start as u64, m.start as u64 + m.len as u64);
            a0 < b1 && b0 < a1
        })
    }

    fn find(&self, addr: u32) -> Option<&MmioMapping> {
        self.maps
            .iter()
            .find(|m| addr.wrapping_sub(m.start) < m.len)
    }

    /// Reads `size` bytes at `addr`; an access that does not fit in one device's range
    /// reads all ones.
    pub fn read(&mut self, addr: u32, size: u8) -> u32 {
        match self.find(addr) {
            Some(m) if addr - m.start + size as u32 <= m.len => {
                m.device.borrow_mut().read(addr - m.start, size)
            }
            _ => {
                tracing::debug!(addr, size, "MMIO read from nothing");
                all_ones(size)
            }
        }
    }

    /// Writes `size` bytes at `addr`; writes to nothing are dropped.
    pub fn write(&mut self, addr: u32, size: u8, value: u32) {
        match self.find(addr) {
            Some(m) if addr - m.start + size as u32 <= m.len => {
                m.device.borrow_mut().write(addr - m.start, size, value)
            }
            _ => tracing::debug!(addr, size, value, "MMIO write to nothing"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Latch(u32);
    impl BusDevice for Latch {
        fn read(&mut self, offset: u32, _size: u8) -> u32 {
            self.0 + offset
        }
        fn write(&mut self, _offset: u32, _size: u8, value: u32) {
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
    fn mmio_dispatches_whole_accesses_inside_a_range() {
        let mut bus = MmioBus::new();
        bus.register(0xfec0_0000, 0x10, Rc::new(RefCell::new(Latch(0))));
        bus.write(0xfec0_0004, 4, 100);
        assert_eq!(bus.read(0xfec0_0008, 4), 108);
        assert_eq!(
            bus.read(0xfec0_000e, 4),
            0xffff_ffff,
            "straddles the range end"
        );
        assert_eq!(bus.read(0xfec0_0010, 1), 0xff);
        assert!(bus.claims(0xfec0_000f) && !bus.claims(0xfec0_0010));
    }

    #[test]
    fn fallback_answers_unclaimed_ports_with_absolute_offsets() {
        let mut bus = PortBus::new();
        let fb = Rc::new(RefCell::new(Latch(0)));
        bus.set_fallback(fb.clone());
        bus.register(0x100, 4, Rc::new(RefCell::new(Latch(0))));
        bus.write(0xc004, 4, 7);
        assert_eq!(fb.borrow().0, 7);
        assert_eq!(bus.read(0xc001, 1), 7 + 0xc001);
        bus.write(0x101, 1, 1);
        assert_eq!(fb.borrow().0, 7, "claimed ports never reach the fallback");
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
