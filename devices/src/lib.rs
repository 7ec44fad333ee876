//! rx86 device models. Devices see no CPU: they answer bus reads and writes and raise
//! interrupt lines (DESIGN.md, "Devices and time").

pub mod acpi_pm;
pub mod bus;
pub mod clock;
pub mod cmos;
pub mod debugport;
pub mod disk;
pub mod i8042;
pub mod ide;
pub mod irq;
pub mod pci;
pub mod pic8259;
pub mod pit8254;
pub mod port92;
pub mod signals;
pub mod uart16550;
pub mod vga;

pub use bus::{BusDevice, DeviceRef, MmioBus, PortBus};
pub use clock::Clock;
pub use irq::{FakeIrqSink, IrqLine, IrqSink};
pub use signals::Signals;
