//! Path analysis of a case: follows every path through the code (both ways at each
//! conditional branch) with a small value model — registers and data bytes are known or
//! unknown — and proves that the case
//!
//! - touches memory only inside the data area, ESP known throughout;
//! - cannot fault: no `#DE` (SDM Vol. 2A "DIV", "IDIV"), no `#BR` ("BOUND"), no `AAM 0`,
//!   `POPF` never sets TF/NT/AC, branches stay inside the code;
//! - never executes an instruction whose result the SDM leaves undefined (16-bit
//!   SHLD/SHRD with a count above 16, 16-bit BSWAP);
//! - never reads a flag that an earlier instruction left undefined,
//!
//! and computes which status flags are still undefined at the end (the complement is the
//! case's `flags_mask`). Flag effects come from iced-x86's `rflags_*` tables, refined where
//! they depend on a count (SDM Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD",
//! "SHRD"; REP CMPS/SCAS with ECX = 0).

use super::eflags::{AC, AF, CF, DF, IF, NT, OF, PF, SF, STATUS, TF, ZF};
use super::{disasm, CaseState, DATA_BASE, DATA_SIZE};
use iced_x86::{
    Code, Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic,
    OpAccess, OpKind, Register, RflagsBits,
};
use std::collections::BTreeMap;

const ESP: usize = 4;
const EBP: usize = 5;
const ECX: usize = 1;
const MAX_STEPS: usize = 64;
const MAX_PATHS: usize = 64;

/// What is known at one point of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AState {
    /// Register values where known. ESP is always known.
    pub regs: [Option<u32>; 8],
    /// Data bytes written so far (offset from `DATA_BASE` → value if known). Offsets not
    /// here still hold their initial value.
    pub mem: BTreeMap<u32, Option<u8>>,
    /// Status flags (EFLAGS bits) whose value is undefined.
    pub undef: u32,
}

impl AState {
    fn new(init: &CaseState) -> Self {
        AState {
            regs: init.regs.map(Some),
            mem: BTreeMap::new(),
            undef: 0,
        }
    }

    /// Value of the data byte at `addr` (a linear address) if known.
    pub fn byte(&self, init: &CaseState, addr: u32) -> Option<u8> {
        let off = addr.wrapping_sub(DATA_BASE);
        if off as usize >= DATA_SIZE {
            return None;
        }
        match self.mem.get(&off) {
            Some(v) => *v,
            None => Some(init.mem[off as usize]),
        }
    }

    /// Little-endian value of `size` bytes at `addr` if all are known.
    pub fn read(&self, init: &CaseState, addr: u32, size: u32) -> Option<u32> {
        let mut v = 0u32;
        for i in (0..size).rev() {
            v = (v << 8) | u32::from(self.byte(init, addr.wrapping_add(i))?);
        }
        Some(v)
    }

    /// Whether no byte of `[addr, addr+size)` has been written yet (so changing the
    /// initial image there changes no earlier write).
    pub fn pristine(&self, addr: u32, size: u32) -> bool {
        let off = addr.wrapping_sub(DATA_BASE);
        (off as usize) + (size as usize) <= DATA_SIZE
            && self.mem.range(off..off + size).next().is_none()
    }

    fn write(&mut self, addr: u32, size: u32, value: Option<u32>) {
        for i in 0..size {
            let off = addr.wrapping_add(i).wrapping_sub(DATA_BASE);
            self.mem.insert(off, value.map(|v| (v >> (8 * i)) as u8));
        }
    }

    fn reg(&self, r: Register) -> Option<u32> {
        let full = self.regs[gpr_index(r)?]?;
        Some(match r.size() {
            1 if is_high_byte(r) => (full >> 8) & 0xFF,
            1 => full & 0xFF,
            2 => full & 0xFFFF,
            _ => full,
        })
    }

    /// Sets `r` (any size) to `v` when the rest of the full register is known.
    fn set_reg(&mut self, r: Register, v: Option<u32>) {
        let Some(i) = gpr_index(r) else { return };
        let old = self.regs[i];
        self.regs[i] = match (r.size(), old, v) {
            (4, _, v) => v,
            (2, Some(o), Some(v)) => Some((o & 0xFFFF_0000) | (v & 0xFFFF)),
            (1, Some(o), Some(v)) if is_high_byte(r) => Some((o & 0xFFFF_00FF) | ((v & 0xFF) << 8)),
            (1, Some(o), Some(v)) => Some((o & 0xFFFF_FF00) | (v & 0xFF)),
            _ => None,
        };
    }
}

/// The result of [`analyze`].
#[derive(Clone, Debug)]
pub struct Analysis {
    /// What holds at the end on every path (values that differ between paths unknown).
    pub end: AState,
    /// EFLAGS bits to compare: everything but the status flags undefined on some path.
    pub flags_mask: u32,
    /// Number of paths from start to end.
    pub paths: usize,
}

fn is_high_byte(r: Register) -> bool {
    matches!(r, Register::AH | Register::CH | Register::DH | Register::BH)
}

/// ModRM number (EAX=0 ... EDI=7) of a general register of any size.
pub(crate) fn gpr_index(r: Register) -> Option<usize> {
    let full = r.full_register32();
    if (Register::EAX..=Register::EDI).contains(&full) {
        Some(full as usize - Register::EAX as usize)
    } else {
        None
    }
}

/// iced-x86 `RflagsBits` to EFLAGS bits.
fn to_eflags(bits: u32) -> u32 {
    const MAP: [(u32, u32); 9] = [
        (RflagsBits::OF, OF),
        (RflagsBits::SF, SF),
        (RflagsBits::ZF, ZF),
        (RflagsBits::AF, AF),
        (RflagsBits::CF, CF),
        (RflagsBits::PF, PF),
        (RflagsBits::DF, DF),
        (RflagsBits::IF, IF),
        (RflagsBits::AC, AC),
    ];
    MAP.iter()
        .filter(|(iced, _)| bits & iced != 0)
        .fold(0, |acc, (_, e)| acc | e)
}

/// Flag effects of one instruction: (read, written with a defined value, made undefined).
fn flag_effects(ins: &Instruction, st: &AState) -> Result<(u32, u32, u32), String> {
    let read = to_eflags(ins.rflags_read());
    let undef = to_eflags(ins.rflags_undefined());
    let defined =
        to_eflags(ins.rflags_written() | ins.rflags_cleared() | ins.rflags_set()) & !undef;
    let m = ins.mnemonic();
    let width = operand_width(ins);
    let shift = matches!(
        m,
        Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar
    );
    let rotate = matches!(m, Mnemonic::Rol | Mnemonic::Ror);
    let rotate_carry = matches!(m, Mnemonic::Rcl | Mnemonic::Rcr);
    let double = matches!(m, Mnemonic::Shld | Mnemonic::Shrd);
    if shift || rotate || rotate_carry || double {
        let last = ins.op_count() - 1;
        let count = match ins.op_kind(last) {
            OpKind::Register if ins.op_register(last) == Register::CL => st.reg(Register::CL),
            OpKind::Immediate8 => Some(u32::from(ins.immediate8())),
            _ => None,
        };
        let reads_cf = if rotate_carry { CF } else { 0 };
        let Some(count) = count.map(|c| c & 31) else {
            if double && width == 16 {
                return Err(format!(
                    "{}: count unknown, may exceed 16",
                    disasm::format(ins)
                ));
            }
            // The count may be 0 (flags unchanged) or not: nothing becomes defined.
            let maybe_cf = if shift && width < 32 && !matches!(m, Mnemonic::Sar) {
                CF
            } else {
                0
            };
            return Ok((
                reads_cf,
                0,
                OF | if shift || double { AF } else { 0 } | maybe_cf,
            ));
        };
        if count == 0 {
            return Ok((0, 0, 0));
        }
        if double && width == 16 && count > 16 {
            return Err(format!(
                "{}: 16-bit count {count} > 16 gives an undefined result",
                disasm::format(ins)
            ));
        }
        let of = if count == 1 { (OF, 0) } else { (0, OF) };
        return Ok(if shift || double {
            let cf_undefined = shift && !matches!(m, Mnemonic::Sar) && count >= width;
            if cf_undefined {
                (0, SF | ZF | PF | of.0, AF | CF | of.1)
            } else {
                (0, CF | SF | ZF | PF | of.0, AF | of.1)
            }
        } else {
            (reads_cf, CF | of.0, of.1)
        });
    }
    let compare_string = matches!(
        m,
        Mnemonic::Cmpsb
            | Mnemonic::Cmpsw
            | Mnemonic::Cmpsd
            | Mnemonic::Scasb
            | Mnemonic::Scasw
            | Mnemonic::Scasd
    );
    if compare_string && (ins.has_rep_prefix() || ins.has_repne_prefix()) {
        return Ok(match st.regs[ECX] {
            Some(0) => (read, 0, 0),
            Some(_) => (read, defined, undef),
            None => (read, 0, undef),
        });
    }
    Ok((read, defined, undef))
}

/// Operand size in bits of the first operand (register or memory).
fn operand_width(ins: &Instruction) -> u32 {
    match ins.op_kind(0) {
        OpKind::Register => ins.op_register(0).size() as u32 * 8,
        _ => ins.memory_size().size() as u32 * 8,
    }
}

fn flag_list(bits: u32) -> String {
    super::flag_names(bits)
}

fn in_data(addr: u32, size: u32) -> bool {
    let off = addr.wrapping_sub(DATA_BASE) as u64;
    off + u64::from(size) <= DATA_SIZE as u64
}

/// Element size of a string instruction, if `m` is one.
fn string_elem(m: Mnemonic) -> Option<(u32, bool, bool, bool)> {
    // (size, uses ESI, uses EDI, writes EDI)
    use Mnemonic::*;
    Some(match m {
        Movsb => (1, true, true, true),
        Movsw => (2, true, true, true),
        Movsd => (4, true, true, true),
        Stosb => (1, false, true, true),
        Stosw => (2, false, true, true),
        Stosd => (4, false, true, true),
        Lodsb => (1, true, false, false),
        Lodsw => (2, true, false, false),
        Lodsd => (4, true, false, false),
        Cmpsb => (1, true, true, false),
        Cmpsw => (2, true, true, false),
        Cmpsd => (4, true, true, false),
        Scasb => (1, false, true, false),
        Scasw => (2, false, true, false),
        Scasd => (4, false, true, false),
        _ => return None,
    })
}

struct Analyzer<'a> {
    code_addr: u32,
    code: &'a [u8],
    init: &'a CaseState,
    factory: InstructionInfoFactory,
}

/// Analyzes `code` at `code_addr` started from `init`; see the module docs.
pub fn analyze(code_addr: u32, code: &[u8], init: &CaseState) -> Result<Analysis, String> {
    let mut a = Analyzer {
        code_addr,
        code,
        init,
        factory: InstructionInfoFactory::new(),
    };
    let end_ip = code_addr.wrapping_add(code.len() as u32);
    let mut work = vec![(code_addr, AState::new(init), 0usize)];
    let mut end: Option<AState> = None;
    let mut paths = 0;
    while let Some((ip, st, steps)) = work.pop() {
        if ip == end_ip {
            paths += 1;
            if paths > MAX_PATHS {
                return Err("too many paths".into());
            }
            end = Some(match end {
                None => st,
                Some(e) => merge(e, st, init)?,
            });
            continue;
        }
        if steps >= MAX_STEPS {
            return Err("path too long (a loop?)".into());
        }
        for (next, st) in a.step(ip, st)? {
            if next.wrapping_sub(code_addr) > code.len() as u32 {
                return Err(format!("branch to {next:#x} leaves the case's code"));
            }
            work.push((next, st, steps + 1));
        }
    }
    let end = end.ok_or("no path reaches the end")?;
    let flags_mask = !end.undef;
    Ok(Analysis {
        end,
        flags_mask,
        paths,
    })
}

fn merge(a: AState, b: AState, init: &CaseState) -> Result<AState, String> {
    if a.regs[ESP] != b.regs[ESP] {
        return Err(format!(
            "paths reach the end with different ESP ({:x?} / {:x?})",
            a.regs[ESP], b.regs[ESP]
        ));
    }
    let mut regs = a.regs;
    for (r, o) in regs.iter_mut().zip(b.regs) {
        if *r != o {
            *r = None;
        }
    }
    let mut mem = a.mem.clone();
    for (&off, &v) in &b.mem {
        let av = a.byte(init, DATA_BASE + off);
        mem.insert(off, if av == v { v } else { None });
    }
    for (&off, v) in mem.iter_mut() {
        if !b.mem.contains_key(&off) && *v != Some(init.mem[off as usize]) {
            *v = None;
        }
    }
    Ok(AState {
        regs,
        mem,
        undef: a.undef | b.undef,
    })
}

impl Analyzer<'_> {
    /// Executes the instruction at `ip` abstractly; returns the successor states.
    fn step(&mut self, ip: u32, mut st: AState) -> Result<Vec<(u32, AState)>, String> {
        let off = ip.wrapping_sub(self.code_addr) as usize;
        let mut dec = Decoder::with_ip(32, &self.code[off..], u64::from(ip), DecoderOptions::NONE);
        let ins = dec.decode();
        if ins.is_invalid() {
            return Err(format!("invalid instruction at {ip:#x}"));
        }
        let text = disasm::format(&ins);
        let m = ins.mnemonic();
        let next_ip = ins.next_ip32();
        let esp = st.regs[ESP].ok_or("ESP unknown")?;
        let op_bytes = stack_operand_bytes(&ins);
        self.forbidden(&ins, &text)?;

        let info = self.factory.info(&ins);
        let used_regs: Vec<_> = info.used_registers().to_vec();
        let used_mem: Vec<_> = info.used_memory().to_vec();

        // Memory: every access inside the data area, addresses computable.
        let mut writes: Vec<(u32, u32)> = Vec::new();
        let string = string_elem(m);
        for um in &used_mem {
            if um.access() == OpAccess::NoMemAccess {
                continue;
            }
            if !matches!(
                um.segment(),
                Register::ES | Register::SS | Register::DS | Register::None
            ) {
                return Err(format!("{text}: segment {:?}", um.segment()));
            }
            let size = um.memory_size().size() as u32;
            if size == 0 && string.is_some() {
                continue; // REP string operation, checked below
            }
            let mut addr = um
                .virtual_address(0, |r, _, _| match r {
                    Register::ES | Register::SS | Register::DS => Some(0),
                    _ => st.reg(r).map(u64::from),
                })
                .ok_or_else(|| format!("{text}: address depends on an unknown register"))?
                as u32;
            let mut check = size;
            if matches!(
                m,
                Mnemonic::Bt | Mnemonic::Bts | Mnemonic::Btr | Mnemonic::Btc
            ) && ins.op_kind(1) == OpKind::Register
            {
                // Bit string: the element holding the bit, the offset being signed.
                let bits = st
                    .reg(ins.op_register(1))
                    .ok_or_else(|| format!("{text}: unknown bit offset"))?;
                let elem = if size == 2 {
                    i32::from(bits as u16 as i16) >> 4
                } else {
                    (bits as i32) >> 5
                };
                addr = addr.wrapping_add((elem as u32).wrapping_mul(size));
                check = 4; // the CPU may access a whole dword
            }
            if !in_data(addr, check) {
                return Err(format!(
                    "{text}: accesses {addr:#x}+{check} outside the data area"
                ));
            }
            if matches!(
                um.access(),
                OpAccess::Write
                    | OpAccess::CondWrite
                    | OpAccess::ReadWrite
                    | OpAccess::ReadCondWrite
            ) {
                writes.push((addr, size));
            }
        }
        if let Some((size, src, dst, write)) = string {
            let n = if ins.has_rep_prefix() || ins.has_repne_prefix() {
                st.regs[ECX].ok_or_else(|| format!("{text}: ECX unknown"))?
            } else {
                1
            };
            if n > 0x400 {
                return Err(format!("{text}: count {n} too large"));
            }
            if n > 0 {
                // Whichever way DF points: [p - (n-1)*size, p + n*size).
                for (uses, r) in [(src, Register::ESI), (dst, Register::EDI)] {
                    if !uses {
                        continue;
                    }
                    let p = st.reg(r).ok_or_else(|| format!("{text}: {r:?} unknown"))?;
                    let lo = p.wrapping_sub((n - 1) * size);
                    if !in_data(lo, (2 * n - 1) * size) {
                        return Err(format!("{text}: string range outside the data area"));
                    }
                    if write && r == Register::EDI {
                        writes.push((lo, (2 * n - 1) * size));
                    }
                }
            }
        }

        // Flags read must be defined.
        let (fread, fdef, fundef) = flag_effects(&ins, &st)?;
        if fread & st.undef & STATUS != 0 {
            return Err(format!(
                "{text} reads undefined flag(s) {}",
                flag_list(fread & st.undef)
            ));
        }

        self.no_faults(&ins, &text, &st)?;

        // Values computed from the state before the instruction.
        let operand0 = |st: &AState| -> Option<u32> {
            match ins.op_kind(0) {
                OpKind::Register => st.reg(ins.op_register(0)),
                OpKind::Immediate8
                | OpKind::Immediate16
                | OpKind::Immediate32
                | OpKind::Immediate8to16
                | OpKind::Immediate8to32 => Some(ins.immediate(0) as u32),
                OpKind::Memory => {
                    let a = ins.virtual_address(0, 0, |r, _, _| match r {
                        Register::ES | Register::SS | Register::DS => Some(0),
                        _ => st.reg(r).map(u64::from),
                    })? as u32;
                    st.read(self.init, a, ins.memory_size().size() as u32)
                }
                _ => None,
            }
        };
        let mut known_writes: Vec<(u32, u32, Option<u32>)> = Vec::new(); // addr, size, value
        let mut reg_sets: Vec<(Register, Option<u32>)> = Vec::new();
        let mut new_esp = esp.wrapping_add(ins.stack_pointer_increment() as u32);
        let mut successors: Vec<u32> = Vec::new();
        let fc = ins.flow_control();

        match m {
            Mnemonic::Push => {
                let v = if ins.op_kind(0) == OpKind::Register
                    && ins.op_register(0).full_register32() == Register::ESP
                {
                    Some(esp)
                } else {
                    operand0(&st)
                };
                known_writes.push((esp.wrapping_sub(op_bytes), op_bytes, v));
            }
            Mnemonic::Pop if ins.op_kind(0) == OpKind::Register => {
                reg_sets.push((ins.op_register(0), st.read(self.init, esp, op_bytes)));
            }
            Mnemonic::Pusha | Mnemonic::Pushad => {
                for r in 0..8u32 {
                    let v = if r == ESP as u32 {
                        Some(esp)
                    } else {
                        st.regs[r as usize]
                    };
                    known_writes.push((esp.wrapping_sub((r + 1) * op_bytes), op_bytes, v));
                }
            }
            Mnemonic::Popa | Mnemonic::Popad => {
                for r in 0..8usize {
                    if r == ESP {
                        continue;
                    }
                    let v = st.read(
                        self.init,
                        esp.wrapping_add((7 - r as u32) * op_bytes),
                        op_bytes,
                    );
                    let regs = if op_bytes == 2 { &REGS16 } else { &REGS32 };
                    reg_sets.push((regs[r], v));
                }
            }
            Mnemonic::Popf | Mnemonic::Popfd => {
                let v = st
                    .read(self.init, esp, op_bytes)
                    .ok_or_else(|| format!("{text}: popped value unknown"))?;
                if v & (TF | NT | AC) != 0 {
                    return Err(format!("{text}: would set TF/NT/AC ({v:#x})"));
                }
            }
            Mnemonic::Enter => {
                let ebp = st.regs[EBP];
                known_writes.push((
                    esp.wrapping_sub(op_bytes),
                    op_bytes,
                    ebp.map(|v| if op_bytes == 2 { v & 0xFFFF } else { v }),
                ));
                reg_sets.push((
                    Register::EBP,
                    if op_bytes == 4 {
                        Some(esp.wrapping_sub(4))
                    } else {
                        None
                    },
                ));
            }
            Mnemonic::Leave => {
                let ebp = st.regs[EBP].ok_or_else(|| format!("{text}: EBP unknown"))?;
                if !in_data(ebp, op_bytes) {
                    return Err(format!("{text}: EBP {ebp:#x} outside the data area"));
                }
                new_esp = ebp.wrapping_add(op_bytes);
                let bp = if op_bytes == 2 {
                    Register::BP
                } else {
                    Register::EBP
                };
                reg_sets.push((bp, st.read(self.init, ebp, op_bytes)));
            }
            Mnemonic::Mov if ins.op_kind(0) == OpKind::Register => {
                let src = match ins.op_kind(1) {
                    OpKind::Register => st.reg(ins.op_register(1)),
                    OpKind::Immediate8 | OpKind::Immediate16 | OpKind::Immediate32 => {
                        Some(ins.immediate(1) as u32)
                    }
                    _ => None,
                };
                reg_sets.push((ins.op_register(0), src));
            }
            Mnemonic::Loop | Mnemonic::Loope | Mnemonic::Loopne => {
                reg_sets.push((Register::ECX, st.regs[ECX].map(|c| c.wrapping_sub(1))));
            }
            _ => {}
        }
        match fc {
            FlowControl::Next => successors.push(next_ip),
            FlowControl::UnconditionalBranch => successors.push(ins.near_branch32()),
            FlowControl::ConditionalBranch => {
                let target = ins.near_branch32();
                let ecx = st.regs[ECX];
                let (taken, not_taken) = match (m, ecx) {
                    (Mnemonic::Jecxz, Some(c)) => (c == 0, c != 0),
                    (Mnemonic::Loop, Some(c)) => (c != 1, c == 1),
                    (Mnemonic::Loope | Mnemonic::Loopne, Some(1)) => (false, true),
                    _ => (true, true),
                };
                if not_taken {
                    successors.push(next_ip);
                }
                if taken && target != next_ip {
                    successors.push(target);
                }
                if taken && target == next_ip && !not_taken {
                    successors.push(next_ip);
                }
            }
            FlowControl::IndirectBranch => {
                successors.push(operand0(&st).ok_or_else(|| format!("{text}: target unknown"))?);
            }
            FlowControl::Call => {
                known_writes.push((esp.wrapping_sub(4), 4, Some(next_ip)));
                successors.push(ins.near_branch32());
            }
            FlowControl::IndirectCall => {
                let t = operand0(&st).ok_or_else(|| format!("{text}: target unknown"))?;
                known_writes.push((esp.wrapping_sub(4), 4, Some(next_ip)));
                successors.push(t);
            }
            FlowControl::Return => {
                if op_bytes != 4 {
                    return Err(format!("{text}: 16-bit return"));
                }
                successors.push(
                    st.read(self.init, esp, 4)
                        .ok_or_else(|| format!("{text}: return address unknown"))?,
                );
            }
            other => return Err(format!("{text}: flow control {other:?} not allowed")),
        }

        // Full-register values of the registers set, from the state before the instruction.
        let full_sets: Vec<(usize, Option<u32>)> = reg_sets
            .into_iter()
            .filter_map(|(r, v)| {
                let i = gpr_index(r).filter(|&i| i != ESP)?;
                let mut tmp = AState {
                    regs: st.regs,
                    mem: BTreeMap::new(),
                    undef: 0,
                };
                tmp.set_reg(r, v);
                Some((i, tmp.regs[i]))
            })
            .collect();

        // Apply: written registers become unknown, then the known values.
        let mut esp_written = false;
        for ur in &used_regs {
            if !matches!(
                ur.access(),
                OpAccess::Write
                    | OpAccess::CondWrite
                    | OpAccess::ReadWrite
                    | OpAccess::ReadCondWrite
            ) {
                continue;
            }
            if let Some(i) = gpr_index(ur.register()) {
                if i == ESP {
                    esp_written = true;
                } else {
                    st.regs[i] = None;
                }
            }
        }
        if esp_written && ins.stack_pointer_increment() == 0 && m != Mnemonic::Leave {
            return Err(format!("{text}: writes ESP"));
        }
        for (addr, size) in writes {
            st.write(addr, size, None);
        }
        for (addr, size, v) in known_writes {
            if !in_data(addr, size) {
                return Err(format!(
                    "{text}: stack write at {addr:#x} outside the data area"
                ));
            }
            st.write(addr, size, v);
        }
        for (i, v) in full_sets {
            st.regs[i] = v;
        }
        st.regs[ESP] = Some(new_esp);

        st.undef = (st.undef & !fdef) | (fundef & STATUS);
        Ok(successors.into_iter().map(|ip| (ip, st.clone())).collect())
    }

    /// Instructions never allowed in a case.
    fn forbidden(&self, ins: &Instruction, text: &str) -> Result<(), String> {
        use Mnemonic::*;
        let bad = matches!(
            ins.mnemonic(),
            Cli | Sti
                | Hlt
                | In
                | Out
                | Insb
                | Insw
                | Insd
                | Outsb
                | Outsw
                | Outsd
                | Int
                | Int1
                | Int3
                | Into
                | Iret
                | Iretd
                | Lgdt
                | Lidt
                | Lldt
                | Ltr
                | Lmsw
                | Clts
                | Invd
                | Wbinvd
                | Invlpg
                | Rdmsr
                | Wrmsr
                | Rdtsc
                | Rdpmc
                | Cpuid
                | Sysenter
                | Sysexit
                | Syscall
                | Sysret
                | Ud0
                | Ud1
                | Ud2
                | Salc
                | Retf
                | Lds
                | Les
                | Lfs
                | Lgs
                | Lss
        ) || matches!(ins.code(), Code::Bswap_r16);
        let seg_write = (0..ins.op_count()).any(|i| {
            ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_segment_register()
        });
        if bad || seg_write || ins.is_call_far() || ins.is_jmp_far() {
            return Err(format!("{text}: not allowed in a case"));
        }
        if ins.memory_size().size() > 0
            && matches!(
                ins.segment_prefix(),
                Register::FS | Register::GS | Register::CS
            )
        {
            return Err(format!("{text}: segment override"));
        }
        if ins.has_lock_prefix() && ins.op_kind(0) != OpKind::Memory {
            return Err(format!("{text}: LOCK without a memory destination"));
        }
        Ok(())
    }

    /// Faults that depend on operand values.
    fn no_faults(&self, ins: &Instruction, text: &str, st: &AState) -> Result<(), String> {
        let m = ins.mnemonic();
        match m {
            Mnemonic::Div | Mnemonic::Idiv => {
                let width = operand_width(ins);
                let divisor = match ins.op_kind(0) {
                    OpKind::Register => st.reg(ins.op_register(0)),
                    _ => {
                        let a = ins.virtual_address(0, 0, |r, _, _| match r {
                            Register::ES | Register::SS | Register::DS => Some(0),
                            _ => st.reg(r).map(u64::from),
                        });
                        a.and_then(|a| st.read(self.init, a as u32, width / 8))
                    }
                }
                .ok_or_else(|| format!("{text}: divisor unknown"))?;
                let dividend: Option<u64> = match width {
                    8 => st.reg(Register::AX).map(u64::from),
                    16 => st
                        .reg(Register::DX)
                        .zip(st.reg(Register::AX))
                        .map(|(h, l)| u64::from(h) << 16 | u64::from(l)),
                    _ => st.regs[2]
                        .zip(st.regs[0])
                        .map(|(h, l)| u64::from(h) << 32 | u64::from(l)),
                };
                let dividend = dividend.ok_or_else(|| format!("{text}: dividend unknown"))?;
                if !division_fits(m == Mnemonic::Idiv, width, dividend, u64::from(divisor)) {
                    return Err(format!("{text}: #DE ({dividend:#x} / {divisor:#x})"));
                }
            }
            Mnemonic::Aam if ins.immediate8() == 0 => return Err(format!("{text}: #DE")),
            Mnemonic::Bound => {
                let size = if ins.op_register(0).size() == 2 { 2 } else { 4 };
                let a =
                    ins.virtual_address(1, 0, |r, _, _| match r {
                        Register::ES | Register::SS | Register::DS => Some(0),
                        _ => st.reg(r).map(u64::from),
                    })
                    .ok_or_else(|| format!("{text}: address unknown"))? as u32;
                let lo = st.read(self.init, a, size);
                let hi = st.read(self.init, a.wrapping_add(size), size);
                let idx = st.reg(ins.op_register(0));
                let sext = |v: u32| {
                    if size == 2 {
                        i64::from(v as u16 as i16)
                    } else {
                        i64::from(v as i32)
                    }
                };
                match (lo, hi, idx) {
                    (Some(lo), Some(hi), Some(i)) if sext(lo) <= sext(i) && sext(i) <= sext(hi) => {
                    }
                    _ => return Err(format!("{text}: may raise #BR")),
                }
            }
            Mnemonic::Enter => {
                let level = ins.immediate8_2nd() & 31;
                if level > 1 && st.regs[EBP].is_none() {
                    return Err(format!("{text}: EBP unknown"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

const REGS16: [Register; 8] = [
    Register::AX,
    Register::CX,
    Register::DX,
    Register::BX,
    Register::SP,
    Register::BP,
    Register::SI,
    Register::DI,
];
const REGS32: [Register; 8] = [
    Register::EAX,
    Register::ECX,
    Register::EDX,
    Register::EBX,
    Register::ESP,
    Register::EBP,
    Register::ESI,
    Register::EDI,
];

/// Operand size in bytes of a stack instruction (push/pop/pusha/popa/popf/enter/leave/ret):
/// 2 with an operand-size prefix, else 4.
fn stack_operand_bytes(ins: &Instruction) -> u32 {
    match ins.code() {
        Code::Leavew
        | Code::Enterw_imm16_imm8
        | Code::Pushaw
        | Code::Popaw
        | Code::Retnw
        | Code::Retnw_imm16 => 2,
        Code::Leaved | Code::Enterd_imm16_imm8 | Code::Pushad | Code::Popad => 4,
        _ => match ins.stack_pointer_increment() {
            2 | -2 => 2,
            _ => 4,
        },
    }
}

/// Whether `dividend / divisor` of `width`-bit DIV (or IDIV) produces a quotient that fits.
pub(crate) fn division_fits(signed: bool, width: u32, dividend: u64, divisor: u64) -> bool {
    let mask = (1u128 << width) - 1;
    let divisor = u128::from(divisor) & mask;
    if divisor == 0 {
        return false;
    }
    if !signed {
        return (u128::from(dividend) / divisor) <= mask;
    }
    let sext = |v: u128, bits: u32| -> i128 { ((v << (128 - bits)) as i128) >> (128 - bits) };
    let n = sext(u128::from(dividend), 2 * width);
    let d = sext(divisor, width);
    let q = n / d;
    let lim = 1i128 << (width - 1);
    -lim <= q && q < lim
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::CODE_BASE;

    const PTR: u32 = DATA_BASE + 0x100;
    const STACK: u32 = DATA_BASE + 0x1000;

    fn run(code: &[u8], regs: [u32; 8]) -> Result<Analysis, String> {
        let init = CaseState {
            regs,
            eflags: 0x202,
            mem: vec![0; DATA_SIZE],
        };
        analyze(CODE_BASE, code, &init)
    }

    /// EAX=0, ECX=`ecx`, EDX=0, EBX=3, ESP=STACK, EBP=ESI=EDI=PTR.
    fn regs(ecx: u32) -> [u32; 8] {
        [0, ecx, 0, 3, STACK, PTR, PTR, PTR]
    }

    fn undefined(code: &[u8], ecx: u32) -> u32 {
        !run(code, regs(ecx)).expect("analysis").flags_mask & STATUS
    }

    #[test]
    fn mul_leaves_sf_zf_af_pf_undefined() {
        assert_eq!(undefined(&[0xF7, 0xE3], 0), SF | ZF | AF | PF); // mul ebx
    }

    #[test]
    fn reading_an_undefined_flag_is_rejected() {
        // mul ebx ; setz al
        assert!(run(&[0xF7, 0xE3, 0x0F, 0x94, 0xC0], regs(0)).is_err());
        // mul ebx ; adc eax, 0 (CF is defined after MUL)
        assert_eq!(undefined(&[0xF7, 0xE3, 0x83, 0xD0, 0x00], 0), 0);
        // bsf eax, ebx ; rcl eax, 1 (CF undefined after BSF)
        assert!(run(&[0x0F, 0xBC, 0xC3, 0xD1, 0xD0], regs(0)).is_err());
        // mul ebx ; pushfd
        assert!(run(&[0xF7, 0xE3, 0x9C], regs(0)).is_err());
    }

    #[test]
    fn shift_flags_depend_on_the_count() {
        let mul_shl_cl = [0xF7, 0xE3, 0xD3, 0xE0]; // mul ebx ; shl eax, cl
        assert_eq!(
            undefined(&mul_shl_cl, 0),
            SF | ZF | AF | PF,
            "count 0 changes nothing"
        );
        assert_eq!(undefined(&mul_shl_cl, 1), AF, "count 1 defines OF");
        assert_eq!(undefined(&mul_shl_cl, 5), AF | OF);
        assert_eq!(
            undefined(&mul_shl_cl, 32),
            SF | ZF | AF | PF,
            "count masked to 0"
        );
        assert_eq!(undefined(&[0xC0, 0xE0, 0x08], 0), AF | OF | CF, "shl al, 8");
        assert_eq!(undefined(&[0xC0, 0xF8, 0x08], 0), AF | OF, "sar al, 8");
        assert_eq!(undefined(&[0xC1, 0xC0, 0x21], 0), 0, "rol eax, 33: count 1");
        assert_eq!(undefined(&[0xC0, 0xC0, 0x09], 0), OF, "rol al, 9");
        // shld ax, bx, 16 is defined, 17 is not
        assert!(run(&[0x66, 0x0F, 0xA4, 0xD8, 0x10], regs(0)).is_ok());
        assert!(run(&[0x66, 0x0F, 0xA4, 0xD8, 0x11], regs(0)).is_err());
        assert!(run(&[0x66, 0x0F, 0xA4, 0xD8, 0x31], regs(0)).is_err());
    }

    #[test]
    fn rep_cmps_with_zero_count_writes_no_flags() {
        // mul ebx ; repe cmpsb
        assert_eq!(undefined(&[0xF7, 0xE3, 0xF3, 0xA6], 0), SF | ZF | AF | PF);
        assert_eq!(undefined(&[0xF7, 0xE3, 0xF3, 0xA6], 4), 0);
    }

    #[test]
    fn faults_are_rejected() {
        let mut r = regs(0);
        r[3] = 0; // ebx = 0
        assert!(run(&[0xF7, 0xF3], r).is_err(), "div by zero");
        r[2] = 5;
        r[3] = 5;
        assert!(run(&[0xF7, 0xF3], r).is_err(), "quotient too large");
        r[2] = 4;
        assert!(run(&[0xF7, 0xF3], r).is_ok());
        assert!(run(&[0xA1, 0, 0, 0, 0], regs(0)).is_err(), "mov eax, [0]");
        assert!(run(&[0xD4, 0x00], regs(0)).is_err(), "aam 0");
        // push 0x100 (TF) ; popfd
        assert!(run(&[0x68, 0x00, 0x01, 0, 0, 0x9D], regs(0)).is_err());
        // push 0x8d5 ; popfd
        assert!(run(&[0x68, 0xD5, 0x08, 0, 0, 0x9D], regs(0)).is_ok());
    }

    #[test]
    fn bit_string_offsets_address_other_elements() {
        // bt [esi], ecx: offset -8 bits reaches the byte before ESI
        let mut r = regs((-8i32) as u32);
        assert!(run(&[0x0F, 0xA3, 0x0E], r).is_ok());
        r[6] = DATA_BASE;
        assert!(run(&[0x0F, 0xA3, 0x0E], r).is_err());
        r[1] = 0x100;
        assert!(run(&[0x0F, 0xA3, 0x0E], r).is_ok());
    }

    #[test]
    fn branches_merge_both_paths() {
        // jz +2 ; mul ebx ; (end)
        assert_eq!(undefined(&[0x74, 0x02, 0xF7, 0xE3], 0), SF | ZF | AF | PF);
        // jz +1 ; push eax: ESP differs between the paths
        assert!(run(&[0x74, 0x01, 0x50], regs(0)).is_err());
        // call +2 ; jmp +1 ; ret
        let a = run(&[0xE8, 0x02, 0, 0, 0, 0xEB, 0x01, 0xC3], regs(0)).expect("call/ret");
        assert_eq!(a.end.regs[ESP], Some(STACK));
        // loop with ECX=1 falls through; with ECX=2 jumps
        assert_eq!(run(&[0xE2, 0x00], regs(1)).expect("loop").paths, 1);
    }

    #[test]
    fn pop_and_return_addresses_are_tracked() {
        // call +0 ; pop eax → EAX = address after the call
        let a = run(&[0xE8, 0, 0, 0, 0, 0x58], regs(0)).expect("call/pop");
        assert_eq!(a.end.regs[0], Some(CODE_BASE + 5));
        // push imm32 (the end) ; ret
        let end = CODE_BASE + 6;
        let mut code = vec![0x68];
        code.extend_from_slice(&end.to_le_bytes());
        code.push(0xC3);
        assert!(run(&code, regs(0)).is_ok());
    }
}
