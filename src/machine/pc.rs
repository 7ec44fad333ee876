//! The PC board: which device sits at which port and IRQ, as on a QEMU "pc" (i440FX +
//! PIIX3) machine — 8259A pair, 8254 PIT with port 0x61, MC146818 RTC/CMOS, i8042 with
//! port 0x92, two 16550A UARTs, PCI configuration space and the IDE channels.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use devices::acpi_pm::{self, AcpiPm};
use devices::bus::all_ones;
use devices::cmos::Cmos;
use devices::disk::DiskImage;
use devices::i8042::I8042;
use devices::ide::{
    Drive, IdeBusMaster, IdeChannel, IdeChannelRef, IdeCommandBlock, IdeControlBlock,
};
use devices::pci::PciBus;
use devices::pic8259::PicPair;
use devices::pit8254::Pit;
use devices::port92::Port92;
use devices::uart16550::{self, Uart16550};
use devices::vga::Vga;
use devices::{BusDevice, Clock, DeviceRef, PortBus, Signals};

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
    /// Primary (0x1F0/0x3F6, IRQ14) and secondary (0x170/0x376, IRQ15) IDE channels.
    pub ide: [IdeChannelRef; 2],
    /// Their command blocks, which carry the channels' deadlines.
    ide_timed: [DeviceRef; 2],
    /// The coprocessor-error logic: FERR# -> IRQ13, cleared by a write to port F0h.
    ferr: Rc<RefCell<FerrLatch>>,
    /// The VGA registers at 3B0-3DF (text memory stays guest RAM at B8000).
    pub vga: Rc<RefCell<Vga>>,
    /// The ACPI power-management registers (PM timer, S5 power-off) the FADT names.
    pub acpi: Rc<RefCell<AcpiPm>>,
}

/// The PC/AT coprocessor-error wiring (the MS-DOS compatible mode of SDM Vol. 1 §8.7 and
/// Appendix D): the CPU's FERR# output raises IRQ13; the handler's write to port F0h
/// drops IRQ13 and asserts IGNNE# until FERR# goes inactive (FNCLEX/FNINIT).
pub struct FerrLatch {
    irq13: devices::IrqLine,
    ignne: bool,
    level: bool,
}

impl FerrLatch {
    /// Follows the CPU's FERR# output.
    pub fn update(&mut self, ferr: bool) {
        if !ferr {
            self.ignne = false;
        }
        let level = ferr && !self.ignne;
        if level != self.level {
            self.level = level;
            self.irq13.set(level);
        }
    }
}

impl BusDevice for FerrLatch {
    fn read(&mut self, _port: u32, size: u8) -> u32 {
        all_ones(size)
    }

    fn write(&mut self, _port: u32, _size: u8, _value: u32) {
        self.ignne = true;
        if self.level {
            self.level = false;
            self.irq13.lower();
        }
    }

    fn name(&self) -> &str {
        "ferr-ignne"
    }
}

/// The drives on the IDE cables: primary master/slave, secondary master/slave.
#[derive(Default)]
pub struct Drives {
    pub slots: [Option<Drive>; 4],
}

/// What the board needs from the machine's configuration.
pub struct BoardConfig {
    pub ram_bytes: u64,
    /// RTC time at power-on, seconds since 1970 (UTC).
    pub epoch_secs: u64,
    /// COM1's output; COM2 has none.
    pub com1_out: Box<dyn Write>,
    pub drives: Drives,
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
        // The consoles run at 115,200 baud whatever the guest programs (see
        // `Uart16550::set_fast_line`): a 9600-baud kernel console would otherwise
        // dominate a Linux boot.
        com1.borrow_mut().set_fast_line(true);
        com2.borrow_mut().set_fast_line(true);
        uart16550::register(ports, uart16550::COM1_BASE, &com1);
        uart16550::register(ports, uart16550::COM2_BASE, &com2);

        let pci = PciBus::new_i440fx(signals.clone());
        PciBus::register(&pci, ports);

        let ferr = Rc::new(RefCell::new(FerrLatch {
            irq13: line(13),
            ignne: false,
            level: false,
        }));
        ports.register(0xf0, 1, ferr.clone());

        let vga = Vga::register(ports, clock.clone());

        let acpi = Rc::new(RefCell::new(AcpiPm::new(
            clock.clone(),
            line(super::acpi::SCI_IRQ),
            signals.clone(),
        )));
        ports.register(super::acpi::PM_BASE, acpi_pm::LEN, acpi.clone());

        let mut slots = cfg.drives.slots.into_iter();
        let mut channel = |cmd: u16, ctl: u16, irq: u8| {
            let mut ch = IdeChannel::new(clock.clone(), line(irq));
            for slot in 0..2 {
                if let Some(drive) = slots.next().flatten() {
                    ch.attach(slot, drive);
                }
            }
            let ch = ch.into_shared();
            let command: DeviceRef = Rc::new(RefCell::new(IdeCommandBlock::new(ch.clone())));
            ports.register(cmd, 8, command.clone());
            ports.register(
                ctl,
                1,
                Rc::new(RefCell::new(IdeControlBlock::new(ch.clone()))),
            );
            (ch, command)
        };
        let (ide0, timed0) = channel(0x1f0, 0x3f6, 14);
        let (ide1, timed1) = channel(0x170, 0x376, 15);
        // The bus-master registers live wherever the guest puts the PIIX3 IDE BAR4.
        ports.set_fallback(Rc::new(RefCell::new(BusMasterWindow {
            pci: pci.clone(),
            channels: [
                IdeBusMaster::new(ide0.clone()),
                IdeBusMaster::new(ide1.clone()),
            ],
        })));

        Self {
            pic,
            pit,
            cmos,
            kbc,
            com: [com1, com2],
            pci,
            ide: [ide0, ide1],
            ide_timed: [timed0, timed1],
            ferr,
            vga,
            acpi,
        }
    }

    /// Follows the CPU's FERR# output (IRQ13 while set and not yet acknowledged).
    #[inline]
    pub fn update_ferr(&self, ferr: bool) {
        let latch = &self.ferr;
        if ferr || latch.borrow().level || latch.borrow().ignne {
            latch.borrow_mut().update(ferr);
        }
    }

    /// Runs any bus-master transfer the guest started, against guest RAM.
    pub fn run_dma(&self, mem: &mut dyn devices::ide::DmaMemory) {
        for ch in &self.ide {
            let pending = ch.borrow().dma_pending();
            if pending {
                ch.borrow_mut().run_dma(mem);
            }
        }
    }

    /// The devices with deadlines, for the run loop.
    pub fn timed(&self) -> Vec<DeviceRef> {
        vec![
            self.pit.clone(),
            self.cmos.clone(),
            self.com[0].clone(),
            self.com[1].clone(),
            self.ide_timed[0].clone(),
            self.ide_timed[1].clone(),
            self.acpi.clone(),
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
        for ch in &self.ide {
            ch.borrow_mut().reset();
        }
        // RESET reaches the display adapter too: back to mode 03h.
        self.vga.borrow_mut().reset();
        self.acpi.borrow_mut().reset();
    }

    /// The CPU's interrupt controller: the 8259A pair.
    pub fn interrupt_controller(&self) -> Rc<RefCell<dyn InterruptController>> {
        self.pic.clone()
    }
}

/// The PIIX3 IDE bus-master register block (16 ports: primary at +0, secondary at +8),
/// decoded at the I/O base the guest programmed into BAR4 while I/O decoding is on.
struct BusMasterWindow {
    pci: Rc<RefCell<PciBus>>,
    channels: [IdeBusMaster; 2],
}

impl BusMasterWindow {
    /// The channel and register offset a port decodes to, if it is in the window.
    fn decode(&self, port: u32) -> Option<(usize, u32)> {
        let base = self.pci.borrow().ide_bm_base()? as u32;
        let off = port.wrapping_sub(base);
        (off < 16).then_some(((off / 8) as usize, off % 8))
    }
}

impl BusDevice for BusMasterWindow {
    fn read(&mut self, port: u32, size: u8) -> u32 {
        match self.decode(port) {
            Some((ch, off)) => self.channels[ch].read(off, size),
            None => all_ones(size),
        }
    }

    fn write(&mut self, port: u32, size: u8, value: u32) {
        if let Some((ch, off)) = self.decode(port) {
            self.channels[ch].write(off, size, value);
        }
    }

    fn name(&self) -> &str {
        "piix3-ide-bm"
    }
}

/// Opens the drives of a configuration: hard disks read-write (or as snapshots), the
/// CD-ROM read-only.
pub fn open_drives(
    hda: Option<&std::path::Path>,
    hdb: Option<&std::path::Path>,
    cdrom: Option<&std::path::Path>,
    snapshot: bool,
) -> Result<Drives, devices::disk::DiskError> {
    use devices::disk::OpenMode;
    let mode = if snapshot {
        OpenMode::Snapshot
    } else {
        OpenMode::ReadWrite
    };
    let disk = |p: Option<&std::path::Path>| -> Result<Option<Drive>, devices::disk::DiskError> {
        p.map(|p| DiskImage::open(p, mode).map(Drive::Disk))
            .transpose()
    };
    let mut drives = Drives::default();
    drives.slots[0] = disk(hda)?;
    drives.slots[1] = disk(hdb)?;
    if let Some(p) = cdrom {
        drives.slots[2] = Some(Drive::Cdrom(Some(DiskImage::open_cdrom(p)?)));
    }
    Ok(drives)
}
