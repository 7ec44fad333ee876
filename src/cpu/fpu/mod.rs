//! (being written) The x87 FPU and MMX (Intel SDM Vol. 1 ch. 8-9, Vol. 2 instruction
//! reference). `f80` is the extended-precision arithmetic, `trans` the transcendentals,
//! this module the x87 instruction layer, `mmx` the MMX instructions.

pub mod f80;
mod mmx;
pub mod trans;

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::fault::{Fault, Res};
use super::{cr0, Cpu};

/// True for x87 escape instructions (D8-DF opcodes, with or without an FWAIT prefix).
pub(crate) fn is_x87(i: &Instruction) -> bool {
    let op = i.code().op_code();
    op.encoding() == iced_x86::EncodingKind::Legacy
        && matches!(op.op_code(), 0xd8..=0xdf)
        && op.table() == iced_x86::OpCodeTableKind::Normal
}

/// True for MMX instructions: an MM register operand, or EMMS.
pub(crate) fn is_mmx(i: &Instruction) -> bool {
    i.mnemonic() == Mnemonic::Emms
        || (0..i.op_count()).any(|n| i.op_kind(n) == OpKind::Register && i.op_register(n).is_mm())
}

impl Cpu {
    /// An x87 instruction (placeholder until the x87 layer lands: CR0 checks only).
    pub(super) fn x87(&mut self, _i: &Instruction) -> Res<()> {
        if self.s.cr0 & (cr0::EM | cr0::TS) != 0 {
            return Err(Fault::Nm);
        }
        Ok(())
    }

    /// WAIT/FWAIT.
    pub(super) fn fwait(&mut self) -> Res<()> {
        if self.s.cr0 & (cr0::MP | cr0::TS) == cr0::MP | cr0::TS {
            return Err(Fault::Nm);
        }
        Ok(())
    }
}
