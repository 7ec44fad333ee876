//! The interpreter: the reference semantics of the i686 integer CPU (Intel SDM Vol. 2,
//! instruction reference; Vol. 3A for protection, interrupts and tasks).
//!
//! One instruction at a time: fetch through the MMU, decode with iced-x86, execute by
//! family (`alu`, `shift`, `data`, `stack`, `string`, `control`, `system`). An instruction
//! either completes — registers, memory and EIP committed — or returns a `Fault`, in
//! which case EIP still points at it and the exception is delivered (`interrupt`).

pub mod fault;
pub mod flags;
pub mod fpu;

mod alu;
mod control;
mod cpuid;
mod data;
mod interrupt;
mod operand;
mod seg;
mod shift;
mod stack;
mod string;
mod system;
mod task;

use std::cell::RefCell;
use std::rc::Rc;

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic};
use jit::abi::{CpuState, Segment, CS};

use crate::mmu::Mmu;
use devices::PortBus;
use fault::{Fault, Res};

pub use seg::{attr, describe_mode};

/// CR0 bits (SDM Vol. 3A §2.5).
pub mod cr0 {
    pub const PE: u32 = 1 << 0;
    pub const MP: u32 = 1 << 1;
    pub const EM: u32 = 1 << 2;
    pub const TS: u32 = 1 << 3;
    pub const ET: u32 = 1 << 4;
    pub const NE: u32 = 1 << 5;
    pub const WP: u32 = 1 << 16;
    pub const AM: u32 = 1 << 18;
    pub const NW: u32 = 1 << 29;
    pub const CD: u32 = 1 << 30;
    pub const PG: u32 = 1 << 31;
}

/// CR4 bits implemented here.
pub mod cr4 {
    pub const VME: u32 = 1 << 0;
    pub const PVI: u32 = 1 << 1;
    pub const TSD: u32 = 1 << 2;
    pub const DE: u32 = 1 << 3;
    pub const PSE: u32 = 1 << 4;
    pub const PGE: u32 = 1 << 7;
    /// Bits MOV CR4 accepts; others raise #GP(0).
    /// FXSAVE/FXRSTOR support announced by the OS (no SSE state behind it).
    pub const OSFXSR: u32 = 1 << 9;
    pub const VALID: u32 = TSD | PSE | PGE | (1 << 8) | OSFXSR;
}

/// The CPU's INTR input and the INTA cycle that answers it.
pub trait InterruptController {
    /// The INTR pin: an unmasked request is pending.
    fn intr(&self) -> bool;
    /// The interrupt-acknowledge cycle: the vector to deliver.
    fn acknowledge(&mut self) -> u8;
}

/// What one call to `step` did, for the run loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// An instruction retired (or an exception/interrupt was delivered).
    Ran,
    /// HLT: the CPU waits for an interrupt.
    Halted,
    /// Triple fault: the CPU entered shutdown.
    Shutdown,
}

/// Most REP iterations run by one `step`, so interrupts and budgets stay responsive.
const REP_CHUNK: u32 = 4096;

pub struct Cpu {
    pub s: CpuState,
    pub mmu: Mmu,
    pub io: PortBus,
    /// HLT executed, waiting for an interrupt.
    pub halted: bool,
    /// A triple fault happened; the machine decides between reset and exit.
    pub shutdown: bool,
    /// What drives the INTR pin and answers the INTA cycle (the 8259A pair on a PC).
    pub intr: Option<Rc<RefCell<dyn InterruptController>>>,
    pub nmi_pending: bool,
    nmi_blocked: bool,
    /// Instructions retired.
    pub retired: u64,
    /// EIP of the instruction after the current one (control transfers overwrite it).
    next_eip: u32,
    /// Interrupts (and single-step traps) are held off for one instruction: after STI,
    /// MOV SS and POP SS.
    shadow: bool,
    shadow_next: bool,
    /// The current instruction must not be followed by a single-step trap (e.g. it
    /// delivered an interrupt that cleared TF).
    no_trap: bool,
    /// Set by an instruction that must end the step early (HLT).
    halt_now: bool,
    /// The event being delivered pushes EFLAGS with RF=1 (SDM Vol. 3A §17.3.1.1: faults,
    /// and events between the iterations of an unfinished REP string instruction).
    pub(crate) push_rf: bool,
    /// The last step left a REP string instruction unfinished.
    rep_unfinished: bool,
    /// DR6 bits to report with a trap-class #DB at the end of the instruction.
    pub(crate) pending_db: u32,
    /// DR7 enables at least one breakpoint: memory accesses and fetches are checked.
    pub(crate) dbg_active: bool,
    /// Print every instruction on stderr (RX86_TRACE=1).
    pub trace: bool,
    /// The last exception delivered (or that caused a shutdown), for tests and dumps.
    pub last_exception: Option<Fault>,
    /// Decoded instructions by linear address, re-validated against memory on each use.
    dcache: Box<[Decoded]>,
}

/// One decoded-instruction cache entry.
#[derive(Clone, Copy, Default)]
struct Decoded {
    lin: u32,
    eip: u32,
    code32: bool,
    /// The instruction's bytes (little-endian, zero past its length) and their mask.
    bytes: u128,
    mask: u128,
    instr: Instruction,
}

const DECODE_SLOTS: usize = 4096;

#[inline]
fn decode_slot(lin: u32) -> usize {
    ((lin ^ (lin >> 12)) as usize) & (DECODE_SLOTS - 1)
}

impl Cpu {
    pub fn new(mmu: Mmu, io: PortBus) -> Self {
        let mut cpu = Self {
            s: CpuState::default(),
            mmu,
            io,
            halted: false,
            shutdown: false,
            intr: None,
            nmi_pending: false,
            nmi_blocked: false,
            retired: 0,
            next_eip: 0,
            shadow: false,
            shadow_next: false,
            no_trap: false,
            halt_now: false,
            push_rf: false,
            rep_unfinished: false,
            pending_db: 0,
            dbg_active: false,
            trace: std::env::var_os("RX86_TRACE").is_some(),
            last_exception: None,
            dcache: vec![Decoded::default(); DECODE_SLOTS].into_boxed_slice(),
        };
        cpu.reset();
        cpu
    }

    /// Power-on/RESET state (SDM Vol. 3A §9.1.1, Table 9-1): real mode at F000:FFF0 with
    /// CS base FFFF0000.
    pub fn reset(&mut self) {
        let data = Segment {
            selector: 0,
            attr: 0x93,
            base: 0,
            limit: 0xffff,
        };
        self.s = CpuState {
            eflags: 2,
            seg: [data; 6],
            cr0: cr0::ET | cr0::CD | cr0::NW,
            dr: [0, 0, 0, 0, 0, 0, 0xffff_0ff0, 0x400],
            eip: 0xfff0,
            ldtr: Segment {
                attr: 0x82,
                limit: 0xffff,
                ..Default::default()
            },
            tr: Segment {
                attr: 0x8b,
                limit: 0xffff,
                ..Default::default()
            },
            ..Default::default()
        };
        self.s.gdtr.limit = 0xffff;
        self.s.idtr.limit = 0xffff;
        self.s.seg[CS] = Segment {
            selector: 0xf000,
            attr: 0x9b,
            base: 0xffff_0000,
            limit: 0xffff,
        };
        // EDX holds the processor signature after reset.
        self.s.regs[jit::abi::EDX] = cpuid::SIGNATURE;
        self.halted = false;
        self.shutdown = false;
        self.shadow = false;
        self.shadow_next = false;
        self.nmi_blocked = false;
        self.dbg_active = false;
        self.sync_paging();
        self.mmu.set_a20(true);
    }

    /// True if a maskable interrupt would be taken before the next instruction.
    pub fn interruptible(&self) -> bool {
        self.s.eflags & flags::IF != 0 && !self.shadow
    }

    /// True while interrupts and single-step traps are held off for one instruction
    /// (after STI, MOV SS, POP SS): the JIT leaves that instruction to `step`.
    #[inline]
    pub(crate) fn in_shadow(&self) -> bool {
        self.shadow || self.shadow_next
    }

    /// True if an interrupt controller is asserting INTR.
    pub fn intr_pending(&self) -> bool {
        self.intr.as_ref().is_some_and(|c| c.borrow().intr())
    }

    #[inline]
    pub fn protected(&self) -> bool {
        self.s.cr0 & cr0::PE != 0
    }

    #[inline]
    pub fn v86(&self) -> bool {
        self.s.eflags & flags::VM != 0
    }

    /// Protected mode and not virtual-8086: descriptors and privilege checks apply.
    #[inline]
    pub fn pmode(&self) -> bool {
        self.protected() && !self.v86()
    }

    #[inline]
    fn user(&self) -> bool {
        self.s.cpl == 3
    }

    #[inline]
    fn code32(&self) -> bool {
        self.s.seg[CS].attr & attr::DB != 0
    }

    #[inline]
    fn stack32(&self) -> bool {
        self.s.seg[jit::abi::SS].attr & attr::DB != 0
    }

    #[inline]
    pub fn iopl(&self) -> u32 {
        (self.s.eflags >> 12) & 3
    }

    /// Copies the paging controls of CR0/CR3/CR4 into the MMU.
    pub(crate) fn sync_paging(&mut self) {
        self.mmu.set_mode(crate::mmu::PagingMode {
            enabled: self.s.cr0 & cr0::PG != 0 && self.s.cr0 & cr0::PE != 0,
            wp: self.s.cr0 & cr0::WP != 0,
            pse: self.s.cr4 & cr4::PSE != 0,
            pge: self.s.cr4 & cr4::PGE != 0,
            cr3: self.s.cr3,
        });
    }

    /// Runs one instruction, or delivers one pending interrupt.
    pub fn step(&mut self) -> Step {
        if self.shutdown {
            return Step::Shutdown;
        }
        if !self.shadow && self.service_interrupts() {
            self.rep_unfinished = false;
            return if self.shutdown {
                Step::Shutdown
            } else {
                Step::Ran
            };
        }
        if self.halted {
            return Step::Halted;
        }
        self.shadow = false;
        if self.dbg_active && self.s.eflags & flags::RF == 0 {
            let lin = self.s.seg[CS].base.wrapping_add(self.s.eip);
            let hits = self.breakpoint_hits(lin, 1, BreakKind::Exec);
            if hits != 0 {
                self.s.dr[6] = (self.s.dr[6] & !0xf) | hits;
                self.deliver_exception(Fault::Db);
                return if self.shutdown {
                    Step::Shutdown
                } else {
                    Step::Ran
                };
            }
        }
        self.rep_unfinished = false;
        let tf = self.s.eflags & flags::TF != 0;
        let rf = self.s.eflags & flags::RF != 0;
        self.no_trap = false;
        self.pending_db = 0;
        match self.exec_one() {
            Ok(()) => {
                self.retired += 1;
                self.s.tsc = self.s.tsc.wrapping_add(1);
                // RF suppresses instruction breakpoints for one instruction; one that
                // sets it (IRET, a task switch) keeps it for the next.
                if rf {
                    self.s.eflags &= !flags::RF;
                }
                if self.shadow_next {
                    self.shadow_next = false;
                    self.shadow = true;
                }
                let mut db = self.pending_db;
                if tf && !self.no_trap && !self.shadow {
                    db |= DR6_BS;
                }
                if db != 0 {
                    self.s.dr[6] = (self.s.dr[6] & !0xf) | db;
                    self.push_rf = self.rep_unfinished;
                    self.deliver_exception(Fault::Db);
                }
                if self.halt_now {
                    self.halt_now = false;
                    self.halted = true;
                }
            }
            Err(f) => {
                self.shadow_next = false;
                // A fault restarts its instruction: the handler sees RF=1.
                self.push_rf = true;
                self.deliver_exception(f);
            }
        }
        if self.shutdown {
            Step::Shutdown
        } else if self.halted {
            Step::Halted
        } else {
            Step::Ran
        }
    }

    /// Delivers NMI or INTR if one is pending and allowed. Returns true if one was.
    fn service_interrupts(&mut self) -> bool {
        if self.nmi_pending && !self.nmi_blocked {
            self.nmi_pending = false;
            self.nmi_blocked = true;
            self.halted = false;
            self.deliver_external(2);
            return true;
        }
        if self.s.eflags & flags::IF != 0 {
            if let Some(ctrl) = &self.intr {
                if ctrl.borrow().intr() {
                    // INTA: the controller hands over the vector and moves the request
                    // from its IRR to its ISR.
                    let v = ctrl.borrow_mut().acknowledge();
                    self.push_rf = self.rep_unfinished;
                    self.halted = false;
                    self.deliver_external(v);
                    return true;
                }
            }
        }
        false
    }

    /// Fetches and decodes the instruction at CS:EIP, through the decoded-instruction
    /// cache when the bytes in memory are still the ones decoded.
    fn fetch(&mut self) -> Res<Instruction> {
        let cs = self.s.seg[CS];
        let eip = self.s.eip;
        let lin = cs.base.wrapping_add(eip);
        let user = self.user();
        let code32 = self.code32();
        let slot = decode_slot(lin);
        if let Some((p, avail)) = self.mmu.code_ptr(lin, user) {
            let e = &self.dcache[slot];
            let len = e.instr.len();
            if e.lin == lin && e.eip == eip && e.code32 == code32 && len <= avail && len > 0 {
                let same = if avail >= 16 {
                    // SAFETY: `code_ptr` returned a pointer into a mapped host page with
                    // at least 16 readable bytes after it.
                    let now = unsafe { (p as *const u128).read_unaligned() };
                    (now ^ e.bytes) & e.mask == 0
                } else {
                    // SAFETY: as above, with `avail >= len` readable bytes.
                    let now = unsafe { std::slice::from_raw_parts(p, len) };
                    now == &e.bytes.to_le_bytes()[..len]
                };
                if same {
                    let instr = e.instr;
                    return within_cs(&cs, eip, &instr).map(|()| instr);
                }
            }
            if avail >= 15 {
                // SAFETY: as above, with at least 15 readable bytes in the page.
                let bytes = unsafe { std::slice::from_raw_parts(p, 15) };
                let bitness = if code32 { 32 } else { 16 };
                let mut dec = Decoder::with_ip(bitness, bytes, eip as u64, DecoderOptions::NONE);
                let instr = dec.decode();
                if !instr.is_invalid() {
                    let e = &mut self.dcache[slot];
                    e.lin = lin;
                    e.eip = eip;
                    e.code32 = code32;
                    let mut raw = [0u8; 16];
                    raw[..instr.len()].copy_from_slice(&bytes[..instr.len()]);
                    e.bytes = u128::from_le_bytes(raw);
                    e.mask = u128::MAX >> (128 - 8 * instr.len());
                    e.instr = instr;
                    return within_cs(&cs, eip, &instr).map(|()| instr);
                }
            }
        }
        let mut buf = [0u8; 32];
        let mut first = [0u8; 16];
        let n = self.mmu.fetch_page(lin, user, &mut first)?;
        buf[..n].copy_from_slice(&first[..n]);
        let mut len = n;
        let mut second_fault = None;
        if n < 16 {
            let mut more = [0u8; 16];
            match self
                .mmu
                .fetch_page(lin.wrapping_add(n as u32), user, &mut more)
            {
                Ok(m) => {
                    let take = m.min(16 - n);
                    buf[n..n + take].copy_from_slice(&more[..take]);
                    len += take;
                }
                Err(f) => second_fault = Some(f),
            }
        }
        let bitness = if code32 { 32 } else { 16 };
        let mut dec = Decoder::with_ip(
            bitness,
            &buf[..len.min(15)],
            eip as u64,
            DecoderOptions::NONE,
        );
        let instr = dec.decode();
        if instr.is_invalid() {
            if dec.last_error() == iced_x86::DecoderError::NoMoreBytes && len < 15 {
                if let Some(f) = second_fault {
                    return Err(f);
                }
            }
            // More than 15 bytes (prefixes included) is #GP(0), not #UD (SDM Vol. 2A
            // §2.3.11): iced rejects both alike, so measure the instruction without its
            // prefixes.
            let p = prefix_run(&buf[..len]);
            if p >= 15 {
                return Err(Fault::Gp(0));
            }
            if p > 0 {
                let rest =
                    Decoder::with_ip(bitness, &buf[p..len], 0, DecoderOptions::NONE).decode();
                if !rest.is_invalid() && p + rest.len() > 15 {
                    return Err(Fault::Gp(0));
                }
            }
            return Err(Fault::Ud);
        }
        within_cs(&cs, eip, &instr).map(|()| instr)
    }

    /// Executes the instruction at CS:EIP, committing EIP on success.
    fn exec_one(&mut self) -> Res<()> {
        let instr = self.fetch()?;
        if self.trace {
            eprintln!(
                "{:04x}:{:08x} {:?}",
                self.s.seg[CS].selector,
                self.s.eip,
                instr.code()
            );
        }
        let next = if self.code32() {
            instr.next_ip32()
        } else {
            instr.next_ip32() & 0xffff
        };
        self.next_eip = next;
        if instr.has_lock_prefix() && !lock_allowed(&instr) {
            return Err(Fault::Ud);
        }
        self.execute(&instr)?;
        self.s.eip = self.next_eip;
        Ok(())
    }

    fn execute(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        match i.mnemonic() {
            Add | Adc | Sub | Sbb | And | Or | Xor | Cmp | Test => self.alu2(i),
            Inc | Dec | Neg | Not => self.alu1(i),
            Mul | Imul | Div | Idiv => self.muldiv(i),
            Daa | Das | Aaa | Aas | Aam | Aad => self.bcd(i),
            Shl | Sal | Shr | Sar | Rol | Ror | Rcl | Rcr => self.shift(i),
            Shld | Shrd => self.shift_double(i),
            Bt | Bts | Btr | Btc => self.bit_test(i),
            // F3 0F BC/BD are TZCNT/LZCNT only with BMI1/ABM, which this CPU lacks: the
            // REP prefix is ignored and they execute as BSF/BSR, as on a P6.
            Bsf | Bsr | Tzcnt | Lzcnt => self.bit_scan(i),
            Mov | Movzx | Movsx | Lea | Xchg | Xadd | Cmpxchg | Cmpxchg8b | Bswap | Cbw | Cwde
            | Cwd | Cdq | Lahf | Sahf | Xlatb | Setb | Setae | Sete | Setne | Setbe | Seta
            | Sets | Setns | Setp | Setnp | Setl | Setge | Setle | Setg | Seto | Setno | Cmovb
            | Cmovae | Cmove | Cmovne | Cmovbe | Cmova | Cmovs | Cmovns | Cmovp | Cmovnp
            | Cmovl | Cmovge | Cmovle | Cmovg | Cmovo | Cmovno | Lds | Les | Lfs | Lgs | Lss
            | Bound | Nop | Pause | Salc | Endbr32 | Endbr64 | Rdsspd | Rdsspq | Reservednop
            | Prefetcht0 | Prefetcht1 | Prefetcht2 | Prefetchnta => self.data(i),
            Push | Pop | Pusha | Pushad | Popa | Popad | Pushf | Pushfd | Popf | Popfd | Enter
            | Leave => self.stack(i),
            Movsb | Movsw | Movsd | Stosb | Stosw | Stosd | Lodsb | Lodsw | Lodsd | Cmpsb
            | Cmpsw | Cmpsd | Scasb | Scasw | Scasd | Insb | Insw | Insd | Outsb | Outsw
            | Outsd => self.string(i),
            Jmp | Ja | Jae | Jb | Jbe | Je | Jne | Jg | Jge | Jl | Jle | Jo | Jno | Jp | Jnp
            | Js | Jns | Jcxz | Jecxz | Loop | Loope | Loopne | Call | Ret | Retf | Int | Int3
            | Into | Int1 | Iret | Iretd => self.control(i),
            _ => self.system(i),
        }
    }
}

/// The interpreter's bookkeeping besides `CpuState`: what lockstep runs save and
/// restore to run the same instructions twice.
#[derive(Clone, Debug)]
pub(crate) struct Bookkeeping {
    halted: bool,
    shutdown: bool,
    nmi_pending: bool,
    nmi_blocked: bool,
    retired: u64,
    next_eip: u32,
    shadow: bool,
    shadow_next: bool,
    no_trap: bool,
    halt_now: bool,
    push_rf: bool,
    rep_unfinished: bool,
    pending_db: u32,
    last_exception: Option<Fault>,
}

impl Cpu {
    pub(crate) fn bookkeeping(&self) -> Bookkeeping {
        Bookkeeping {
            halted: self.halted,
            shutdown: self.shutdown,
            nmi_pending: self.nmi_pending,
            nmi_blocked: self.nmi_blocked,
            retired: self.retired,
            next_eip: self.next_eip,
            shadow: self.shadow,
            shadow_next: self.shadow_next,
            no_trap: self.no_trap,
            halt_now: self.halt_now,
            push_rf: self.push_rf,
            rep_unfinished: self.rep_unfinished,
            pending_db: self.pending_db,
            last_exception: self.last_exception,
        }
    }

    pub(crate) fn set_bookkeeping(&mut self, b: &Bookkeeping) {
        self.halted = b.halted;
        self.shutdown = b.shutdown;
        self.nmi_pending = b.nmi_pending;
        self.nmi_blocked = b.nmi_blocked;
        self.retired = b.retired;
        self.next_eip = b.next_eip;
        self.shadow = b.shadow;
        self.shadow_next = b.shadow_next;
        self.no_trap = b.no_trap;
        self.halt_now = b.halt_now;
        self.push_rf = b.push_rf;
        self.rep_unfinished = b.rep_unfinished;
        self.pending_db = b.pending_db;
        self.last_exception = b.last_exception;
    }
}

/// DR6 single-step bit.
pub const DR6_BS: u32 = 1 << 14;

/// What a debug-register breakpoint watches (DR7 R/W field, SDM Vol. 3A §17.2.4).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakKind {
    Exec,
    Read,
    Write,
}

impl Cpu {
    /// Recomputes whether any DR0-3 breakpoint is enabled (after a DR7 write).
    pub(crate) fn update_debug(&mut self) {
        self.dbg_active = self.s.dr[7] & 0xff != 0;
    }

    /// DR6 B0-B3 bits of the enabled breakpoints that `len` bytes at `lin` hit.
    pub(crate) fn breakpoint_hits(&self, lin: u32, len: u32, kind: BreakKind) -> u32 {
        let dr7 = self.s.dr[7];
        let mut hits = 0;
        for n in 0..4 {
            if dr7 >> (2 * n) & 3 == 0 {
                continue;
            }
            let rw = (dr7 >> (16 + 4 * n)) & 3;
            let blen = match (dr7 >> (18 + 4 * n)) & 3 {
                0 => 1,
                1 => 2,
                3 => 4,
                _ => 8,
            };
            let matches_kind = match kind {
                BreakKind::Exec => rw == 0,
                BreakKind::Write => rw == 1 || rw == 3,
                BreakKind::Read => rw == 3,
            };
            if !matches_kind {
                continue;
            }
            let start = self.s.dr[n] & !(blen - 1);
            let hit = if kind == BreakKind::Exec {
                lin == self.s.dr[n]
            } else {
                (lin as u64) < start as u64 + blen as u64
                    && (start as u64) < lin as u64 + len as u64
            };
            if hit {
                hits |= 1 << n;
            }
        }
        hits
    }
}

/// The whole instruction must lie inside CS (SDM Vol. 3A §5.3): #GP(0) otherwise.
#[inline]
fn within_cs(cs: &Segment, eip: u32, i: &Instruction) -> Res<()> {
    if eip as u64 + i.len() as u64 - 1 > cs.limit as u64 {
        Err(Fault::Gp(0))
    } else {
        Ok(())
    }
}

/// Length of the run of legacy prefixes at the start of `bytes`.
fn prefix_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| {
            matches!(
                b,
                0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3
            )
        })
        .count()
}

/// LOCK is valid only on read-modify-write forms with a memory destination (SDM Vol. 2A,
/// LOCK prefix).
fn lock_allowed(i: &Instruction) -> bool {
    use Mnemonic::*;
    let memdst = i.op_count() > 0 && i.op0_kind() == iced_x86::OpKind::Memory;
    match i.mnemonic() {
        Add | Adc | And | Btc | Btr | Bts | Cmpxchg | Cmpxchg8b | Dec | Inc | Neg | Not | Or
        | Sbb | Sub | Xor | Xadd | Xchg => memdst,
        _ => false,
    }
}

/// A multi-line dump of the architectural state, for `--dump-state` and test failures.
pub fn dump(cpu: &Cpu) -> String {
    use std::fmt::Write;
    let s = &cpu.s;
    let mut o = String::new();
    let r = &s.regs;
    let _ = writeln!(
        o,
        "EAX={:08x} EBX={:08x} ECX={:08x} EDX={:08x} ESI={:08x} EDI={:08x} EBP={:08x} ESP={:08x}",
        r[0], r[3], r[1], r[2], r[6], r[7], r[5], r[4]
    );
    let _ = writeln!(
        o,
        "EIP={:08x} EFLAGS={:08x} CPL={} mode={} halted={} retired={}",
        s.eip,
        flags::get(s),
        s.cpl,
        describe_mode(cpu),
        cpu.halted,
        cpu.retired
    );
    for (name, seg) in ["ES", "CS", "SS", "DS", "FS", "GS"]
        .iter()
        .zip(s.seg.iter())
    {
        let _ = writeln!(
            o,
            "{name} ={:04x} base={:08x} limit={:08x} attr={:04x}",
            seg.selector, seg.base, seg.limit, seg.attr
        );
    }
    let _ = writeln!(
        o,
        "LDTR={:04x} TR={:04x} GDT={:08x}/{:x} IDT={:08x}/{:x}",
        s.ldtr.selector, s.tr.selector, s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit
    );
    let _ = write!(
        o,
        "CR0={:08x} CR2={:08x} CR3={:08x} CR4={:08x} DR6={:08x} DR7={:08x}",
        s.cr0, s.cr2, s.cr3, s.cr4, s.dr[6], s.dr[7]
    );
    o
}

/// Re-derives what the CPU caches from its state (paging controls, debug enables) after
/// the state was written from outside, e.g. by a test or a loader.
pub fn resync(cpu: &mut Cpu) {
    cpu.sync_paging();
    cpu.mmu.write_cr3(cpu.s.cr3);
    cpu.update_debug();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::PhysMem;

    /// An interrupt controller with one request pending.
    struct OneShot(Option<u8>);

    impl InterruptController for OneShot {
        fn intr(&self) -> bool {
            self.0.is_some()
        }
        fn acknowledge(&mut self) -> u8 {
            self.0.take().unwrap_or(0xff)
        }
    }

    fn real_mode_cpu(code: &[u8]) -> Cpu {
        let mut cpu = Cpu::new(
            Mmu::new(PhysMem::new(1 << 20, &[]).unwrap()),
            PortBus::new(),
        );
        cpu.s.seg[CS] = Segment {
            selector: 0,
            attr: 0x9b,
            base: 0,
            limit: 0xffff,
        };
        cpu.s.eip = 0x7c00;
        cpu.mmu.phys.load(0x7c00, code);
        cpu
    }

    #[test]
    fn rewritten_code_is_decoded_again() {
        // mov ax, 0x1111 ; then the guest rewrites the immediate through a store:
        // mov byte [0x7c02], 0x22 ; jmp 0x7c00
        let mut cpu = real_mode_cpu(&[0xb8, 0x11, 0x11, 0xc6, 0x06, 0x02, 0x7c, 0x22, 0xeb, 0xf6]);
        for _ in 0..3 {
            assert_eq!(cpu.step(), Step::Ran);
        }
        assert_eq!(cpu.s.regs[0] & 0xffff, 0x1111);
        assert_eq!(cpu.s.eip, 0x7c00);
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(
            cpu.s.regs[0] & 0xffff,
            0x2211,
            "the modified instruction ran"
        );
    }

    #[test]
    fn intr_wakes_hlt_through_the_ivt_and_nmi_wins() {
        // sti ; hlt ; (handler for vector 0x20 at 0:0x8000 and NMI at 0:0x9000: hlt)
        let mut cpu = real_mode_cpu(&[0xfb, 0xf4]);
        cpu.s.seg[jit::abi::SS].base = 0;
        cpu.s.regs[jit::abi::ESP] = 0x6000;
        cpu.mmu.phys.load(0x20 * 4, &[0x00, 0x80, 0x00, 0x00]);
        cpu.mmu.phys.load(2 * 4, &[0x00, 0x90, 0x00, 0x00]);
        cpu.mmu.phys.load(0x8000, &[0xf4]);
        cpu.mmu.phys.load(0x9000, &[0xf4]);
        assert_eq!(cpu.step(), Step::Ran); // sti
        assert_eq!(cpu.step(), Step::Halted);
        assert_eq!(cpu.step(), Step::Halted, "nothing pending: stays halted");
        cpu.intr = Some(Rc::new(RefCell::new(OneShot(Some(0x20)))));
        assert_eq!(cpu.step(), Step::Ran, "INTR delivered");
        assert_eq!(cpu.s.eip, 0x8000);
        assert_eq!(cpu.s.eflags & flags::IF, 0, "IF cleared on entry");
        // Return frame: IP after HLT, CS, FLAGS with IF set.
        assert_eq!(
            cpu.mmu.phys.dump(0x6000 - 6, 6),
            vec![0x02, 0x7c, 0, 0, 0x02, 0x02]
        );
        // With IF clear, an NMI still gets through.
        cpu.nmi_pending = true;
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.s.eip, 0x9000);
    }

    /// Flat 32-bit ring-0 protected mode: GDT at 0x1000 (code 0x08, data 0x10), IDT at
    /// 0x2000 with every vector an interrupt gate to 0x3000 (HLT), stack at 0x8000, and
    /// `code` at 0x4000.
    fn protected_cpu(code: &[u8]) -> Cpu {
        let mut cpu = real_mode_cpu(&[]);
        let gdt: [u32; 6] = [0, 0, 0x0000_ffff, 0x00cf_9a00, 0x0000_ffff, 0x00cf_9200];
        for (k, d) in gdt.iter().enumerate() {
            cpu.mmu.phys.write_u32(0x1000 + 4 * k as u32, *d);
        }
        for v in 0..32 {
            cpu.mmu
                .phys
                .write_u32(0x2000 + 8 * v, (0x08 << 16) | 0x3000);
            cpu.mmu.phys.write_u32(0x2004 + 8 * v, 0x8e00);
        }
        cpu.mmu.phys.load(0x3000, &[0xf4]);
        cpu.mmu.phys.load(0x4000, code);
        cpu.s.cr0 |= cr0::PE;
        cpu.s.gdtr = jit::abi::TableReg {
            base: 0x1000,
            limit: 0x17,
        };
        cpu.s.idtr = jit::abi::TableReg {
            base: 0x2000,
            limit: 0xff,
        };
        let flat = |selector, attr| Segment {
            selector,
            attr,
            base: 0,
            limit: 0xffff_ffff,
        };
        cpu.s.seg = [flat(0x10, 0xc093); 6];
        cpu.s.seg[CS] = flat(0x08, 0xc09b);
        cpu.s.regs[jit::abi::ESP] = 0x8000;
        cpu.s.eip = 0x4000;
        cpu
    }

    fn pushed_eflags(cpu: &mut Cpu) -> u32 {
        cpu.mmu.phys.read_u32(cpu.s.regs[jit::abi::ESP] + 8)
    }

    #[test]
    fn faults_push_rf_set_and_software_interrupts_do_not() {
        let mut cpu = protected_cpu(&[0x0f, 0x0b]); // ud2
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.last_exception, Some(Fault::Ud));
        assert_eq!(cpu.s.eip, 0x3000);
        assert_eq!(cpu.mmu.phys.read_u32(0x8000 - 12), 0x4000, "fault EIP");
        assert_ne!(
            pushed_eflags(&mut cpu) & flags::RF,
            0,
            "fault-class: RF=1 pushed"
        );
        assert_eq!(cpu.s.eflags & flags::RF, 0, "RF itself stays clear");

        let mut cpu = protected_cpu(&[0xcd, 0x06]); // int 6
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.mmu.phys.read_u32(0x8000 - 12), 0x4002, "return EIP");
        assert_eq!(
            pushed_eflags(&mut cpu) & flags::RF,
            0,
            "software interrupt: RF=0"
        );
    }

    #[test]
    fn bad_handler_selector_error_code_carries_ext() {
        // Vectors 6 and 13 name selector 0x40, beyond the GDT limit: the #UD's delivery
        // raises #GP, whose delivery raises #GP again: a double fault, delivered through
        // the good vector 8 with error code 0.
        let mut cpu = protected_cpu(&[0x0f, 0x0b]);
        cpu.mmu
            .phys
            .write_u32(0x2000 + 8 * 6, (0x40 << 16) | 0x3000);
        cpu.mmu
            .phys
            .write_u32(0x2000 + 8 * 13, (0x40 << 16) | 0x3000);
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.s.eip, 0x3000, "#DF handler runs");
        assert_eq!(
            cpu.mmu.phys.read_u32(cpu.s.regs[jit::abi::ESP]),
            0,
            "#DF error code"
        );
        // Software INT 6 through the bad gate: #GP(0x40), without EXT.
        let mut cpu = protected_cpu(&[0xcd, 0x06]);
        cpu.mmu
            .phys
            .write_u32(0x2000 + 8 * 6, (0x40 << 16) | 0x3000);
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.last_exception, Some(Fault::Gp(0x40)));
        assert_eq!(
            cpu.mmu.phys.read_u32(cpu.s.regs[jit::abi::ESP]),
            0x40,
            "no EXT for INT n"
        );
        // The same bad gate reached by a hardware exception: EXT set.
        let mut cpu = protected_cpu(&[0x0f, 0x0b]);
        cpu.mmu
            .phys
            .write_u32(0x2000 + 8 * 6, (0x40 << 16) | 0x3000);
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(
            cpu.mmu.phys.read_u32(cpu.s.regs[jit::abi::ESP]),
            0x41,
            "EXT for #UD"
        );
    }

    #[test]
    fn interrupt_between_rep_iterations_pushes_rf() {
        // rep stosb with ECX larger than one chunk: an INTR arrives between chunks.
        let mut cpu = protected_cpu(&[0xf3, 0xaa]);
        cpu.s.regs[jit::abi::ECX] = 3 * REP_CHUNK;
        cpu.s.regs[jit::abi::EDI] = 0x10000;
        cpu.s.eflags |= flags::IF;
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.s.eip, 0x4000, "unfinished: EIP stays on the REP");
        cpu.intr = Some(Rc::new(RefCell::new(OneShot(Some(0x10)))));
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(cpu.s.eip, 0x3000);
        assert_ne!(pushed_eflags(&mut cpu) & flags::RF, 0);
    }

    #[test]
    fn hint_nop_space_executes_as_nops() {
        // endbr32; prefetcht0 [esi] (ESI beyond RAM and the segment: no access);
        // rdsspd eax; nop dword [eax]
        let mut cpu = protected_cpu(&[
            0xf3, 0x0f, 0x1e, 0xfb, 0x0f, 0x18, 0x0e, 0xf3, 0x0f, 0x1e, 0xc8, 0x0f, 0x1f, 0x00,
        ]);
        cpu.s.regs[jit::abi::ESI] = 0xdead_0000;
        cpu.s.regs[jit::abi::EAX] = 0x1234;
        for _ in 0..4 {
            assert_eq!(cpu.step(), Step::Ran);
        }
        assert_eq!(cpu.last_exception, None);
        assert_eq!(cpu.s.eip, 0x400e);
        assert_eq!(
            cpu.s.regs[jit::abi::EAX],
            0x1234,
            "RDSSP is a NOP without CET"
        );
    }

    #[test]
    fn instruction_beyond_cs_limit_faults_even_when_cached() {
        let mut cpu = real_mode_cpu(&[0x90, 0x90]);
        assert_eq!(cpu.step(), Step::Ran);
        cpu.s.eip = 0x7c00;
        cpu.s.seg[CS].limit = 0x7c00 - 1;
        cpu.s.idtr.limit = 0; // make the #GP visible as a shutdown
        assert_eq!(cpu.step(), Step::Shutdown);
        assert_eq!(cpu.last_exception, Some(Fault::Gp(0)));
    }
}
