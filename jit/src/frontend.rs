//! The frontend: guest basic blocks decoded with iced-x86 (DESIGN.md, "Data flow of one
//! guest instruction", step 2) and the flag liveness across them (Intel SDM Vol. 1
//! Appendix A, "EFLAGS cross-reference", as iced-x86 reports it per instruction).
//!
//! A block is a run of instructions in one 4 KiB page. It ends after a near branch (the
//! branch belongs to the block), before any instruction the translated code must not run
//! itself (privileged, I/O, segment loads, CRx/DRx, POPF/STI/CLI, INT/IRET, HLT, far
//! transfers, x87 — the run loop hands those to the interpreter with its full
//! per-instruction bookkeeping), before an instruction that does not fit in the rest of
//! the page, or at a length cap.

use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic, OpKind, Register};

/// The most instructions in one block.
pub const MAX_BLOCK_INSNS: usize = 64;

/// The six arithmetic flags as EFLAGS bits (CF PF AF ZF SF OF).
pub const ARITH_FLAGS: u32 = 0x8d5;
const CF: u32 = 1;

/// Everything translation depends on besides the code bytes and EIP: translated code is
/// only valid in the mode it was translated for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mode {
    /// CS.D: 32-bit code.
    pub code32: bool,
    /// SS.B: 32-bit stack pointer.
    pub stack32: bool,
    pub cpl: u8,
    /// CR0.PE.
    pub pe: bool,
    /// EFLAGS.VM.
    pub vm: bool,
    /// CR0.PG.
    pub paging: bool,
    /// CS, DS, ES and SS are flat: base 0, limit 4 GiB - 1, present, usable for their
    /// role. Native memory accesses are emitted only then; they need no segment checks.
    pub flat: bool,
}

impl Mode {
    /// A compact key for the code cache.
    pub fn key(&self) -> u16 {
        self.code32 as u16
            | (self.stack32 as u16) << 1
            | (self.cpl as u16 & 3) << 2
            | (self.pe as u16) << 4
            | (self.vm as u16) << 5
            | (self.paging as u16) << 6
            | (self.flat as u16) << 7
    }

    /// Native lowering applies: 32-bit flat protected-mode code with a 32-bit stack.
    pub fn native(&self) -> bool {
        self.code32 && self.stack32 && self.flat && self.pe && !self.vm
    }
}

/// How an instruction takes part in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// May run inside a block.
    Plain,
    /// A near branch: ends the block, included.
    Branch,
    /// Must run outside translated code: ends the block before it.
    Excluded,
}

/// One decoded guest instruction of a block.
#[derive(Clone, Copy, Debug)]
pub struct GuestInsn {
    pub instr: Instruction,
    pub eip: u32,
    /// EIP of the next instruction (16-bit code wraps at 64 KiB).
    pub next: u32,
    pub class: Class,
}

/// A decoded block: its instructions, from the one at `eip`.
#[derive(Clone, Debug, Default)]
pub struct BlockSrc {
    pub eip: u32,
    pub insns: Vec<GuestInsn>,
    /// Bytes of guest code the block covers.
    pub bytes: u32,
}

/// Decodes a block from `code` (the guest bytes from EIP to the end of its page).
pub fn decode_block(code: &[u8], eip: u32, code32: bool, max_insns: usize) -> BlockSrc {
    let bitness = if code32 { 32 } else { 16 };
    let mut dec = Decoder::with_ip(bitness, code, eip as u64, DecoderOptions::NONE);
    let mut insns = Vec::new();
    let mut bytes = 0u32;
    while insns.len() < max_insns.min(MAX_BLOCK_INSNS) && dec.can_decode() {
        let instr = dec.decode();
        if instr.is_invalid() {
            // Undecodable, or cut by the page end: the interpreter fetches it.
            break;
        }
        let class = classify(&instr);
        if class == Class::Excluded {
            break;
        }
        let here = eip.wrapping_add(bytes);
        let next = if code32 {
            here.wrapping_add(instr.len() as u32)
        } else {
            let n = here.wrapping_add(instr.len() as u32);
            if n > 0xffff {
                // IP wraps: the next instruction is not the next byte in the page.
                break;
            }
            n
        };
        bytes += instr.len() as u32;
        insns.push(GuestInsn {
            instr,
            eip: here,
            next,
            class,
        });
        if class == Class::Branch {
            break;
        }
    }
    BlockSrc { eip, insns, bytes }
}

fn has_special_register(i: &Instruction) -> bool {
    (0..i.op_count()).any(|n| {
        i.op_kind(n) == OpKind::Register && {
            let r = i.op_register(n);
            r.is_segment_register() || r.is_cr() || r.is_dr() || r.is_tr()
        }
    })
}

/// Classifies an instruction for block building.
pub fn classify(i: &Instruction) -> Class {
    use Mnemonic::*;
    match i.mnemonic() {
        Add | Adc | Sub | Sbb | And | Or | Xor | Cmp | Test | Inc | Dec | Neg | Not | Mul
        | Imul | Div | Idiv | Daa | Das | Aaa | Aas | Aam | Aad | Shl | Sal | Shr | Sar | Rol
        | Ror | Rcl | Rcr | Shld | Shrd | Bt | Bts | Btr | Btc | Bsf | Bsr | Movzx | Movsx
        | Lea | Xchg | Xadd | Cmpxchg | Cmpxchg8b | Bswap | Cbw | Cwde | Cwd | Cdq | Lahf
        | Sahf | Xlatb | Setb | Setae | Sete | Setne | Setbe | Seta | Sets | Setns | Setp
        | Setnp | Setl | Setge | Setle | Setg | Seto | Setno | Cmovb | Cmovae | Cmove | Cmovne
        | Cmovbe | Cmova | Cmovs | Cmovns | Cmovp | Cmovnp | Cmovl | Cmovge | Cmovle | Cmovg
        | Cmovo | Cmovno | Nop | Pause | Pusha | Pushad | Popa | Popad | Pushf | Pushfd | Enter
        | Leave | Movsb | Movsw | Movsd | Stosb | Stosw | Stosd | Lodsb | Lodsw | Lodsd | Cmpsb
        | Cmpsw | Cmpsd | Scasb | Scasw | Scasd | Clc | Stc | Cmc | Cld | Std => {
            // MOVSD/CMPSD also name SSE2 forms this CPU lacks; those have XMM operands.
            if has_special_register(i) || has_xmm(i) {
                Class::Excluded
            } else {
                Class::Plain
            }
        }
        Mov | Push | Pop => {
            if has_special_register(i)
                && !(i.mnemonic() == Push && i.op0_kind() == OpKind::Register)
            {
                Class::Excluded
            } else {
                Class::Plain
            }
        }
        Jmp | Call => {
            if i.is_jmp_far()
                || i.is_jmp_far_indirect()
                || i.is_call_far()
                || i.is_call_far_indirect()
            {
                Class::Excluded
            } else {
                Class::Branch
            }
        }
        Ret | Ja | Jae | Jb | Jbe | Je | Jne | Jg | Jge | Jl | Jle | Jo | Jno | Jp | Jnp | Js
        | Jns | Jcxz | Jecxz | Loop | Loope | Loopne => Class::Branch,
        _ => Class::Excluded,
    }
}

fn has_xmm(i: &Instruction) -> bool {
    (0..i.op_count()).any(|n| i.op_kind(n) == OpKind::Register && i.op_register(n).is_xmm())
}

/// The arithmetic flags an instruction reads and writes, as the block's liveness sees
/// them. `native` says whether the backend lowers it itself: an interpreted instruction
/// may evaluate the whole lazy record, so it reads every flag.
pub fn flag_effects(i: &Instruction, native: bool) -> (u32, u32) {
    let written = i.rflags_modified() & 0x3f;
    let written = iced_to_eflags(written);
    if !native {
        return (ARITH_FLAGS, written);
    }
    match i.mnemonic() {
        // INC/DEC keep CF: the lazy record carries it over, so CF flows through.
        Mnemonic::Inc | Mnemonic::Dec => (CF, ARITH_FLAGS),
        _ => (iced_to_eflags(i.rflags_read() & 0x3f), written),
    }
}

/// iced's RflagsBits (OF=1 SF=2 ZF=4 AF=8 CF=0x10 PF=0x20) as EFLAGS bits.
fn iced_to_eflags(b: u32) -> u32 {
    let mut f = 0;
    if b & 0x01 != 0 {
        f |= 0x800;
    }
    if b & 0x02 != 0 {
        f |= 0x80;
    }
    if b & 0x04 != 0 {
        f |= 0x40;
    }
    if b & 0x08 != 0 {
        f |= 0x10;
    }
    if b & 0x10 != 0 {
        f |= 0x01;
    }
    if b & 0x20 != 0 {
        f |= 0x04;
    }
    f
}

/// Flags live after each instruction (all of them at the block's end), given each
/// instruction's (read, written) sets. INC/DEC's CF read only counts when its CF
/// result is live. After an instruction that can leave the block early (`can_exit`:
/// one the interpreter may run, which can fault or end the block) every flag is live,
/// since the state must be complete there.
pub fn liveness(effects: &[(u32, u32)], incdec: &[bool], can_exit: &[bool]) -> Vec<u32> {
    let mut live = ARITH_FLAGS;
    let mut out = vec![0; effects.len()];
    for k in (0..effects.len()).rev() {
        if can_exit.get(k).copied().unwrap_or(true) {
            live = ARITH_FLAGS;
        }
        out[k] = live;
        let (mut r, w) = effects[k];
        if incdec.get(k).copied().unwrap_or(false) && live & CF == 0 {
            r &= !CF;
        }
        live = (live & !w) | r;
    }
    out
}

/// True if `r` is a 32-bit general register.
pub fn gpr32(r: Register) -> bool {
    r.is_gpr32()
}

/// Whether an instruction transfers control (for statistics and the IR).
pub fn is_branch(i: &Instruction) -> bool {
    !matches!(i.flow_control(), FlowControl::Next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ends_after_a_branch_and_before_io() {
        // mov eax,1 ; add eax,ebx ; jnz $ ; nop
        let code = [0xb8, 1, 0, 0, 0, 0x01, 0xd8, 0x75, 0xfe, 0x90];
        let b = decode_block(&code, 0x1000, true, 64);
        assert_eq!(b.insns.len(), 3);
        assert_eq!(b.insns[2].class, Class::Branch);
        assert_eq!(b.bytes, 9);
        // mov eax,1 ; out dx,al
        let b = decode_block(&[0xb8, 1, 0, 0, 0, 0xee], 0x1000, true, 64);
        assert_eq!(b.insns.len(), 1, "OUT is left to the run loop");
        // pop ds ; mov ds,ax ; popf ; sti ; hlt ; int 3 all start empty blocks.
        for code in [
            &[0x1f][..],
            &[0x8e, 0xd8],
            &[0x9d],
            &[0xfb],
            &[0xf4],
            &[0xcc],
        ] {
            assert!(
                decode_block(code, 0, true, 64).insns.is_empty(),
                "{code:x?}"
            );
        }
        // An instruction cut by the page end is left out.
        let b = decode_block(&[0x90, 0xb8, 1, 0], 0xffc, true, 64);
        assert_eq!(b.insns.len(), 1);
    }

    #[test]
    fn sixteen_bit_ip_wrap_ends_the_block() {
        let b = decode_block(&[0x90, 0x90, 0x90], 0xfffe, false, 64);
        assert_eq!(b.insns.len(), 1);
    }

    #[test]
    fn liveness_drops_flags_overwritten_before_use() {
        // add ; cmp ; jb — ADD's flags are dead, CMP's CF is read by JB.
        let code = [0x01, 0xd8, 0x39, 0xc8, 0x72, 0x00];
        let b = decode_block(&code, 0, true, 64);
        let eff: Vec<_> = b
            .insns
            .iter()
            .map(|g| flag_effects(&g.instr, true))
            .collect();
        let live = liveness(&eff, &[false; 3], &[false; 3]);
        assert_eq!(live[0] & eff[0].1, 0, "ADD's flags are never read");
        assert_eq!(live[1], ARITH_FLAGS, "all flags live at the end");
        // inc ; jnz — INC's CF (carried over) is live at the block end.
        let b = decode_block(&[0x40, 0x75, 0x00], 0, true, 64);
        let eff: Vec<_> = b
            .insns
            .iter()
            .map(|g| flag_effects(&g.instr, true))
            .collect();
        let live = liveness(&eff, &[true, false], &[false; 2]);
        assert_ne!(live[0] & CF, 0);
        // add ; mov [mem], eax ; cmp ; jb — the store can leave the block (a fault, or
        // a write to code), so ADD's flags must be complete there.
        let code = [0x01, 0xd8, 0x89, 0x03, 0x39, 0xc8, 0x72, 0x00];
        let b = decode_block(&code, 0, true, 64);
        let eff: Vec<_> = b
            .insns
            .iter()
            .map(|g| flag_effects(&g.instr, true))
            .collect();
        let live = liveness(&eff, &[false; 4], &[false, true, false, false]);
        assert_eq!(live[0], ARITH_FLAGS, "flags live into a possible exit");
    }
}
