//! The PC board: which device sits at which port and IRQ, as on a QEMU "pc" (i440FX +
//! PIIX3) machine — 8259A pair, 8254 PIT with port 0x61, MC146818 RTC/CMOS, i8042 with
//! port 0x92, two 16550A UARTs, PCI configuration space and the IDE channels.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use devices::cmos::Cmos;
use devices::i8042::I8042;
use devices::pci::PciBus;
use devices::pic8259::PicPair;
use devices::pit8254::Pit;
use devices::port92::Port92;
use devices::uart16550::{self, Uart16550};
use devices::{Clock, DeviceRef, PortBus, Signals};

use crate::cpu::InterruptController;

impl InterruptController for PicPair {
    fn intr(&self) -> bool {
        PicPair::intr(self)
    }

    fn acknowledge(&mut self) -> u8 {
        PicPair::acknowledge(self)
    }
}

/// Typed handles to the board's devices (the port bus holds them too).
pub struct Board {
    pub pic: Rc<RefCell<PicPair>>,
    pub pit: Rc<RefCell<Pit>>,
    pub cmos: Rc<RefCell<Cmos>>,
    pub kbc: Rc<RefCell<I8042>>,
    pub com: [Rc<RefCell<Uart16550>>; 2],
    pub pci: Rc<RefCell<PciBus>>,
}

/// What the board needs from the machine's configuration.
pub struct BoardConfig {
    pub ram_bytes: u64,
    /// RTC time at power-on, seconds since 1970 (UTC).
    pub epoch_secs: u64,
    /// COM1's output; COM2 has none.
    pub com1_out: Box<dyn Write>,
}

impl Board {
    /// Creates every device and registers it on `ports`.
    pub fn new(
        ports: &mut PortBus,
        clock: &Clock,
        signals: &Rc<Signals>,
        cfg: BoardConfig,
    ) -> Self {
        let pic = PicPair::new_shared();
        PicPair::register(&pic, ports);
        let line = |irq| PicPair::irq_line(&pic, irq);

        let pit = devices::pit8254::register(ports, clock.clone(), line(0));

        let mut rtc = Cmos::new(clock.clone(), line(8), cfg.epoch_secs);
        // RAM below 4 GiB as the CMOS fields count it; floppy/disk bytes stay zero.
        rtc.set_memory_sizes(cfg.ram_bytes);
        rtc.update_checksum();
        let cmos = Rc::new(RefCell::new(rtc));
        ports.register(0x70, 2, cmos.clone());

        let kbc = Rc::new(RefCell::new(I8042::new(signals.clone(), line(1), line(12))));
        I8042::register(&kbc, ports);
        ports.register(
            devices::port92::PORT,
            1,
            Rc::new(RefCell::new(Port92::new(signals.clone()))),
        );

        let com1 = Rc::new(RefCell::new(Uart16550::new(
            clock.clone(),
            line(uart16550::COM1_IRQ),
            cfg.com1_out,
        )));
        let com2 = Rc::new(RefCell::new(Uart16550::new(
            clock.clone(),
            line(uart16550::COM2_IRQ),
            Box::new(std::io::sink()),
        )));
        uart16550::register(ports, uart16550::COM1_BASE, &com1);
        uart16550::register(ports, uart16550::COM2_BASE, &com2);

        let pci = PciBus::new_i440fx(signals.clone());
        PciBus::register(&pci, ports);

        Self {
            pic,
            pit,
            cmos,
            kbc,
            com: [com1, com2],
            pci,
        }
    }

    /// The devices with deadlines, for the run loop.
    pub fn timed(&self) -> Vec<DeviceRef> {
        vec![
            self.pit.clone(),
            self.cmos.clone(),
            self.com[0].clone(),
            self.com[1].clone(),
        ]
    }

    /// The chipset's part of a system reset: the PIC pair, the UARTs and PCI
    /// configuration return to power-on state. The RTC/CMOS and the PIT keep theirs, as
    /// does the i8042 (its SYS bit tells a BIOS that this was a warm reset).
    pub fn reset(&mut self) {
        self.pic.borrow_mut().reset();
        for com in &self.com {
            com.borrow_mut().reset();
        }
        self.pci.borrow_mut().reset();
    }

    /// The CPU's interrupt controller: the 8259A pair.
    pub fn interrupt_controller(&self) -> Rc<RefCell<dyn InterruptController>> {
        self.pic.clone()
    }
}
