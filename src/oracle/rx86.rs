//! The emulator side of the oracle: each case runs in rx86's interpreter in the same
//! environment the native runner gives it — ring 3, flat 32-bit segments, code at
//! `code_addr`, data at `DATA_BASE` — until EIP reaches the end of the case's code.

use jit::abi::{Segment, CS, DS, ES, FS, GS, SS};

use super::{Case, CaseState, Executor, DATA_BASE, DATA_SIZE};
use crate::cpu::{cr0, flags, Cpu, Step};
use crate::mmu::{Mmu, PhysMem};

/// Guest RAM: enough to hold the data area at 512 MiB (pages are only touched lazily).
const RAM: u32 = DATA_BASE + (1 << 20);
/// A case that has not reached its end after this many steps is reported as a hang.
const MAX_STEPS: u64 = 1 << 20;

pub struct Rx86Executor {
    cpu: Cpu,
    /// Run the cases on the JIT instead of the interpreter alone.
    #[cfg(target_arch = "x86_64")]
    jit: Option<Box<crate::monitor::jit::JitEngine>>,
}

impl Default for Rx86Executor {
    fn default() -> Self {
        Self::new()
    }
}

impl Rx86Executor {
    pub fn new() -> Self {
        let phys = PhysMem::new(RAM, &[]).expect("oracle RAM size is valid");
        Self {
            cpu: Cpu::new(Mmu::new(phys), devices::PortBus::new()),
            #[cfg(target_arch = "x86_64")]
            jit: None,
        }
    }

    /// The same executor running the cases on the JIT.
    #[cfg(target_arch = "x86_64")]
    pub fn with_jit() -> std::io::Result<Self> {
        let mut e = Self::new();
        e.jit = Some(Box::new(crate::monitor::jit::JitEngine::new()?));
        Ok(e)
    }

    /// The JIT engine, when the cases run on it (for its statistics).
    #[cfg(target_arch = "x86_64")]
    pub fn jit(&self) -> Option<&crate::monitor::jit::JitEngine> {
        self.jit.as_deref()
    }

    /// One instruction (interpreter) or one translated block (JIT).
    fn step(&mut self) -> Step {
        #[cfg(target_arch = "x86_64")]
        if let Some(jit) = &mut self.jit {
            let clock = devices::Clock::new();
            let timing = crate::monitor::jit::Timing {
                clock: &clock,
                now: 0,
                start: self.cpu.retired,
                ps_per_instr: 0,
                tsc_offset: 0,
            };
            return jit.step(&mut self.cpu, &timing, u64::MAX);
        }
        self.cpu.step()
    }

    /// Ring-3 flat protected mode, with no IDT: any exception escalates to a shutdown,
    /// which is reported with the exception that started it.
    fn enter_user_mode(&mut self) {
        let cpu = &mut self.cpu;
        cpu.reset();
        cpu.s.cr0 = cr0::PE | cr0::ET;
        let flat = |selector: u16, ty: u16| Segment {
            selector,
            attr: ty | 0x10 | (3 << 5) | 0x80 | 0x4000 | 0x8000,
            base: 0,
            limit: 0xffff_ffff,
        };
        for seg in [ES, SS, DS, FS, GS] {
            cpu.s.seg[seg] = flat(0x23, 0x3);
        }
        cpu.s.seg[CS] = flat(0x1b, 0xb);
        cpu.s.cpl = 3;
        cpu.s.idtr.limit = 0;
        cpu.s.gdtr.limit = 0;
    }

    fn run_case(&mut self, case: &Case) -> Result<CaseState, String> {
        self.enter_user_mode();
        let cpu = &mut self.cpu;
        cpu.mmu.phys.load(case.code_addr, &case.code);
        cpu.mmu.phys.load(DATA_BASE, &case.init.mem);
        cpu.s.regs = case.init.regs;
        cpu.s.eflags = case.init.eflags | 2;
        cpu.s.eip = case.code_addr;
        cpu.last_exception = None;
        let end = case.code_addr + case.code.len() as u32;
        // A HLT after the case ends any translated block there.
        cpu.mmu.phys.load(end, &[0xf4]);
        let start = cpu.retired;
        while self.cpu.s.eip != end {
            let step = self.step();
            let cpu = &mut self.cpu;
            match step {
                Step::Ran => {}
                Step::Halted => return Err(format!("{}: halted at {:#x}", case.name, cpu.s.eip)),
                Step::Shutdown => {
                    return Err(format!(
                        "{}: exception {:?} (shutdown) at eip {:#x}",
                        case.name, cpu.last_exception, cpu.s.eip
                    ))
                }
            }
            if let Some(f) = cpu.last_exception {
                return Err(format!(
                    "{}: exception {:?} at {:#x}",
                    case.name, f, cpu.s.eip
                ));
            }
            if cpu.retired - start > MAX_STEPS {
                return Err(format!("{}: did not reach its end", case.name));
            }
        }
        let cpu = &mut self.cpu;
        Ok(CaseState {
            regs: cpu.s.regs,
            eflags: flags::get(&cpu.s) & !(flags::RF | flags::VM),
            mem: cpu.mmu.phys.dump(DATA_BASE, DATA_SIZE),
        })
    }
}

impl Executor for Rx86Executor {
    fn run_batch(&mut self, cases: &[Case]) -> Result<Vec<CaseState>, String> {
        cases
            .iter()
            .map(|c| {
                self.run_case(c)
                    .map_err(|e| format!("{e}\n{}", super::describe(c)))
            })
            .collect()
    }
}
