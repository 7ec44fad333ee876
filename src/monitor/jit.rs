//! The JIT engine and the helpers translated code calls (DESIGN.md, "Data flow of one
//! guest instruction"; "Self-modifying code").
//!
//! `JitEngine::step` is the run loop's unit of work in JIT mode: it finds (or translates)
//! the block at CS:EIP and runs it, or runs one interpreter step when translated code
//! must not run — an interrupt or NMI is deliverable, single-step or debug registers
//! are active, an interrupt shadow or RF is pending, the code is not in RAM/ROM, the
//! block does not fit the instruction budget, or the next instruction is one that
//! only the interpreter runs (privileged, I/O, segment loads, far transfers, x87...).
//!
//! Helpers never unwind: they return a status. An instruction that the backend does not
//! lower, or whose memory access misses the shadow TLB, runs through `interp_one`: the
//! interpreter's own `Cpu::step`, with the run loop's per-instruction clock and TSC, so
//! faults are delivered by the interpreter's delivery code and the block exits.

use std::time::Instant;

use devices::Clock;
use jit::abi::{exit, CpuState, HelperTable, CS, DS, ES, SS};
use jit::cache::{Block, BlockKey, CodeCache};
use jit::frontend::{self, Mode};
use jit::ir;

use crate::cpu::{attr, cr0, flags, Cpu, Step};

/// Host code space for translated blocks.
const CACHE_BYTES: usize = 32 << 20;

/// The run loop's time base for the current slice: instruction `retired` runs at
/// `now + (retired - start) * ps_per_instr / 1000` ns (the loop's own formula).
#[derive(Clone, Copy)]
pub struct Timing<'a> {
    pub clock: &'a Clock,
    pub now: u64,
    pub start: u64,
    pub ps_per_instr: u64,
    pub tsc_offset: u64,
}

impl Timing<'_> {
    /// Sets the clock and the TSC as the run loop does before an instruction.
    #[inline]
    fn before_instruction(&self, cpu: &mut Cpu) {
        self.clock
            .set(self.now + cpu.retired.saturating_sub(self.start) * self.ps_per_instr / 1000);
        cpu.s.tsc = self.clock.now().wrapping_add(self.tsc_offset);
    }
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    /// Blocks entered.
    pub blocks_run: u64,
    /// Instructions retired inside blocks by native code.
    pub native: u64,
    /// Instructions the interpreter ran from inside blocks (fallbacks and slow paths).
    pub fallback: u64,
    /// Interpreter steps taken outside blocks (system instructions, events, ...).
    pub interp_steps: u64,
    /// Code pages written (each drops the blocks in it).
    pub code_writes: u64,
}

/// What a helper finds through `CpuState::jit.ctx` while a block runs.
struct Ctx<'a> {
    cpu: *mut Cpu,
    timing: Timing<'a>,
    /// Interpreter steps taken from the block.
    fallbacks: u64,
    /// Instructions retired natively, as collected from the block's counter.
    native: u64,
    /// `RX86_JIT_PROFILE`: interpreted instructions by mnemonic.
    profile: Option<*mut std::collections::HashMap<String, u64>>,
}

pub struct JitEngine {
    cache: CodeCache,
    helpers: Box<HelperTable>,
    pub stats: JitStats,
    started: Instant,
    /// Lockstep: every block also runs in the interpreter, and the two must agree.
    lockstep: bool,
    /// The first difference lockstep found: both states, printed.
    pub divergence: Option<String>,
    /// Steps (native instructions + interpreter calls) the last block took.
    last_steps: u64,
    /// `RX86_JIT_PROFILE=1`: the instructions blocks left to the interpreter, counted
    /// by mnemonic (and operand size) as they run; printed with `--stats`.
    profile: Option<std::collections::HashMap<String, u64>>,
}

impl JitEngine {
    pub fn new() -> std::io::Result<Self> {
        let cache =
            CodeCache::new(CACHE_BYTES).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self {
            cache,
            helpers: Box::new(HelperTable {
                interp_one: helper_interp_one,
                cond: helper_cond,
                carry: helper_carry,
            }),
            stats: JitStats::default(),
            started: Instant::now(),
            lockstep: false,
            divergence: None,
            last_steps: 0,
            profile: std::env::var_os("RX86_JIT_PROFILE").map(|_| Default::default()),
        })
    }

    /// An engine that runs every block in both engines and compares (`--engine
    /// lockstep`).
    pub fn new_lockstep() -> std::io::Result<Self> {
        let mut e = Self::new()?;
        e.lockstep = true;
        Ok(e)
    }

    /// The code cache, for statistics and tests.
    pub fn cache(&self) -> &CodeCache {
        &self.cache
    }

    /// Drops every translated block (and the has-code set with it).
    pub fn flush(&mut self, cpu: &mut Cpu) {
        self.cache.flush();
        cpu.mmu.phys.clear_code();
        cpu.mmu.flush_all();
    }

    /// Invalidates the blocks on code pages written since the last call (by the CPU
    /// through the slow path, by the loaders, or by bus-master DMA).
    fn invalidate(&mut self, cpu: &mut Cpu) {
        for page in cpu.mmu.phys.take_code_writes() {
            self.stats.code_writes += 1;
            self.cache.invalidate_page(page);
        }
    }

    /// Runs translated blocks from CS:EIP, one after another, retiring at most `limit`
    /// instructions, until one ends in an event or the next cannot run translated; or,
    /// if no block can run here, one interpreter step. Blocks hold no I/O, so nothing
    /// the run loop checks between steps can change while they run back to back.
    pub fn step(&mut self, cpu: &mut Cpu, timing: &Timing, limit: u64) -> Step {
        if cpu.mmu.phys.code_written() {
            self.invalidate(cpu);
        }
        let Some(mut b) = self.find(cpu, limit) else {
            self.stats.interp_steps += 1;
            return cpu.step();
        };
        if self.lockstep {
            return self.lockstep_block(cpu, &b, timing);
        }
        let mut left = limit;
        loop {
            let before = cpu.retired;
            let (step, r) = self.run_block(cpu, &b, timing, left);
            left = left.saturating_sub(cpu.retired - before);
            if step != Step::Ran || r != exit::CONTINUE {
                return step;
            }
            let exit_field = cpu.s.jit.last_exit;
            let flushes = self.cache.stats.flushes;
            match self.find(cpu, left) {
                Some(next) => {
                    // The exit just taken targets this block, in the same page of flat
                    // code with the same mode: link it, unless the cache was flushed
                    // meanwhile (the field would be gone with its block).
                    if exit_field != 0 && self.cache.stats.flushes == flushes {
                        if let Err(e) = self.cache.link(exit_field, &next) {
                            tracing::debug!("jit: {e}");
                        }
                    }
                    b = next
                }
                None => return Step::Ran,
            }
        }
    }

    /// The block to run now, if translated code may run.
    fn find(&mut self, cpu: &mut Cpu, limit: u64) -> Option<Block> {
        let s = &cpu.s;
        if cpu.shutdown
            || cpu.halted
            || cpu.in_shadow()
            || cpu.dbg_active
            || s.eflags & (flags::TF | flags::RF) != 0
            || cpu.nmi_pending
            || (s.eflags & flags::IF != 0 && cpu.intr_pending())
        {
            return None;
        }
        let mode = mode_of(cpu);
        let cs = cpu.s.seg[CS];
        let eip = cpu.s.eip;
        let lin = cs.base.wrapping_add(eip);
        let (ptr, avail) = cpu.mmu.code_ptr(lin, mode.cpl == 3)?;
        let phys = cpu.mmu.phys.host_to_phys(ptr)?;
        let key = BlockKey {
            phys,
            eip,
            mode: mode.key(),
        };
        let block = match self.cache.lookup(&key) {
            Some(b) => b,
            None => {
                // SAFETY: `code_ptr` returned a pointer into a mapped RAM/ROM page with
                // `avail` readable bytes after it; nothing writes guest memory while
                // this slice lives (it is copied by the decoder before we return).
                let code = unsafe { std::slice::from_raw_parts(ptr, avail) };
                let src = frontend::decode_block(code, eip, mode.code32, frontend::MAX_BLOCK_INSNS);
                let irb = ir::lower(&src, mode);
                let host = if irb.is_empty() {
                    None
                } else {
                    // Linked exits stay within one page of flat code (see `step`).
                    jit::x64::emit(&irb, mode.cpl == 3, mode.native() && !self.lockstep).ok()
                };
                let insns = if host.is_some() { irb.len() as u32 } else { 0 };
                let flushes = self.cache.stats.flushes;
                match self.cache.insert(
                    key,
                    host.as_ref().map(|h| (&h.code[..], h.chain_entry)),
                    insns,
                    irb.bytes,
                    irb.fallbacks() as u32,
                ) {
                    Ok(b) => {
                        if self.cache.stats.flushes != flushes {
                            // The region was full: every older block is gone, and the
                            // has-code set with them.
                            cpu.mmu.phys.clear_code();
                        }
                        if b.insns > 0 && !cpu.mmu.phys.is_code(phys) {
                            cpu.mmu.mark_code(phys);
                        }
                        b
                    }
                    Err(e) => {
                        tracing::debug!("jit: {e}");
                        return None;
                    }
                }
            }
        };
        if block.insns == 0
            || block.insns as u64 > limit
            || eip as u64 + block.bytes as u64 - 1 > cs.limit as u64
        {
            return None;
        }
        Some(block)
    }

    /// Runs a block (and the blocks its linked exits reach), retiring at most `budget`
    /// instructions.
    fn run_block(&mut self, cpu: &mut Cpu, b: &Block, timing: &Timing, budget: u64) -> (Step, u32) {
        let Some(f) = self.cache.entry(b) else {
            self.stats.interp_steps += 1;
            return (cpu.step(), exit::EVENT);
        };
        let tsc = cpu.s.tsc;
        let cp: *mut Cpu = cpu;
        let mut ctx = Ctx {
            cpu: cp,
            timing: *timing,
            fallbacks: 0,
            native: 0,
            profile: self.profile.as_mut().map(|p| p as *mut _),
        };
        // SAFETY: `cp` comes from the exclusive borrow `cpu`, unused until the block
        // returns; the block and its helpers reach the CPU only through `cp` (the state
        // pointer is `&mut (*cp).s`, the context holds `cp`). The link fields point at
        // the helper table (boxed, owned by self), the context (on this stack frame)
        // and the shadow TLB (allocated once by the MMU), all alive for the call. The
        // block is a complete function emitted by `x64::emit` for this mode.
        let r = unsafe {
            let st: *mut CpuState = &raw mut (*cp).s;
            (*st).jit.helpers = &*self.helpers as *const HelperTable as usize;
            (*st).jit.ctx = &raw mut ctx as usize;
            (*st).jit.tlb = (*cp).mmu.tlb_base() as usize;
            (*st).jit.native_retired = 0;
            (*st).jit.budget = budget.min(i32::MAX as u64) as i32;
            (*st).jit.last_exit = 0;
            f(st)
        };
        let cpu = ctx_cpu(cp);
        let native = cpu.s.jit.native_retired as u64;
        ctx.native = ctx.native.wrapping_add(native);
        cpu.retired += native;
        cpu.s.jit.native_retired = 0;
        cpu.s.jit.ctx = 0;
        // The run loop reads a changed TSC as a guest WRMSR: blocks never write it.
        cpu.s.tsc = tsc;
        self.stats.blocks_run += 1;
        self.stats.fallback += ctx.fallbacks;
        self.stats.native += ctx.native;
        self.last_steps = ctx.native + ctx.fallbacks;
        let step = if cpu.shutdown {
            Step::Shutdown
        } else if cpu.halted {
            Step::Halted
        } else {
            Step::Ran
        };
        (step, r)
    }

    /// Lockstep: runs the block in the JIT with every RAM write logged, undoes it, runs
    /// the same number of interpreter steps from the same state, and compares the
    /// architectural state (flags materialized) and every byte either run wrote. The
    /// interpreter's result stands. Differences end the run (`divergence`).
    ///
    /// While the log is on the shadow TLB grants no write access, so the JIT's stores
    /// take the slow path (the interpreter): native stores are not cross-checked here.
    fn lockstep_block(&mut self, cpu: &mut Cpu, b: &Block, timing: &Timing) -> Step {
        cpu.mmu.phys.set_write_log(true);
        cpu.mmu.flush_all();
        let s0 = cpu.s.clone();
        let k0 = cpu.bookkeeping();
        let (_, _) = self.run_block(cpu, b, timing, b.insns as u64);
        let steps = self.last_steps;
        let jit_log = cpu.mmu.phys.set_write_log(true);
        let jit_state = materialized(&cpu.s);
        let jit_retired = cpu.retired;
        let jit_mem: Vec<(u32, u8)> = jit_log
            .iter()
            .map(|&(pa, _)| (pa, cpu.mmu.phys.read_u8(pa)))
            .collect();
        cpu.mmu.phys.undo_writes(&jit_log);
        // The interpreter walks the page tables afresh, as the JIT pass did.
        cpu.mmu.flush_all();
        cpu.s = s0.clone();
        cpu.set_bookkeeping(&k0);
        for _ in 0..steps {
            timing.before_instruction(cpu);
            if cpu.step() != Step::Ran {
                break;
            }
        }
        let int_log = cpu.mmu.phys.set_write_log(false);
        cpu.mmu.flush_all();
        let int_state = materialized(&cpu.s);
        let mut diffs = Vec::new();
        if jit_state != int_state {
            diffs.push(format!(
                "state differs:\n  jit:    {}\n  interp: {}",
                brief(&jit_state),
                brief(&int_state)
            ));
        }
        if jit_retired != cpu.retired {
            diffs.push(format!(
                "retired differs: jit {jit_retired}, interp {}",
                cpu.retired
            ));
        }
        // Memory: the JIT's final byte at each address either run wrote.
        let mut before = std::collections::HashMap::new();
        for &(pa, old) in &int_log {
            before.entry(pa).or_insert(old);
        }
        let jit_final: std::collections::HashMap<u32, u8> = jit_mem.iter().copied().collect();
        for &(pa, _) in jit_log.iter().chain(&int_log) {
            let want = cpu.mmu.phys.read_u8(pa);
            let got = jit_final
                .get(&pa)
                .or_else(|| before.get(&pa))
                .copied()
                .unwrap_or(want);
            if got != want {
                diffs.push(format!(
                    "memory {pa:#010x}: jit {got:#04x}, interp {want:#04x}"
                ));
                break;
            }
        }
        if !diffs.is_empty() && self.divergence.is_none() {
            self.divergence = Some(format!(
                "lockstep: block at {:04x}:{:08x} ({} instructions) differs after {} steps\n{}\n{}",
                s0.seg[CS].selector,
                s0.eip,
                b.insns,
                steps,
                diffs.join("\n"),
                crate::cpu::dump(cpu)
            ));
        }
        if cpu.shutdown {
            Step::Shutdown
        } else if cpu.halted {
            Step::Halted
        } else {
            Step::Ran
        }
    }

    /// A summary for `--stats`: blocks, lookups and hit rate, fallback share,
    /// invalidations, guest MIPS.
    pub fn report(&self, retired: u64) -> String {
        let c = &self.cache.stats;
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let interp = self.stats.fallback + self.stats.interp_steps;
        format!(
            "jit: {} blocks translated ({} KiB host code, {} flushes), {} lookups, {:.2}% hits; \
             {} blocks entered, {} exits linked; instructions {} ({} native, {} interpreter: {:.2}% fallback share, \
             {} inside blocks); {} code-page writes, {} blocks invalidated; {:.1} guest MIPS",
            c.translated,
            c.code_bytes / 1024,
            c.flushes,
            c.lookups,
            100.0 * c.hits as f64 / c.lookups.max(1) as f64,
            self.stats.blocks_run,
            c.links,
            retired,
            retired.saturating_sub(interp),
            interp,
            100.0 * interp as f64 / retired.max(1) as f64,
            self.stats.fallback,
            self.stats.code_writes,
            c.invalidated,
            retired as f64 / secs / 1e6,
        ) + &self.profile_report()
    }

    /// The most frequent interpreted instructions (`RX86_JIT_PROFILE`).
    fn profile_report(&self) -> String {
        let Some(p) = &self.profile else {
            return String::new();
        };
        let mut v: Vec<_> = p.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1));
        let mut o =
            String::from("\njit profile, interpreted inside blocks (mnemonic/size: count):");
        for (k, n) in v.iter().take(25) {
            o += &format!("\n  {k}: {n}");
        }
        o
    }
}

#[inline]
fn ctx_cpu<'a>(cp: *mut Cpu) -> &'a mut Cpu {
    // SAFETY: called with the pointer taken from the caller's exclusive borrow after
    // the block returned; no other reference to the CPU is live.
    unsafe { &mut *cp }
}

/// The state with the lazy flags evaluated into EFLAGS: how two engines are compared.
fn materialized(s: &CpuState) -> CpuState {
    let mut m = s.clone();
    flags::materialize(&mut m);
    m.lazy = Default::default();
    m.tsc = 0;
    m
}

/// One line of registers for a lockstep report.
fn brief(s: &CpuState) -> String {
    let r = &s.regs;
    format!(
        "EAX={:08x} ECX={:08x} EDX={:08x} EBX={:08x} ESP={:08x} EBP={:08x} ESI={:08x} EDI={:08x} EIP={:08x} EFLAGS={:08x}",
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], s.eip, s.eflags
    )
}

/// The mode key of the current CPU state.
pub fn mode_of(cpu: &Cpu) -> Mode {
    let s = &cpu.s;
    let pe = s.cr0 & cr0::PE != 0;
    let vm = s.eflags & flags::VM != 0;
    let cs = &s.seg[CS];
    let flat_data = |n: usize| {
        let g = &s.seg[n];
        g.base == 0 && g.limit == 0xffff_ffff && g.attr & 0x8e == 0x82
    };
    Mode {
        code32: cs.attr & attr::DB != 0,
        stack32: s.seg[SS].attr & attr::DB != 0,
        cpl: s.cpl as u8,
        pe,
        vm,
        paging: pe && s.cr0 & cr0::PG != 0,
        flat: pe
            && !vm
            && cs.base == 0
            && cs.limit == 0xffff_ffff
            && flat_data(DS)
            && flat_data(ES)
            && flat_data(SS),
    }
}

/// Recovers the helper context from the state pointer.
///
/// # Safety
/// `state` must be the state of a block run by `JitEngine::run_block`, whose `jit.ctx`
/// points at its live `Ctx`.
unsafe fn ctx<'a>(state: *mut CpuState) -> &'a mut Ctx<'a> {
    // SAFETY: per the function contract.
    unsafe { &mut *((*state).jit.ctx as *mut Ctx<'a>) }
}

/// Runs the instruction at EIP in the interpreter, as the run loop would.
extern "C" fn helper_interp_one(state: *mut CpuState, next_eip: u32) -> u32 {
    // SAFETY: only translated code calls this, with its state pointer.
    let ctx = unsafe { ctx(state) };
    let cpu = ctx_cpu(ctx.cpu);
    let native = cpu.s.jit.native_retired as u64;
    ctx.native += native;
    cpu.retired += native;
    cpu.s.jit.native_retired = 0;
    ctx.timing.before_instruction(cpu);
    if let Some(p) = ctx.profile {
        // SAFETY: the engine's profile map, alive for the block run; only this helper
        // touches it meanwhile.
        profile_one(cpu, unsafe { &mut *p });
    }
    let step = cpu.step();
    ctx.fallbacks += 1;
    if step != Step::Ran
        || cpu.s.eip != next_eip
        || cpu.mmu.phys.code_written()
        || cpu.nmi_pending
        || (cpu.interruptible() && cpu.intr_pending())
        || cpu.in_shadow()
        || cpu.s.eflags & (flags::TF | flags::RF) != 0
        || cpu.dbg_active
    {
        exit::EVENT
    } else {
        exit::CONTINUE
    }
}

/// Counts the instruction at CS:EIP for `RX86_JIT_PROFILE`.
fn profile_one(cpu: &Cpu, map: &mut std::collections::HashMap<String, u64>) {
    let lin = cpu.s.seg[CS].base.wrapping_add(cpu.s.eip);
    let Some((p, avail)) = cpu.mmu.code_ptr(lin, cpu.s.cpl == 3) else {
        return;
    };
    // SAFETY: `code_ptr` guarantees `avail` readable bytes at `p`.
    let bytes = unsafe { std::slice::from_raw_parts(p, avail.min(15)) };
    let bits = if cpu.s.seg[CS].attr & attr::DB != 0 {
        32
    } else {
        16
    };
    let i = iced_x86::Decoder::with_ip(bits, bytes, 0, iced_x86::DecoderOptions::NONE).decode();
    let size = (0..i.op_count())
        .find_map(|n| match i.op_kind(n) {
            iced_x86::OpKind::Register => Some(i.op_register(n).size()),
            iced_x86::OpKind::Memory => Some(i.memory_size().size()),
            _ => None,
        })
        .unwrap_or(0);
    *map.entry(format!("{:?}/{}", i.mnemonic(), size))
        .or_default() += 1;
}

/// Evaluates a condition code from the (lazy) flags.
extern "C" fn helper_cond(state: *mut CpuState, cc: u32) -> u32 {
    // SAFETY: only translated code calls this, with its live state pointer.
    let s = unsafe { &*state };
    flags::cond(s, cc as u8) as u32
}

/// The current CF.
extern "C" fn helper_carry(state: *mut CpuState) -> u32 {
    // SAFETY: only translated code calls this, with its live state pointer.
    let s = unsafe { &*state };
    flags::cf(s) as u32
}
