//! (being written) MMX instructions (SDM Vol. 1 ch. 9). Placeholder: #UD.

use iced_x86::Instruction;

use crate::cpu::fault::{Fault, Res};
use crate::cpu::Cpu;

impl Cpu {
    pub(in crate::cpu) fn mmx(&mut self, _i: &Instruction) -> Res<()> {
        Err(Fault::Ud)
    }
}
