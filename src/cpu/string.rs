//! String instructions: MOVS STOS LODS CMPS SCAS INS OUTS with 16/32-bit addressing and
//! REP/REPE/REPNE (SDM Vol. 2B, REP prefix). A REP instruction runs in chunks: after
//! `REP_CHUNK` iterations (one under TF) EIP stays on it, so interrupts and the
//! instruction budget are serviced, and the next step resumes it.

use iced_x86::{Instruction, Mnemonic, OpKind};
use jit::abi::{EAX, ECX, EDI, EDX, ES, ESI};

use super::fault::Res;
use super::flags::{self, op, set_lazy, DF, TF};
use super::{Cpu, REP_CHUNK};

impl Cpu {
    pub(super) fn string(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        let m = i.mnemonic();
        let size = match m {
            Movsb | Stosb | Lodsb | Cmpsb | Scasb | Insb | Outsb => 1,
            Movsw | Stosw | Lodsw | Cmpsw | Scasw | Insw | Outsw => 2,
            _ => 4,
        };
        let a32 = (0..i.op_count())
            .any(|n| matches!(i.op_kind(n), OpKind::MemorySegESI | OpKind::MemoryESEDI));
        let amask = if a32 { u32::MAX } else { 0xffff };
        let src_seg = super::operand::sreg(i.memory_segment());
        let rep = i.has_rep_prefix() || i.has_repe_prefix() || i.has_repne_prefix();
        let cmp = matches!(m, Cmpsb | Cmpsw | Cmpsd | Scasb | Scasw | Scasd);
        if matches!(m, Insb | Insw | Insd | Outsb | Outsw | Outsd) {
            let port = self.s.regs[EDX] as u16;
            self.check_io(port, size)?;
        }
        let step = if self.s.eflags & DF != 0 {
            size.wrapping_neg()
        } else {
            size
        };
        // One iteration per step under TF: REP traps after each iteration.
        let budget = if rep && self.s.eflags & TF == 0 {
            REP_CHUNK
        } else {
            1
        };
        let mut n = 0;
        loop {
            if rep && self.s.regs[ECX] & amask == 0 {
                return Ok(());
            }
            let si = self.s.regs[ESI] & amask;
            let di = self.s.regs[EDI] & amask;
            let mut advance_si = false;
            let mut advance_di = false;
            match m {
                Movsb | Movsw | Movsd => {
                    let v = self.read_mem(src_seg, si, size)?;
                    self.write_mem(ES, di, size, v)?;
                    advance_si = true;
                    advance_di = true;
                }
                Stosb | Stosw | Stosd => {
                    self.write_mem(ES, di, size, self.s.regs[EAX])?;
                    advance_di = true;
                }
                Lodsb | Lodsw | Lodsd => {
                    let v = self.read_mem(src_seg, si, size)?;
                    self.set_reg(EAX, size, false, v);
                    advance_si = true;
                }
                Cmpsb | Cmpsw | Cmpsd => {
                    let a = self.read_mem(src_seg, si, size)?;
                    let b = self.read_mem(ES, di, size)?;
                    set_lazy(&mut self.s, op::SUB, size, a, b, a.wrapping_sub(b));
                    advance_si = true;
                    advance_di = true;
                }
                Scasb | Scasw | Scasd => {
                    let a = self.s.regs[EAX] & super::flags::size_mask(size);
                    let b = self.read_mem(ES, di, size)?;
                    set_lazy(&mut self.s, op::SUB, size, a, b, a.wrapping_sub(b));
                    advance_di = true;
                }
                Insb | Insw | Insd => {
                    // The destination is checked before the port is read.
                    let lin = self.lin(ES, di, size, true)?;
                    self.mmu.probe_write(lin, size, self.user())?;
                    let v = self.io.read(self.s.regs[EDX] as u16, size as u8);
                    self.write_mem(ES, di, size, v)?;
                    advance_di = true;
                }
                _ => {
                    let v = self.read_mem(src_seg, si, size)?;
                    self.io_write(self.s.regs[EDX] as u16, size, v);
                    advance_si = true;
                }
            }
            if advance_si {
                let v = si.wrapping_add(step) & amask;
                self.s.regs[ESI] = (self.s.regs[ESI] & !amask) | v;
            }
            if advance_di {
                let v = di.wrapping_add(step) & amask;
                self.s.regs[EDI] = (self.s.regs[EDI] & !amask) | v;
            }
            if !rep {
                return Ok(());
            }
            let c = (self.s.regs[ECX] & amask).wrapping_sub(1) & amask;
            self.s.regs[ECX] = (self.s.regs[ECX] & !amask) | c;
            if cmp {
                let zf = flags::zf(&self.s);
                let stop = if i.has_repne_prefix() { zf } else { !zf };
                if stop {
                    return Ok(());
                }
            }
            if c == 0 {
                return Ok(());
            }
            n += 1;
            if n >= budget {
                // Not finished: run this instruction again on the next step.
                self.next_eip = self.s.eip;
                self.rep_unfinished = true;
                return Ok(());
            }
        }
    }
}
