//! The machine: RAM and ROM, the board's devices on the port bus, the CPU, and the run
//! loop that turns CPU events and device deadlines into a run outcome.

pub mod acpi;
pub mod console;
pub mod pc;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use devices::debugport::{DebugCon, ExitDevice, PostCodes};
use devices::{Clock, DeviceRef, PortBus, Signals};

use crate::cpu::{flags, Cpu, Step};
use crate::error::Error;
use crate::mmu::{Mmu, PhysMem};

/// Where the 0xE9 debug console goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Debugcon {
    None,
    Stdio,
    File(PathBuf),
}

impl std::str::FromStr for Debugcon {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "stdio" => Ok(Debugcon::Stdio),
            "none" => Ok(Debugcon::None),
            _ => match s.strip_prefix("file:") {
                Some(p) if !p.is_empty() => Ok(Debugcon::File(PathBuf::from(p))),
                _ => Err(Error::DebugconSpec(s.to_string())),
            },
        }
    }
}

pub struct Config {
    pub memory_mb: u32,
    pub rom: Vec<u8>,
    /// Put the ACPI tables below a 64 KiB `rom` (the built-in firmware's layout: a
    /// 128 KiB ROM at E0000h), so an OS finds the PM timer and can power off.
    pub acpi: bool,
    pub debugcon: Debugcon,
    /// Or a custom sink (tests), which wins over `debugcon`.
    pub debugcon_sink: Option<Box<dyn Write>>,
    pub post_codes: bool,
    pub max_instructions: Option<u64>,
    pub no_reboot: bool,
    /// Virtual time from retired instructions instead of the host clock.
    pub deterministic: bool,
    /// Where COM1's output goes.
    pub serial: Serial,
    /// Raw disk images: primary master/slave, and a CD-ROM image as secondary master.
    pub hda: Option<PathBuf>,
    pub hdb: Option<PathBuf>,
    pub cdrom: Option<PathBuf>,
    /// A diskette image (360K-2.88M), served by the built-in BIOS as drive 00h.
    pub fda: Option<PathBuf>,
    /// Keep disk writes in memory; the image files stay untouched.
    pub snapshot: bool,
    /// Direct kernel boot (Linux bzImage or Multiboot), its initrd and command line.
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: String,
    /// End the run after this much host time.
    pub timeout: Option<Duration>,
    /// Or a custom sink (tests), which wins over `serial`.
    pub serial_sink: Option<Box<dyn Write>>,
    /// `--screen-dump`: the `rx86` command writes `Machine::screen_text` here when the
    /// run ends (the machine itself does not write it).
    pub screen_dump: Option<PathBuf>,
    /// Which execution engine runs guest code.
    pub engine: Engine,
}

/// The execution engine (`--engine`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The interpreter alone (the reference).
    #[default]
    Interp,
    /// Translated basic blocks, with the interpreter for what they leave out.
    Jit,
    /// Every block runs in the JIT and in the interpreter from the same state; the run
    /// stops at the first difference.
    Lockstep,
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "interp" => Ok(Engine::Interp),
            "jit" => Ok(Engine::Jit),
            "lockstep" => Ok(Engine::Lockstep),
            _ => Err(format!(
                "unknown engine {s:?} (expected interp, jit or lockstep)"
            )),
        }
    }
}

/// Where the COM1 console goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Serial {
    None,
    Stdio,
    File(PathBuf),
}

impl std::str::FromStr for Serial {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "stdio" => Ok(Serial::Stdio),
            "none" => Ok(Serial::None),
            _ => match s.strip_prefix("file:") {
                Some(p) if !p.is_empty() => Ok(Serial::File(PathBuf::from(p))),
                _ => Err(Error::SerialSpec(s.to_string())),
            },
        }
    }
}

/// The RTC's power-on time in deterministic mode: 2026-01-01 00:00:00 UTC.
pub const DETERMINISTIC_EPOCH: u64 = 1_767_225_600;

impl Config {
    pub fn new(rom: Vec<u8>) -> Self {
        Self {
            memory_mb: 64,
            rom,
            acpi: false,
            debugcon: Debugcon::None,
            debugcon_sink: None,
            post_codes: false,
            max_instructions: None,
            no_reboot: false,
            deterministic: false,
            serial: Serial::None,
            serial_sink: None,
            hda: None,
            hdb: None,
            cdrom: None,
            fda: None,
            snapshot: false,
            kernel: None,
            initrd: None,
            append: String::new(),
            timeout: None,
            screen_dump: None,
            engine: Engine::default(),
        }
    }
}

/// Reads a ROM image and checks its size.
pub fn load_rom(path: &Path) -> Result<Vec<u8>, Error> {
    let data = std::fs::read(path).map_err(|source| Error::RomRead {
        path: path.to_path_buf(),
        source,
    })?;
    if ![64 << 10, 128 << 10, 256 << 10].contains(&data.len()) {
        return Err(Error::RomSize {
            path: path.to_path_buf(),
            size: data.len() as u64,
        });
    }
    Ok(data)
}

/// Virtual nanoseconds per retired instruction in deterministic mode (a 100 MIPS CPU).
pub const NS_PER_INSTRUCTION: u64 = 10;

/// Instructions run between clock reads in host-time mode.
const HOST_SLICE: u64 = 1024;

/// Where virtual time comes from.
enum TimeSource {
    /// Host time since power-on: guests feel real time. Between host-clock reads the
    /// clock moves with the retired instructions at the measured host rate, so it runs
    /// smoothly (a guest timing a loop with the TSC against the PIT sees steady steps,
    /// not a jump at every clock read) and never goes backwards.
    Host {
        start: Instant,
        /// Host picoseconds per retired instruction, a running estimate.
        ps_per_instr: u64,
        /// The host time and instruction count of the last full slice's start.
        sample: Option<(u64, u64)>,
    },
    /// Retired instructions, plus time skipped while halted: reproducible runs.
    Instructions { idle_ns: u64 },
}

impl TimeSource {
    fn host() -> Self {
        TimeSource::Host {
            start: Instant::now(),
            ps_per_instr: NS_PER_INSTRUCTION * 1000,
            sample: None,
        }
    }

    fn now(&self, retired: u64) -> u64 {
        match self {
            TimeSource::Host { start, .. } => start.elapsed().as_nanos() as u64,
            TimeSource::Instructions { idle_ns } => retired * NS_PER_INSTRUCTION + idle_ns,
        }
    }

    /// Virtual picoseconds each retired instruction moves the clock within a slice.
    fn ps_per_instr(&self) -> u64 {
        match self {
            TimeSource::Host { ps_per_instr, .. } => *ps_per_instr,
            TimeSource::Instructions { .. } => NS_PER_INSTRUCTION * 1000,
        }
    }

    /// Learns the host's instruction rate from a slice that ran without halting.
    fn slice_started(&mut self, host_now: u64, retired: u64, previous_ran_full: bool) {
        if let TimeSource::Host {
            ps_per_instr,
            sample,
            ..
        } = self
        {
            if let (true, Some((t0, r0))) = (previous_ran_full, *sample) {
                let elapsed_ps = host_now.saturating_sub(t0) * 1000;
                if let Some(measured) = elapsed_ps.checked_div(retired.saturating_sub(r0)) {
                    *ps_per_instr = (*ps_per_instr * 7 + measured.clamp(100, 1_000_000)) / 8;
                }
            }
            *sample = Some((host_now, retired));
        }
    }

    /// Instructions to run before looking at the clock again.
    fn slice(&self, now: u64, deadline: Option<u64>) -> u64 {
        match self {
            TimeSource::Host { .. } => HOST_SLICE,
            TimeSource::Instructions { .. } => match deadline {
                Some(d) => d
                    .saturating_sub(now)
                    .div_ceil(NS_PER_INSTRUCTION)
                    .clamp(1, 4096),
                None => 4096,
            },
        }
    }

    /// A halted CPU waits from `now` until `deadline` (or a little while, for host
    /// input, when no device has a deadline).
    fn idle_until(&mut self, now: u64, deadline: Option<u64>) {
        let wait = deadline.map_or(1_000_000, |d| d.saturating_sub(now));
        match self {
            TimeSource::Host { .. } => {
                std::thread::sleep(Duration::from_nanos(wait.min(10_000_000)));
            }
            // Jump over the time the CPU would have spent halted.
            TimeSource::Instructions { idle_ns } => *idle_ns += wait,
        }
    }
}

/// Guest RAM as a bus master sees it: physical addresses, no A20 masking.
struct GuestRam<'a>(&'a mut crate::mmu::PhysMem);

impl devices::ide::DmaMemory for GuestRam<'_> {
    fn read(&mut self, addr: u32, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.0.read_u8(addr.wrapping_add(i as u32));
        }
    }

    fn write(&mut self, addr: u32, data: &[u8]) {
        self.0.load(addr, data);
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest wrote to the exit device: status (v << 1) | 1.
    ExitDevice(u32),
    /// Triple fault with `--no-reboot`.
    TripleFault,
    /// `--max-instructions` retired.
    Budget,
    /// HLT with nothing that could ever wake the CPU.
    HaltedForever,
    /// The guest reset the machine (i8042, port 0x92, 0xCF9) under `--no-reboot`.
    Reboot,
    /// The user pressed Ctrl-A x on the console.
    Quit,
    /// `--timeout` elapsed.
    Timeout,
    /// The guest powered the machine off (ACPI S5).
    PowerOff,
    /// `--engine lockstep` found the JIT and the interpreter in different states.
    Diverged,
}

impl Exit {
    /// The process exit status for this outcome (documented in README.md).
    pub fn status(self) -> i32 {
        match self {
            Exit::ExitDevice(v) => (v & 0xff) as i32,
            Exit::TripleFault => 4,
            Exit::Budget => 6,
            Exit::HaltedForever => 8,
            Exit::Reboot | Exit::Quit | Exit::PowerOff => 0,
            Exit::Timeout => 10,
            Exit::Diverged => 12,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Exit::ExitDevice(v) => format!("guest exit device: status {v}"),
            Exit::TripleFault => "triple fault: CPU shut down (--no-reboot)".into(),
            Exit::Budget => "instruction budget exhausted".into(),
            Exit::HaltedForever => "CPU halted with no interrupt source to wake it".into(),
            Exit::Reboot => "guest rebooted (--no-reboot)".into(),
            Exit::Quit => "quit from the console (Ctrl-A x)".into(),
            Exit::Timeout => "timeout".into(),
            Exit::PowerOff => "guest powered off".into(),
            Exit::Diverged => "lockstep: the JIT and the interpreter differ".into(),
        }
    }
}

pub struct Machine {
    pub cpu: Cpu,
    pub board: pc::Board,
    /// Virtual time shared with the devices.
    pub clock: Clock,
    time: TimeSource,
    /// Devices with deadlines, serviced between CPU slices.
    timed: Vec<DeviceRef>,
    pub signals: Rc<Signals>,
    /// `--timeout`: the host time at which the run ends.
    deadline: Option<Instant>,
    /// TSC = virtual ns + this (changed by guest writes to the TSC MSR).
    tsc_offset: u64,
    /// Host input (a console) may arrive, so a halted CPU waits for it.
    pub host_input: bool,
    /// Console input for COM1, and a byte the UART could not take yet.
    input: Option<crossbeam_channel::Receiver<console::Input>>,
    held_input: std::collections::VecDeque<u8>,
    exit_request: Rc<Cell<Option<u32>>>,
    post: Rc<RefCell<PostCodes>>,
    max_instructions: Option<u64>,
    no_reboot: bool,
    pub resets: u64,
    /// The built-in BIOS's services (back-door requests, the floppy).
    pub(crate) bios: crate::monitor::bios::Bios,
    /// The JIT, in `Engine::Jit` mode.
    #[cfg(target_arch = "x86_64")]
    pub jit: Option<Box<crate::monitor::jit::JitEngine>>,
}

impl Machine {
    pub fn new(cfg: Config) -> Result<Self, Error> {
        let ram = cfg
            .memory_mb
            .checked_mul(1 << 20)
            .filter(|_| (1..=3072).contains(&cfg.memory_mb))
            .ok_or(Error::MemorySize(cfg.memory_mb))?;
        let rom = if cfg.acpi && cfg.rom.len() == acpi::TABLES_SIZE {
            acpi::rom_with_tables(&cfg.rom)
        } else {
            cfg.rom
        };
        let phys = PhysMem::new(ram, &rom)?;
        let mut io = PortBus::new();
        let sink: Option<Box<dyn Write>> = match (cfg.debugcon_sink, &cfg.debugcon) {
            (Some(s), _) => Some(s),
            (None, Debugcon::None) => None,
            (None, Debugcon::Stdio) => Some(Box::new(std::io::stdout())),
            (None, Debugcon::File(p)) => {
                Some(Box::new(std::fs::File::create(p).map_err(|source| {
                    Error::Debugcon {
                        path: p.clone(),
                        source,
                    }
                })?))
            }
        };
        io.register(0xe9, 1, Rc::new(RefCell::new(DebugCon::new(sink))));
        let post = Rc::new(RefCell::new(PostCodes::new(0x80, cfg.post_codes)));
        io.register(0x80, 1, post.clone());
        io.register(
            0x190,
            1,
            Rc::new(RefCell::new(PostCodes::new(0x190, cfg.post_codes))),
        );
        let exit_request = Rc::new(Cell::new(None));
        io.register(
            0xf4,
            1,
            Rc::new(RefCell::new(ExitDevice {
                request: exit_request.clone(),
            })),
        );
        let bios = crate::monitor::bios::Bios::new(cfg.fda.as_deref(), cfg.snapshot, &mut io)?;
        let clock = Clock::new();
        let signals = Signals::new();
        let com1_out: Box<dyn Write> =
            match (cfg.serial_sink, &cfg.serial) {
                (Some(s), _) => s,
                (None, Serial::None) => Box::new(std::io::sink()),
                (None, Serial::Stdio) => Box::new(std::io::stdout()),
                (None, Serial::File(p)) => Box::new(std::fs::File::create(p).map_err(
                    |source| Error::SerialFile {
                        path: p.clone(),
                        source,
                    },
                )?),
            };
        let epoch_secs = if cfg.deterministic {
            DETERMINISTIC_EPOCH
        } else {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(DETERMINISTIC_EPOCH, |d| d.as_secs())
        };
        let drives = pc::open_drives(
            cfg.hda.as_deref(),
            cfg.hdb.as_deref(),
            cfg.cdrom.as_deref(),
            cfg.snapshot,
        )?;
        let board = pc::Board::new(
            &mut io,
            &clock,
            &signals,
            pc::BoardConfig {
                ram_bytes: ram as u64,
                epoch_secs,
                com1_out,
                drives,
            },
        );
        let mut cpu = Cpu::new(Mmu::new(phys), io);
        cpu.intr = Some(board.interrupt_controller());
        if let Some(path) = &cfg.kernel {
            let read = |what, p: &PathBuf| {
                std::fs::read(p).map_err(|source| Error::ReadFile {
                    what,
                    path: p.clone(),
                    source,
                })
            };
            let kernel = read("kernel image", path)?;
            let initrd = cfg.initrd.as_ref().map(|p| read("initrd", p)).transpose()?;
            // No POST runs before a direct boot: program PCI as the BIOS would.
            crate::monitor::bios::pci_setup(&mut cpu.io);
            crate::boot::load(&mut cpu, &kernel, initrd.as_deref(), &cfg.append).map_err(
                |source| Error::Boot {
                    path: path.clone(),
                    source,
                },
            )?;
        }
        let timed = board.timed();
        Ok(Self {
            cpu,
            board,
            clock,
            time: if cfg.deterministic {
                TimeSource::Instructions { idle_ns: 0 }
            } else {
                TimeSource::host()
            },
            timed,
            signals,
            deadline: cfg.timeout.map(|t| Instant::now() + t),
            tsc_offset: 0,
            host_input: false,
            input: None,
            held_input: std::collections::VecDeque::new(),
            exit_request,
            post,
            max_instructions: cfg.max_instructions,
            no_reboot: cfg.no_reboot,
            resets: 0,
            bios,
            #[cfg(target_arch = "x86_64")]
            jit: match cfg.engine {
                Engine::Jit => Some(Box::new(
                    crate::monitor::jit::JitEngine::new().map_err(Error::Map)?,
                )),
                Engine::Lockstep => Some(Box::new(
                    crate::monitor::jit::JitEngine::new_lockstep().map_err(Error::Map)?,
                )),
                Engine::Interp => None,
            },
        })
    }

    /// POST codes written to port 0x80 so far.
    pub fn post_codes(&self) -> Vec<u8> {
        self.post.borrow().codes.clone()
    }

    /// Runs until the guest exits, shuts down, halts for good or exhausts the budget.
    ///
    /// The CPU runs in slices that end at the next device deadline (or after
    /// `HOST_SLICE` instructions in host-time mode, when the clock is read again);
    /// between slices the clock advances and due devices are serviced. A halted CPU
    /// lets virtual time jump (deterministic) or sleeps (host time) to the next deadline.
    pub fn run(&mut self) -> Exit {
        let mut ran_full_slice = false;
        loop {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Exit::Timeout;
            }
            let host_now = self.time.now(self.cpu.retired);
            self.time
                .slice_started(host_now, self.cpu.retired, ran_full_slice);
            // Virtual time continues from where the last slice left it when the rate
            // estimate ran ahead of the host clock.
            let now = host_now.max(self.clock.now());
            self.clock.set(now);
            self.service_devices(now);
            self.board.run_dma(&mut GuestRam(&mut self.cpu.mmu.phys));
            if self.feed_input() {
                return Exit::Quit;
            }
            let mut deadline = self.next_deadline();
            if !self.held_input.is_empty() && self.board.com[0].borrow().dtr() {
                // The UART takes the next held byte one character time after the last.
                let ready = self.board.com[0].borrow().rx_ready_at().max(now + 1);
                deadline = Some(deadline.map_or(ready, |d| d.min(ready)));
            }
            let slice = self.time.slice(now, deadline);
            let start = self.cpu.retired;
            let ps_per_instr = self.time.ps_per_instr();
            ran_full_slice = true;
            for _ in 0..slice {
                // A JIT block retires many instructions per iteration.
                let used = self.cpu.retired - start;
                if used >= slice {
                    break;
                }
                // Devices read the clock during port accesses: keep it moving with the
                // instructions (exact when deterministic; an estimate between host-clock
                // reads otherwise, never going backwards).
                self.clock
                    .set(now + (self.cpu.retired - start) * ps_per_instr / 1000);
                if let Some(max) = self.max_instructions {
                    if self.cpu.retired >= max {
                        return Exit::Budget;
                    }
                }
                // The TSC runs at 1 GHz of virtual time, so it agrees with the PIT and
                // the RTC (Linux calibrates and watches it against them); a guest WRMSR
                // to it moves the offset.
                let tsc = self.clock.now().wrapping_add(self.tsc_offset);
                self.cpu.s.tsc = tsc;
                let step = self.step_engine(now, start, ps_per_instr, slice - used);
                if self.diverged() {
                    return Exit::Diverged;
                }
                crate::monitor::bios::after_step(self);
                if self.cpu.s.tsc != tsc.wrapping_add(1) && self.cpu.s.tsc != tsc {
                    self.tsc_offset = self.cpu.s.tsc.wrapping_sub(self.clock.now());
                }
                if let Some(v) = self.exit_request.take() {
                    return Exit::ExitDevice(v);
                }
                if let Some(exit) = self.apply_signals() {
                    return exit;
                }
                self.board.update_ferr(self.cpu.ferr());
                match step {
                    Step::Ran => {}
                    Step::Halted => {
                        // A bus-master transfer the guest waits for completes now.
                        self.board.run_dma(&mut GuestRam(&mut self.cpu.mmu.phys));
                        if self.cpu.nmi_pending
                            || self.cpu.intr_pending() && self.cpu.interruptible()
                        {
                            continue;
                        }
                        if !self.wake_possible() {
                            // INTR is masked, or nothing will ever raise it.
                            return Exit::HaltedForever;
                        }
                        let now = self.time.now(self.cpu.retired);
                        self.time.idle_until(now, deadline);
                        ran_full_slice = false;
                        break;
                    }
                    Step::Shutdown => {
                        if self.no_reboot {
                            return Exit::TripleFault;
                        }
                        // Shutdown on a PC resets the CPU (RAM is kept).
                        self.reset_cpu();
                        ran_full_slice = false;
                        break;
                    }
                }
            }
        }
    }

    /// Runs one interpreter step, or in JIT mode one translated block of at most `room`
    /// instructions (and never past `--max-instructions`).
    #[inline]
    fn step_engine(&mut self, now: u64, start: u64, ps_per_instr: u64, room: u64) -> Step {
        #[cfg(target_arch = "x86_64")]
        if let Some(jit) = &mut self.jit {
            let limit = match self.max_instructions {
                Some(max) => room.min(max.saturating_sub(self.cpu.retired)),
                None => room,
            };
            let timing = crate::monitor::jit::Timing {
                clock: &self.clock,
                now,
                start,
                ps_per_instr,
                tsc_offset: self.tsc_offset,
            };
            return jit.step(&mut self.cpu, &timing, limit);
        }
        let _ = (now, start, ps_per_instr, room);
        self.cpu.step()
    }

    /// Lockstep found a difference (its report is in `divergence`).
    #[inline]
    fn diverged(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let Some(jit) = &self.jit {
            return jit.divergence.is_some();
        }
        false
    }

    /// The lockstep report of the first difference between the engines, if any.
    pub fn divergence(&self) -> Option<&str> {
        #[cfg(target_arch = "x86_64")]
        if let Some(jit) = &self.jit {
            return jit.divergence.as_deref();
        }
        None
    }

    /// `--stats`: the JIT's counters (nothing in interpreter mode).
    pub fn stats_report(&self) -> Option<String> {
        #[cfg(target_arch = "x86_64")]
        if let Some(jit) = &self.jit {
            return Some(jit.report(self.cpu.retired));
        }
        None
    }

    /// A system reset, as QEMU performs for every guest reset request and a triple
    /// fault: the CPU and the chipset restart, A20 is enabled again (the i8042 output
    /// port's power-on state); RAM, the RTC/CMOS and the PIT keep their state.
    fn reset_cpu(&mut self) {
        self.resets += 1;
        self.cpu.reset();
        self.board.reset();
        self.signals.reset.set(false);
        self.signals.a20.set(true);
        self.cpu.mmu.set_a20(true);
    }

    /// Acts on the board signals devices drive: RESET, the A20 gate and power-off.
    /// Returns the run's end if the guest powered off, or asked for a reboot under
    /// `--no-reboot`.
    #[inline]
    fn apply_signals(&mut self) -> Option<Exit> {
        if self.signals.power_off.get() {
            return Some(Exit::PowerOff);
        }
        if self.signals.reset.get() {
            if self.no_reboot {
                return Some(Exit::Reboot);
            }
            self.reset_cpu();
        }
        let a20 = self.signals.a20.get();
        if a20 != self.cpu.mmu.a20_enabled() {
            self.cpu.mmu.set_a20(a20);
        }
        None
    }

    /// Brings every device whose deadline has passed up to `now`.
    fn service_devices(&mut self, now: u64) {
        for dev in &self.timed {
            let due = dev.borrow().next_deadline().is_some_and(|d| d <= now);
            if due {
                dev.borrow_mut().advance(now);
            }
        }
    }

    /// The earliest deadline of any timed device.
    fn next_deadline(&self) -> Option<u64> {
        self.timed
            .iter()
            .filter_map(|d| d.borrow().next_deadline())
            .min()
    }

    /// Whether a halted CPU with IF set could still be woken: some device is timed
    /// or host input can arrive.
    fn wake_possible(&self) -> bool {
        self.cpu.s.eflags & flags::IF != 0 && (self.next_deadline().is_some() || self.host_input)
    }

    /// Feeds COM1 from a console input channel (see `console::spawn_stdin_reader`).
    pub fn attach_input(&mut self, rx: crossbeam_channel::Receiver<console::Input>) {
        self.input = Some(rx);
        self.host_input = true;
    }

    /// Moves host bytes into COM1 as fast as its line rate takes them, holding them
    /// while the guest keeps DTR low. Returns true if the user asked to quit.
    fn feed_input(&mut self) -> bool {
        if let Some(rx) = &self.input {
            loop {
                match rx.try_recv() {
                    Ok(console::Input::Byte(b)) => self.held_input.push_back(b),
                    Ok(console::Input::Quit) => return true,
                    Ok(console::Input::Eof)
                    | Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        self.input = None;
                        break;
                    }
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                }
            }
        }
        // Only input that may still arrive keeps a halted CPU waiting; held bytes are
        // delivered by the deadline below once DTR is up.
        self.host_input = self.input.is_some();
        let mut com1 = self.board.com[0].borrow_mut();
        if !com1.dtr() {
            return false;
        }
        while let Some(&b) = self.held_input.front() {
            if !com1.receive(b) {
                break;
            }
            self.held_input.pop_front();
        }
        false
    }

    /// Registers a device that has deadlines, so the run loop services it.
    pub fn add_timed(&mut self, dev: DeviceRef) {
        self.timed.push(dev);
    }

    /// A human-readable dump of the CPU state.
    pub fn dump_state(&self) -> String {
        crate::cpu::dump(&self.cpu)
    }

    /// The VGA text screen as UTF-8, one line per row (see `devices::vga::Vga::text_screen`),
    /// read from guest memory as the display adapter sees it (no A20 masking).
    pub fn screen_text(&mut self) -> String {
        const VRAM: u32 = 0xa_0000;
        let vram = self.cpu.mmu.phys.dump(VRAM, 0x2_0000);
        let mem = |addr: u32| {
            let i = addr.wrapping_sub(VRAM) as usize;
            vram.get(i).copied().unwrap_or(0)
        };
        self.board.vga.borrow().text_screen(&mem)
    }
}
