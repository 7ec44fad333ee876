//! The micro-op IR: what a backend lowers (DESIGN.md, "Data flow", step 2).
//!
//! Each guest instruction becomes either a list of micro-ops over a handful of 32-bit
//! temporaries, or `Body::Fallback` (the interpreter runs it). Native instructions keep
//! one rule that makes faults precise: every check that can fail (a shadow-TLB miss, a
//! page crossing, a missing permission) happens before the instruction changes any
//! state, so a failed check simply runs the whole instruction in the interpreter.
//!
//! Flags follow the interpreter's lazy encoding (`Lazy` writes the same record the
//! interpreter's `set_lazy` would), so both engines materialize identical EFLAGS. Semantics
//! follow the Intel SDM Vol. 2 entries of the instructions lowered here.

use iced_x86::{ConditionCode, Instruction, Mnemonic, OpKind, Register};

use crate::frontend::{self, BlockSrc, Class, GuestInsn, Mode};

/// A 32-bit temporary (backends give each a host register).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct T(pub u8);

pub const T0: T = T(0);
pub const T1: T = T(1);
pub const T2: T = T(2);
/// Holds effective addresses.
pub const TA: T = T(3);
/// Holds a carried-over CF.
pub const TC: T = T(4);
pub const TEMPS: usize = 5;

/// Lazy-flag operation codes (the interpreter's `cpu::flags::op`).
pub mod lazy {
    pub const ADD: u32 = 1;
    pub const ADC: u32 = 2;
    pub const SUB: u32 = 3;
    pub const SBB: u32 = 4;
    pub const LOGIC: u32 = 5;
    pub const INC: u32 = 6;
    pub const DEC: u32 = 7;
    pub const NEG: u32 = 8;
    pub const SHL: u32 = 9;
    pub const SHR: u32 = 10;
    pub const SAR: u32 = 11;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    /// dst = a + b + CF, with the carry in `TC`.
    Adc,
    Sub,
    /// dst = a - b - CF, with the borrow in `TC`.
    Sbb,
    And,
    Or,
    Xor,
    /// dst = a + 1 (b ignored).
    Inc,
    /// dst = a - 1 (b ignored).
    Dec,
    /// dst = -a (b ignored).
    Neg,
    /// dst = !a (b ignored).
    Not,
    /// dst = a << b (b an immediate count 1..31 in the temporary).
    Shl,
    Shr,
    Sar,
    /// dst = low 32 bits of signed a * b; host CF/OF = the product overflowed.
    Imul,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uop {
    /// t = guest GPR `r` at `size` bytes, zero-extended (`high`: AH..BH).
    Get { t: T, r: u8, size: u8, high: bool },
    /// The low `size` bytes of guest GPR `r` (`high`: AH..BH) = t.
    Put { r: u8, t: T, size: u8, high: bool },
    /// t = v.
    Imm { t: T, v: u32 },
    /// t = base + (index << scale) + disp, from guest registers (32-bit addressing).
    Ea {
        t: T,
        base: Option<u8>,
        index: Option<u8>,
        scale: u8,
        disp: u32,
    },
    /// t = `size` bytes at linear `addr`, zero-extended; `write` also requires write
    /// permission (read-modify-write). A miss runs the instruction in the interpreter.
    Load {
        t: T,
        addr: T,
        size: u8,
        write: bool,
    },
    /// The low `size` bytes of t to linear `addr`, same checks.
    Store { addr: T, t: T, size: u8 },
    /// dst = a op b at `size` bytes (operands zero-extended, so the result is too);
    /// sets the host flags of the operation.
    Alu {
        op: AluOp,
        size: u8,
        dst: T,
        a: T,
        b: T,
    },
    /// t = sign- or zero-extension of its low `size` bytes.
    Ext { t: T, size: u8, signed: bool },
    /// The lazy flag record: op = kind | size << 8, dst = a, src = b, res = res, and
    /// aux = `aux` when given.
    Lazy {
        kind: u32,
        size: u8,
        a: T,
        b: T,
        res: T,
        aux: Option<T>,
    },
    /// EFLAGS' arithmetic flags, eagerly, after `Alu Imul`: CF=OF=overflow (host CF),
    /// SF/ZF/PF from `res`, AF clear; the lazy record is retired.
    MulFlags { res: T },
    /// t = the current CF. With `from` known (an earlier native instruction of the
    /// block left that record, nothing since touched the flags) the backend evaluates it
    /// inline; otherwise it calls a helper, which clobbers every temporary: only ever an
    /// instruction's first micro-op.
    Carry { t: T, from: Option<CarrySrc> },
}

/// Where the live carry flag comes from, when translation knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CarrySrc {
    /// A 32-bit lazy record of this kind (`lazy::*`).
    Lazy(u32),
    /// Eager EFLAGS (after `MulFlags`).
    Eager,
}

/// What an instruction turns into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Native(Vec<Uop>),
    /// Run by the interpreter's handler for this one instruction.
    Fallback,
}

#[derive(Clone, Debug)]
pub struct IrInsn {
    pub eip: u32,
    pub next: u32,
    pub body: Body,
    /// The host flags after this instruction's body equal the guest's for the
    /// conditions in this mask (bit n = condition code n), so a following Jcc can use
    /// them.
    pub host_cc: u16,
}

/// How a block ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Continue at this EIP (a fall-through, JMP rel or CALL rel).
    Jump(u32),
    /// EIP = t (RET, JMP r/m).
    Indirect(T),
    /// Jcc: condition code `cc` (Jcc's low opcode nibble).
    Cond {
        cc: u8,
        taken: u32,
        not_taken: u32,
        /// Use the host flags of the previous instruction instead of evaluating.
        host: bool,
    },
    /// The last instruction ran in the interpreter, which left EIP in the state.
    FromState,
}

#[derive(Clone, Debug)]
pub struct IrBlock {
    pub eip: u32,
    pub insns: Vec<IrInsn>,
    pub end: End,
    /// Guest code bytes covered.
    pub bytes: u32,
}

impl IrBlock {
    /// Instructions executed when the block runs to its end.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Instructions the interpreter runs.
    pub fn fallbacks(&self) -> usize {
        self.insns
            .iter()
            .filter(|i| i.body == Body::Fallback)
            .count()
    }
}

/// The condition-code nibble of a Jcc.
pub fn cc_nibble(c: ConditionCode) -> Option<u8> {
    use ConditionCode::*;
    Some(match c {
        o => 0,
        no => 1,
        b => 2,
        ae => 3,
        e => 4,
        ne => 5,
        be => 6,
        a => 7,
        s => 8,
        ns => 9,
        p => 10,
        np => 11,
        l => 12,
        ge => 13,
        le => 14,
        g => 15,
        None => return Option::None,
    })
}

/// Conditions that read CF (B/AE/BE/A) or OF (O/NO/L/GE/LE/G).
const CC_READS_CF: u16 = 0b0000_0000_1100_1100;
const CC_ALL: u16 = 0xffff;

/// Lowers a decoded block. Outside `mode.native()` every instruction falls back.
pub fn lower(src: &BlockSrc, mode: Mode) -> IrBlock {
    let mut insns = Vec::with_capacity(src.insns.len());
    let mut natives = Vec::with_capacity(src.insns.len());
    for g in &src.insns {
        let body = if mode.native() && g.class == Class::Plain {
            lower_insn(g, mode).map_or(Body::Fallback, Body::Native)
        } else {
            Body::Fallback
        };
        natives.push(matches!(body, Body::Native(_)));
        insns.push(IrInsn {
            eip: g.eip,
            next: g.next,
            body,
            host_cc: 0,
        });
    }
    // The block's end: a lowered branch, or whatever the interpreter leaves.
    let mut end = End::Jump(src.eip.wrapping_add(src.bytes));
    if let Some(last) = src.insns.last() {
        if last.class == Class::Branch {
            let k = src.insns.len() - 1;
            match lower_branch(last, mode) {
                Some((uops, e)) => {
                    insns[k].body = Body::Native(uops);
                    natives[k] = true;
                    end = e;
                }
                None => {
                    insns[k].body = Body::Fallback;
                    natives[k] = false;
                    end = End::FromState;
                }
            }
        } else if insns[k_last(&insns)].body == Body::Fallback {
            end = End::FromState;
        }
    }
    // Flag liveness: drop the lazy-record work whose flags nothing reads.
    let effects: Vec<(u32, u32)> = src
        .insns
        .iter()
        .zip(&natives)
        .map(|(g, &n)| frontend::flag_effects(&g.instr, n))
        .collect();
    let incdec: Vec<bool> = src
        .insns
        .iter()
        .zip(&natives)
        .map(|(g, &n)| n && matches!(g.instr.mnemonic(), Mnemonic::Inc | Mnemonic::Dec))
        .collect();
    // Interpreted instructions and memory accesses (slow path) can end the block.
    let can_exit: Vec<bool> = insns
        .iter()
        .map(|i| match &i.body {
            Body::Fallback => true,
            Body::Native(u) => u
                .iter()
                .any(|u| matches!(u, Uop::Load { .. } | Uop::Store { .. })),
        })
        .collect();
    let live = frontend::liveness(&effects, &incdec, &can_exit);
    for (k, ins) in insns.iter_mut().enumerate() {
        if let Body::Native(uops) = &mut ins.body {
            let written = effects[k].1;
            if written != 0 && live[k] & written == 0 {
                uops.retain(|u| !matches!(u, Uop::Lazy { .. } | Uop::MulFlags { .. }));
            }
            if incdec[k] && live[k] & 1 == 0 {
                // CF is dead after INC/DEC: the carried-over value does not matter.
                uops.retain(|u| !matches!(u, Uop::Carry { .. }));
                for u in uops.iter_mut() {
                    if let Uop::Lazy { aux, .. } = u {
                        *aux = None;
                    }
                }
            }
            ins.host_cc = host_conditions(&src.insns[k].instr, uops);
        }
    }
    // Carry sources known at translation time: the last flag record a native
    // instruction of this block left, if nothing interpreted ran since.
    let mut known: Option<CarrySrc> = None;
    for (k, ins) in insns.iter_mut().enumerate() {
        let Body::Native(uops) = &mut ins.body else {
            known = None;
            continue;
        };
        let mut next = if effects[k].1 != 0 { None } else { known };
        for u in uops.iter_mut() {
            match u {
                Uop::Carry { from, .. } => *from = known,
                Uop::Lazy { kind, .. } => next = Some(CarrySrc::Lazy(*kind)),
                Uop::MulFlags { .. } => next = Some(CarrySrc::Eager),
                _ => {}
            }
        }
        known = next;
    }
    // A Jcc right after an instruction whose host flags are the guest's uses them.
    if let End::Cond { cc, host, .. } = &mut end {
        let n = insns.len();
        if n >= 2 && insns[n - 2].host_cc & (1 << *cc) != 0 {
            *host = true;
        }
    }
    IrBlock {
        eip: src.eip,
        insns,
        end,
        bytes: src.bytes,
    }
}

fn k_last(insns: &[IrInsn]) -> usize {
    insns.len() - 1
}

/// Conditions the host flags answer right after `uops`: the last flag-setting micro-op
/// is an ALU operation whose host flags match the guest's for them, and nothing after it
/// touches the host flags (only `Put` and `Lazy` follow, which the backend emits as
/// plain moves).
fn host_conditions(i: &Instruction, uops: &[Uop]) -> u16 {
    // A memory access has a slow path that rejoins with the interpreter's host flags.
    if uops
        .iter()
        .any(|u| matches!(u, Uop::Load { .. } | Uop::Store { .. }))
    {
        return 0;
    }
    let Some(pos) = uops.iter().rposition(|u| matches!(u, Uop::Alu { .. })) else {
        return 0;
    };
    if !uops[pos + 1..]
        .iter()
        .all(|u| matches!(u, Uop::Put { .. } | Uop::Lazy { .. }))
    {
        return 0;
    }
    let Uop::Alu { op, dst, .. } = uops[pos] else {
        return 0;
    };
    // Only a flag-writing instruction (its lazy record is the ALU result) qualifies:
    // POP's stack-pointer ADD sets host flags the guest never sees.
    if !uops[pos + 1..]
        .iter()
        .any(|u| matches!(u, Uop::Lazy { res, .. } if *res == dst))
    {
        return 0;
    }
    match (op, i.mnemonic()) {
        (
            AluOp::Add
            | AluOp::Adc
            | AluOp::Sub
            | AluOp::Sbb
            | AluOp::And
            | AluOp::Or
            | AluOp::Xor
            | AluOp::Neg,
            _,
        ) => CC_ALL,
        // Host INC/DEC leave CF alone, the guest's CF lives in the lazy record.
        (AluOp::Inc | AluOp::Dec, _) => !CC_READS_CF & !0b0000_0000_0000_0011 & CC_ALL,
        _ => 0,
    }
}

fn gpr32(r: Register) -> Option<u8> {
    if r.is_gpr32() {
        Some(r.number() as u8)
    } else {
        None
    }
}

/// Register number and high-byte flag of an 8/16/32-bit general register.
fn gpr(r: Register) -> Option<(u8, bool)> {
    if r.is_gpr8() {
        let n = r.number() as u8;
        Some(if n >= 4 { (n - 4, true) } else { (n, false) })
    } else if r.is_gpr16() || r.is_gpr32() {
        Some((r.number() as u8, false))
    } else {
        None
    }
}

fn mask(size: u8) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xffff_ffff,
    }
}

/// Effective address of the memory operand into TA, for DS/SS/ES (flat) operands with
/// 32-bit addressing.
fn ea(i: &Instruction, out: &mut Vec<Uop>) -> Option<()> {
    if !matches!(
        i.memory_segment(),
        Register::DS | Register::SS | Register::ES
    ) {
        return None;
    }
    address(i, TA, out)
}

/// The effective address of `i`'s memory operand into temporary `t` (no segment).
fn address(i: &Instruction, t: T, out: &mut Vec<Uop>) -> Option<()> {
    let base = match i.memory_base() {
        Register::None => None,
        r => Some(gpr32(r)?),
    };
    let index = match i.memory_index() {
        Register::None => None,
        r => Some(gpr32(r)?),
    };
    if base.is_none() && index.is_none() && i.memory_displ_size() == 2 {
        return None;
    }
    out.push(Uop::Ea {
        t,
        base,
        index,
        scale: i.memory_index_scale().trailing_zeros() as u8,
        disp: i.memory_displacement32(),
    });
    Some(())
}

/// Reads operand `n` (register, memory at TA or immediate) of `size` bytes into `t`,
/// zero-extended (immediates masked to the size, as the interpreter reads them).
fn read_op(i: &Instruction, n: u32, size: u8, t: T, write: bool, out: &mut Vec<Uop>) -> Option<()> {
    match i.op_kind(n) {
        OpKind::Register => {
            let (r, high) = gpr(i.op_register(n))?;
            out.push(Uop::Get { t, r, size, high });
        }
        OpKind::Memory => {
            if i.memory_size().size() != size as usize {
                return None;
            }
            ea(i, out)?;
            out.push(Uop::Load {
                t,
                addr: TA,
                size,
                write,
            });
        }
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32 => out.push(Uop::Imm {
            t,
            v: i.immediate(n) as u32 & mask(size),
        }),
        _ => return None,
    }
    Some(())
}

/// Writes `t` to operand 0 of `size` bytes (register, or memory at TA).
fn write_op0(i: &Instruction, size: u8, t: T, out: &mut Vec<Uop>) -> Option<()> {
    match i.op0_kind() {
        OpKind::Register => {
            let (r, high) = gpr(i.op0_register())?;
            out.push(Uop::Put { r, t, size, high });
        }
        OpKind::Memory => out.push(Uop::Store { addr: TA, t, size }),
        _ => return None,
    }
    Some(())
}

/// Lowers one non-branch instruction, or `None` for the interpreter.
fn lower_insn(g: &GuestInsn, _mode: Mode) -> Option<Vec<Uop>> {
    use Mnemonic::*;
    let i = &g.instr;
    if i.has_lock_prefix() || i.has_rep_prefix() || i.has_repne_prefix() {
        return None;
    }
    let mut u = Vec::with_capacity(8);
    let m = i.mnemonic();
    let size = match m {
        Nop | Lea | Movzx | Movsx | Push | Pop => 4,
        _ => {
            let s = op_size(i, 0)?;
            if !matches!(s, 1 | 2 | 4) {
                return None;
            }
            s as u8
        }
    };
    match m {
        Add | Sub | And | Or | Xor | Cmp | Test | Adc | Sbb => {
            if i.op_count() != 2 {
                return None;
            }
            let carry = matches!(m, Adc | Sbb);
            if carry {
                u.push(Uop::Carry { t: TC, from: None });
            }
            let writes = !matches!(m, Cmp | Test);
            read_op(i, 0, size, T0, writes, &mut u)?;
            read_op(i, 1, size, T1, false, &mut u)?;
            let (op, kind) = match m {
                Add => (AluOp::Add, lazy::ADD),
                Adc => (AluOp::Adc, lazy::ADC),
                Sub | Cmp => (AluOp::Sub, lazy::SUB),
                Sbb => (AluOp::Sbb, lazy::SBB),
                And | Test => (AluOp::And, lazy::LOGIC),
                Or => (AluOp::Or, lazy::LOGIC),
                _ => (AluOp::Xor, lazy::LOGIC),
            };
            u.push(Uop::Alu {
                op,
                size,
                dst: T2,
                a: T0,
                b: T1,
            });
            if writes {
                write_op0(i, size, T2, &mut u)?;
            }
            u.push(Uop::Lazy {
                kind,
                size,
                a: T0,
                b: T1,
                res: T2,
                aux: carry.then_some(TC),
            });
        }
        Inc | Dec => {
            u.push(Uop::Carry { t: TC, from: None });
            read_op(i, 0, size, T0, true, &mut u)?;
            u.push(Uop::Imm { t: T1, v: 1 });
            let (op, kind) = if m == Inc {
                (AluOp::Inc, lazy::INC)
            } else {
                (AluOp::Dec, lazy::DEC)
            };
            u.push(Uop::Alu {
                op,
                size,
                dst: T2,
                a: T0,
                b: T1,
            });
            write_op0(i, size, T2, &mut u)?;
            u.push(Uop::Lazy {
                kind,
                size,
                a: T0,
                b: T1,
                res: T2,
                aux: Some(TC),
            });
        }
        Neg | Not => {
            read_op(i, 0, size, T1, true, &mut u)?;
            u.push(Uop::Imm { t: T0, v: 0 });
            let op = if m == Neg { AluOp::Neg } else { AluOp::Not };
            u.push(Uop::Alu {
                op,
                size,
                dst: T2,
                a: T1,
                b: T1,
            });
            write_op0(i, size, T2, &mut u)?;
            if m == Neg {
                // The interpreter records NEG as dst = 0, src = operand.
                u.push(Uop::Lazy {
                    kind: lazy::NEG,
                    size,
                    a: T0,
                    b: T1,
                    res: T2,
                    aux: None,
                });
            }
        }
        Shl | Sal | Shr | Sar => {
            if i.op1_kind() != OpKind::Immediate8 {
                return None;
            }
            let count = i.immediate8() as u32 & 0x1f;
            if count == 0 {
                if i.op0_kind() != OpKind::Register {
                    return None;
                }
                // No effect at all, not even on the flags.
                return Some(u);
            }
            read_op(i, 0, size, T0, true, &mut u)?;
            u.push(Uop::Imm { t: T1, v: count });
            let (op, kind) = match m {
                Shr => (AluOp::Shr, lazy::SHR),
                Sar => (AluOp::Sar, lazy::SAR),
                _ => (AluOp::Shl, lazy::SHL),
            };
            u.push(Uop::Alu {
                op,
                size,
                dst: T2,
                a: T0,
                b: T1,
            });
            write_op0(i, size, T2, &mut u)?;
            u.push(Uop::Lazy {
                kind,
                size,
                a: T0,
                b: T1,
                res: T2,
                aux: None,
            });
        }
        Imul if i.op_count() >= 2 => {
            if size != 4 {
                return None;
            }
            if i.op_count() == 3 {
                read_op(i, 1, 4, T0, false, &mut u)?;
                read_op(i, 2, 4, T1, false, &mut u)?;
            } else {
                read_op(i, 0, 4, T0, false, &mut u)?;
                read_op(i, 1, 4, T1, false, &mut u)?;
            }
            u.push(Uop::Alu {
                op: AluOp::Imul,
                size: 4,
                dst: T2,
                a: T0,
                b: T1,
            });
            u.push(Uop::Put {
                r: gpr32(i.op0_register())?,
                t: T2,
                size: 4,
                high: false,
            });
            u.push(Uop::MulFlags { res: T2 });
        }
        Mov => {
            read_op(i, 1, size, T0, false, &mut u)?;
            if i.op0_kind() == OpKind::Memory {
                ea(i, &mut u)?;
            }
            write_op0(i, size, T0, &mut u)?;
        }
        Movzx | Movsx => {
            let dst = gpr32(i.op0_register())?;
            let from = match i.op1_kind() {
                OpKind::Register => i.op1_register().size() as u8,
                OpKind::Memory => i.memory_size().size() as u8,
                _ => return None,
            };
            if from != 1 && from != 2 {
                return None;
            }
            read_op(i, 1, from, T0, false, &mut u)?;
            u.push(Uop::Ext {
                t: T0,
                size: from,
                signed: m == Movsx,
            });
            u.push(Uop::Put {
                r: dst,
                t: T0,
                size: 4,
                high: false,
            });
        }
        Lea => {
            let dst = gpr32(i.op0_register())?;
            // LEA ignores the segment; only the address size matters.
            address(i, T0, &mut u)?;
            u.push(Uop::Put {
                r: dst,
                t: T0,
                size: 4,
                high: false,
            });
        }
        Push => {
            if op_size(i, 0)? != 4 {
                return None;
            }
            read_op(i, 0, 4, T0, false, &mut u)?;
            push(T0, &mut u);
        }
        Pop => {
            let r = gpr32(i.op0_register())?;
            u.push(Uop::Get {
                t: T1,
                r: 4,
                size: 4,
                high: false,
            });
            u.push(Uop::Load {
                t: T0,
                addr: T1,
                size: 4,
                write: false,
            });
            u.push(Uop::Imm { t: T2, v: 4 });
            u.push(Uop::Alu {
                op: AluOp::Add,
                size: 4,
                dst: T1,
                a: T1,
                b: T2,
            });
            u.push(put32(4, T1));
            u.push(put32(r, T0));
        }
        Nop => {}
        _ => return None,
    }
    Some(u)
}

fn get32(t: T, r: u8) -> Uop {
    Uop::Get {
        t,
        r,
        size: 4,
        high: false,
    }
}

fn put32(r: u8, t: T) -> Uop {
    Uop::Put {
        r,
        t,
        size: 4,
        high: false,
    }
}

/// ESP -= 4; [ESP] = t. The store is the first state change.
fn push(t: T, u: &mut Vec<Uop>) {
    u.push(get32(T1, 4));
    u.push(Uop::Imm { t: T2, v: 4 });
    u.push(Uop::Alu {
        op: AluOp::Sub,
        size: 4,
        dst: T1,
        a: T1,
        b: T2,
    });
    u.push(Uop::Store {
        addr: T1,
        t,
        size: 4,
    });
    u.push(put32(4, T1));
}

fn op_size(i: &Instruction, n: u32) -> Option<u32> {
    Some(match i.op_kind(n) {
        OpKind::Register => i.op_register(n).size() as u32,
        OpKind::Memory => i.memory_size().size() as u32,
        OpKind::Immediate32 | OpKind::Immediate8to32 => 4,
        _ => return None,
    })
}

/// Lowers the block-ending near branch, or `None` for the interpreter.
fn lower_branch(g: &GuestInsn, mode: Mode) -> Option<(Vec<Uop>, End)> {
    use Mnemonic::*;
    if !mode.native() {
        return None;
    }
    let i = &g.instr;
    let mut u = Vec::new();
    let target = || -> Option<u32> {
        match i.op0_kind() {
            OpKind::NearBranch32 => Some(i.near_branch32()),
            _ => None,
        }
    };
    let end = match i.mnemonic() {
        Jmp => match i.op0_kind() {
            OpKind::NearBranch32 => End::Jump(target()?),
            OpKind::Register | OpKind::Memory if op_size(i, 0)? == 4 => {
                read_op(i, 0, 4, T0, false, &mut u)?;
                End::Indirect(T0)
            }
            _ => return None,
        },
        Call => {
            let t = target()?;
            u.push(Uop::Imm { t: T0, v: g.next });
            push(T0, &mut u);
            End::Jump(t)
        }
        Ret => {
            if i.op_count() > 0 && i.op0_kind() != OpKind::Immediate16 {
                return None;
            }
            let extra = if i.op_count() > 0 {
                i.immediate16() as u32
            } else {
                0
            };
            u.push(get32(T1, 4));
            u.push(Uop::Load {
                t: T0,
                addr: T1,
                size: 4,
                write: false,
            });
            u.push(Uop::Imm {
                t: T2,
                v: 4 + extra,
            });
            u.push(Uop::Alu {
                op: AluOp::Add,
                size: 4,
                dst: T1,
                a: T1,
                b: T2,
            });
            u.push(put32(4, T1));
            End::Indirect(T0)
        }
        _ => {
            let cc = cc_nibble(i.condition_code())?;
            if i.op0_kind() != OpKind::NearBranch32
                || matches!(i.mnemonic(), Loop | Loope | Loopne | Jcxz | Jecxz)
            {
                return None;
            }
            End::Cond {
                cc,
                taken: i.near_branch32(),
                not_taken: g.next,
                host: false,
            }
        }
    };
    if i.has_lock_prefix() {
        return None;
    }
    Some((u, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::decode_block;

    fn flat() -> Mode {
        Mode {
            code32: true,
            stack32: true,
            cpl: 0,
            pe: true,
            vm: false,
            paging: false,
            flat: true,
        }
    }

    #[test]
    fn alu_loop_lowers_natively_with_fused_branch() {
        // add eax,ebx ; cmp ecx,edx ; jnz -6
        let src = decode_block(&[0x01, 0xd8, 0x39, 0xd1, 0x75, 0xfa], 0x1000, true, 64);
        let b = lower(&src, flat());
        assert_eq!(b.fallbacks(), 0);
        let Body::Native(add) = &b.insns[0].body else {
            panic!("native")
        };
        assert!(
            !add.iter().any(|u| matches!(u, Uop::Lazy { .. })),
            "ADD's flags are dead: CMP rewrites them all"
        );
        assert!(matches!(
            b.end,
            End::Cond {
                cc: 5,
                host: true,
                ..
            }
        ));
        // add eax,ebx ; dec ecx ; jnz — DEC carries CF over, so ADD's record stays.
        let src = decode_block(&[0x01, 0xd8, 0x49, 0x75, 0xfb], 0x1000, true, 64);
        let b = lower(&src, flat());
        let Body::Native(add) = &b.insns[0].body else {
            panic!("native")
        };
        assert!(add.iter().any(|u| matches!(u, Uop::Lazy { .. })));
        assert!(
            matches!(b.end, End::Cond { host: true, .. }),
            "JNZ reads ZF only"
        );
    }

    #[test]
    fn sixteen_bit_code_falls_back() {
        let src = decode_block(&[0x01, 0xd8, 0x75, 0xfc], 0x1000, false, 64);
        let mut m = flat();
        m.code32 = false;
        let b = lower(&src, m);
        assert_eq!(b.fallbacks(), 2);
        assert_eq!(b.end, End::FromState);
    }
}
