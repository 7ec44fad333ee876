//! rx86 device models. Devices see no CPU: they answer bus reads and writes and raise
//! interrupt lines (DESIGN.md, "Devices and time").

pub mod bus;
pub mod debugport;

pub use bus::{BusDevice, DeviceRef, MmioBus, PortBus};
