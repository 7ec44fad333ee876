//! The machine: RAM and ROM, the port bus with the debug devices, the CPU, and the run
//! loop that turns CPU events into a run outcome.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use devices::debugport::{DebugCon, ExitDevice, PostCodes};
use devices::PortBus;

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
    pub debugcon: Debugcon,
    /// Or a custom sink (tests), which wins over `debugcon`.
    pub debugcon_sink: Option<Box<dyn Write>>,
    pub post_codes: bool,
    pub max_instructions: Option<u64>,
    pub no_reboot: bool,
}

impl Config {
    pub fn new(rom: Vec<u8>) -> Self {
        Self {
            memory_mb: 64,
            rom,
            debugcon: Debugcon::None,
            debugcon_sink: None,
            post_codes: false,
            max_instructions: None,
            no_reboot: false,
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
}

impl Exit {
    /// The process exit status for this outcome (documented in README.md).
    pub fn status(self) -> i32 {
        match self {
            Exit::ExitDevice(v) => (v & 0xff) as i32,
            Exit::TripleFault => 4,
            Exit::Budget => 6,
            Exit::HaltedForever => 8,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Exit::ExitDevice(v) => format!("guest exit device: status {v}"),
            Exit::TripleFault => "triple fault: CPU shut down (--no-reboot)".into(),
            Exit::Budget => "instruction budget exhausted".into(),
            Exit::HaltedForever => "CPU halted with no interrupt source to wake it".into(),
        }
    }
}

pub struct Machine {
    pub cpu: Cpu,
    exit_request: Rc<Cell<Option<u32>>>,
    post: Rc<RefCell<PostCodes>>,
    max_instructions: Option<u64>,
    no_reboot: bool,
    pub resets: u64,
}

impl Machine {
    pub fn new(cfg: Config) -> Result<Self, Error> {
        let ram = cfg
            .memory_mb
            .checked_mul(1 << 20)
            .filter(|_| (1..=3072).contains(&cfg.memory_mb))
            .ok_or(Error::MemorySize(cfg.memory_mb))?;
        let phys = PhysMem::new(ram, &cfg.rom)?;
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
        let cpu = Cpu::new(Mmu::new(phys), io);
        Ok(Self {
            cpu,
            exit_request,
            post,
            max_instructions: cfg.max_instructions,
            no_reboot: cfg.no_reboot,
            resets: 0,
        })
    }

    /// POST codes written to port 0x80 so far.
    pub fn post_codes(&self) -> Vec<u8> {
        self.post.borrow().codes.clone()
    }

    /// Runs until the guest exits, shuts down, halts for good or exhausts the budget.
    pub fn run(&mut self) -> Exit {
        loop {
            if let Some(max) = self.max_instructions {
                if self.cpu.retired >= max {
                    return Exit::Budget;
                }
            }
            match self.cpu.step() {
                Step::Ran => {}
                Step::Halted => {
                    // No interrupt controller yet: only a pending NMI/INTR can wake HLT.
                    let wake = self.cpu.nmi_pending
                        || (self.cpu.intr && self.cpu.s.eflags & flags::IF != 0);
                    if !wake {
                        return Exit::HaltedForever;
                    }
                }
                Step::Shutdown => {
                    if self.no_reboot {
                        return Exit::TripleFault;
                    }
                    // Shutdown on a PC resets the CPU (RAM is kept).
                    self.resets += 1;
                    self.cpu.reset();
                }
            }
            if let Some(v) = self.exit_request.take() {
                return Exit::ExitDevice(v);
            }
        }
    }

    /// A human-readable dump of the CPU state.
    pub fn dump_state(&self) -> String {
        crate::cpu::dump(&self.cpu)
    }
}
