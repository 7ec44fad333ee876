//! Interrupt and exception delivery (Intel SDM Vol. 3A ch. 6; §6.12 protected mode,
//! §6.15 double fault, §20.1.4 real mode, §20.3 virtual-8086 mode).

use jit::abi::{Segment, CS, DS, ES, ESP, FS, GS, SS};

use super::fault::{Fault, Res};
use super::flags::{self, AC, IF, NT, RF, TF, VM};
use super::seg::systype;
use super::task::TaskReason;
use super::Cpu;

/// What raised an interrupt: it decides the gate-DPL check, the EXT bit and the error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntKind {
    /// INT n, INT3, INTO: the gate's DPL must allow the current CPL.
    Soft,
    /// INT1 (ICEBP): delivered like a hardware #DB, no DPL check.
    Icebp,
    /// A CPU exception, with its error code if it has one.
    Exception(Option<u32>),
    /// INTR or NMI.
    External,
}

impl Cpu {
    /// Delivers an exception raised by the current instruction (EIP at it for faults,
    /// after it for traps), escalating to #DF and shutdown per SDM Table 6-5.
    pub(crate) fn deliver_exception(&mut self, f: Fault) {
        self.deliver_exception_chain(f);
        self.push_rf = false;
    }

    fn deliver_exception_chain(&mut self, f: Fault) {
        if self.trace {
            eprintln!(
                "exception {f:?} at {:04x}:{:08x}",
                self.s.seg[jit::abi::CS].selector,
                self.s.eip
            );
        }
        self.last_exception = Some(f);
        let mut cur = f;
        for _ in 0..4 {
            if let Fault::Pf { addr, .. } = cur {
                self.s.cr2 = addr;
            }
            let eip = self.s.eip;
            match self.interrupt(cur.vector(), IntKind::Exception(cur.error_code()), eip) {
                Ok(()) => {
                    self.s.eip = self.next_eip;
                    return;
                }
                Err(next) => {
                    if cur == Fault::Df {
                        break;
                    }
                    let pf = |f: Fault| matches!(f, Fault::Pf { .. });
                    let double = (cur.is_contributory() && next.is_contributory())
                        || (pf(cur) && (next.is_contributory() || pf(next)));
                    cur = if double { Fault::Df } else { next };
                }
            }
        }
        tracing::debug!(eip = self.s.eip, "triple fault");
        self.shutdown = true;
    }

    /// Delivers INTR or NMI vector `v` between instructions.
    pub(crate) fn deliver_external(&mut self, v: u8) {
        let eip = self.s.eip;
        match self.interrupt(v, IntKind::External, eip) {
            Ok(()) => self.s.eip = self.next_eip,
            Err(f) => self.deliver_exception(f),
        }
        self.push_rf = false;
    }

    /// Transfers control to the handler for vector `v`; on success `next_eip` holds the
    /// handler's EIP. `ret` is the EIP saved for the return.
    pub(crate) fn interrupt(&mut self, v: u8, kind: IntKind, ret: u32) -> Res<()> {
        if !self.protected() {
            return self.interrupt_real(v, ret);
        }
        let ext = matches!(kind, IntKind::External | IntKind::Exception(_)) as u16;
        let idt_err = (v as u16) * 8 + 2 + ext;
        if (v as u32) * 8 + 7 > self.s.idtr.limit {
            return Err(Fault::Gp(idt_err));
        }
        let lin = self.s.idtr.base.wrapping_add(v as u32 * 8);
        let gate = super::seg::Desc {
            lo: self.read_sys(lin, 4)?,
            hi: self.read_sys(lin.wrapping_add(4), 4)?,
        };
        let ty = gate.systype();
        if gate.is_seg()
            || !matches!(
                ty,
                systype::TASK_GATE
                    | systype::INT_GATE16
                    | systype::INT_GATE32
                    | systype::TRAP_GATE16
                    | systype::TRAP_GATE32
            )
        {
            return Err(Fault::Gp(idt_err));
        }
        if kind == IntKind::Soft && gate.dpl() < self.s.cpl {
            return Err(Fault::Gp(idt_err));
        }
        if !gate.present() {
            return Err(Fault::Np(idt_err));
        }
        let err = match kind {
            IntKind::Exception(e) => e,
            _ => None,
        };
        if ty == systype::TASK_GATE {
            let tsel = gate.gate_selector();
            if tsel & 4 != 0 {
                return Err(Fault::Ts(tsel & 0xfffc));
            }
            let td = self.read_desc(tsel, Fault::Ts)?;
            self.task_switch(tsel, td, TaskReason::Int, ret)?;
            if let Some(code) = err {
                let sz = if td.systype() & 8 != 0 { 4 } else { 2 };
                self.push(sz, code)?;
            }
            return Ok(());
        }
        let gate32 = ty & 8 != 0;
        let trap_gate = ty & 1 != 0;
        let sel = gate.gate_selector();
        let off = if gate32 {
            gate.gate_offset()
        } else {
            gate.gate_offset() & 0xffff
        };
        if sel & !3 == 0 {
            return Err(Fault::Gp(ext));
        }
        let se = (sel & 0xfffc) + ext;
        // A selector outside its table is #GP(selector + EXT).
        let d = self.read_desc(sel, Fault::Gp).map_err(|f| match f {
            Fault::Gp(e) => Fault::Gp(e | ext),
            f => f,
        })?;
        if !d.is_code() || d.dpl() > self.s.cpl {
            return Err(Fault::Gp(se));
        }
        if !d.present() {
            return Err(Fault::Np(se));
        }
        if off > d.limit() {
            return Err(Fault::Gp(ext));
        }
        let sz = if gate32 { 4 } else { 2 };
        let rf = if self.push_rf { RF } else { 0 };
        let old_fl = flags::get(&self.s) | rf;
        let old_cs = self.s.seg[CS].selector as u32;
        let from_v86 = self.v86();
        if !d.conforming() && d.dpl() < self.s.cpl {
            // Inter-privilege: new stack from the TSS.
            if from_v86 && d.dpl() != 0 {
                return Err(Fault::Gp(se));
            }
            let dpl = d.dpl();
            let (nss, nesp) = self.tss_stack(dpl)?;
            let ss_cache = self.check_inner_ss(nss, dpl, Fault::Ts)?;
            let old_ss = self.s.seg[SS].selector as u32;
            let old_esp = self.s.regs[ESP];
            let mut vals: Vec<u32> = Vec::with_capacity(10);
            if from_v86 {
                for seg in [GS, FS, DS, ES] {
                    vals.push(self.s.seg[seg].selector as u32);
                }
            }
            vals.extend_from_slice(&[old_ss, old_esp, old_fl, old_cs, ret]);
            if let Some(code) = err {
                vals.push(code);
            }
            self.switch_to_inner_stack(nss, ss_cache, nesp, dpl, &vals, sz, ext)?;
            if from_v86 {
                for seg in [GS, FS, DS, ES] {
                    self.s.seg[seg] = Segment::default();
                }
            }
            self.touch_desc(sel, d)?;
            self.set_cs(sel, d, dpl);
        } else {
            if from_v86 {
                return Err(Fault::Gp(se));
            }
            let cpl = self.s.cpl;
            let mut vals = vec![old_fl, old_cs, ret];
            if let Some(code) = err {
                vals.push(code);
            }
            let total = vals.len() as u32 * sz;
            let top = self.sp_offset(total.wrapping_neg());
            self.lin(SS, top, total, true)?;
            for (k, x) in vals.iter().enumerate() {
                let o = self.sp_offset(((k as u32 + 1) * sz).wrapping_neg());
                self.write_mem(SS, o, sz, *x)?;
            }
            self.set_sp(top);
            self.touch_desc(sel, d)?;
            self.set_cs(sel, d, cpl);
        }
        let mut clear = TF | NT | RF | VM;
        if !trap_gate {
            clear |= IF;
        }
        flags::set_masked(&mut self.s, clear, 0);
        self.next_eip = off;
        Ok(())
    }

    /// Real-address-mode delivery through the IVT.
    fn interrupt_real(&mut self, v: u8, ret: u32) -> Res<()> {
        let ent = v as u32 * 4;
        if ent + 3 > self.s.idtr.limit {
            return Err(Fault::Gp(0));
        }
        let base = self.s.idtr.base.wrapping_add(ent);
        let off = self.read_sys(base, 2)?;
        let seg = self.read_sys(base.wrapping_add(2), 2)? as u16;
        let fl = flags::get(&self.s) & 0xffff;
        let cs = self.s.seg[CS].selector as u32;
        let top = self.sp_offset(6u32.wrapping_neg());
        self.lin(SS, top, 6, true)?;
        self.write_mem(SS, self.sp_offset(2u32.wrapping_neg()), 2, fl)?;
        self.write_mem(SS, self.sp_offset(4u32.wrapping_neg()), 2, cs)?;
        self.write_mem(SS, top, 2, ret & 0xffff)?;
        self.set_sp(top);
        self.load_seg_real(CS, seg);
        flags::set_masked(&mut self.s, IF | TF | AC | RF, 0);
        self.next_eip = off;
        Ok(())
    }
}
