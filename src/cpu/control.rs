//! Control transfer: JMP/Jcc/JCXZ/LOOPcc, near and far CALL/RET, INT n/INT3/INTO/INT1,
//! IRET (SDM Vol. 2; far transfers and gates per Vol. 3A §5.8, IRET per Vol. 2A "IRET").

use iced_x86::{Instruction, Mnemonic, OpKind};
use jit::abi::{Segment, CS, DS, ECX, ES, FS, GS, SS};

use super::fault::{Fault, Res};
use super::flags::{self, IF, IOPL, NT, RF, VM};
use super::interrupt::IntKind;
use super::seg::{attr, systype, Desc};
use super::task::TaskReason;
use super::Cpu;

impl Cpu {
    pub(super) fn control(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        let osz = self.opsize(i);
        match i.mnemonic() {
            Jmp | Call => {
                let call = i.mnemonic() == Call;
                if let Some((sel, off)) = self.far_target(i, osz)? {
                    return self.far_jump(sel, off, osz, call);
                }
                let target = match i.op0_kind() {
                    OpKind::NearBranch16 | OpKind::NearBranch32 => i.near_branch_target() as u32,
                    _ => self.read_op(i, 0, osz)?,
                };
                if call {
                    self.call_near(target, osz)
                } else {
                    self.jump_near(target, osz)
                }
            }
            Ja | Jae | Jb | Jbe | Je | Jne | Jg | Jge | Jl | Jle | Jo | Jno | Jp | Jnp | Js
            | Jns => {
                if flags::cond(&self.s, super::data::cc_of(i)) {
                    self.jump_near(i.near_branch_target() as u32, osz)?;
                }
                Ok(())
            }
            Jcxz | Jecxz | Loop | Loope | Loopne => {
                let a32 = match i.mnemonic() {
                    Jcxz => false,
                    Jecxz => true,
                    _ => {
                        i.code().op_code().address_size() == 32
                            || (i.code().op_code().address_size() == 0 && self.code32())
                    }
                };
                let mask = if a32 { u32::MAX } else { 0xffff };
                let count = self.s.regs[ECX] & mask;
                // LOOPcc decrements the count; the jump (with its CS-limit check) comes
                // first so that a fault leaves ECX as it was.
                let (take, new_count) = match i.mnemonic() {
                    Jcxz | Jecxz => (count == 0, None),
                    m => {
                        let c = count.wrapping_sub(1) & mask;
                        let cond = match m {
                            Loope => flags::zf(&self.s),
                            Loopne => !flags::zf(&self.s),
                            _ => true,
                        };
                        (c != 0 && cond, Some(c))
                    }
                };
                if take {
                    self.jump_near(i.near_branch_target() as u32, osz)?;
                }
                if let Some(c) = new_count {
                    self.s.regs[ECX] = (self.s.regs[ECX] & !mask) | c;
                }
                Ok(())
            }
            Ret => {
                let target = self.peek(0, osz)?;
                let target = if osz == 2 { target & 0xffff } else { target };
                self.check_cs_limit(target)?;
                let imm = if i.op_count() > 0 {
                    i.immediate16() as u32
                } else {
                    0
                };
                let sp = self.sp_offset(osz + imm);
                self.set_sp(sp);
                self.next_eip = target;
                Ok(())
            }
            Retf => {
                let imm = if i.op_count() > 0 {
                    i.immediate16() as u32
                } else {
                    0
                };
                self.ret_far(osz, imm)
            }
            Int => {
                if self.v86() && self.iopl() < 3 {
                    return Err(Fault::Gp(0));
                }
                self.no_trap = true;
                self.interrupt(i.immediate8(), IntKind::Soft, self.next_eip)
            }
            Int3 => {
                self.no_trap = true;
                self.interrupt(3, IntKind::Soft, self.next_eip)
            }
            Into => {
                if flags::of(&self.s) {
                    self.no_trap = true;
                    self.interrupt(4, IntKind::Soft, self.next_eip)
                } else {
                    Ok(())
                }
            }
            Int1 => {
                self.no_trap = true;
                self.interrupt(1, IntKind::Icebp, self.next_eip)
            }
            Iret | Iretd => self.iret(osz),
            _ => Err(Fault::Ud),
        }
    }

    /// The selector:offset of a far JMP/CALL (direct, or m16:16/m16:32), or None for a
    /// near one.
    fn far_target(&mut self, i: &Instruction, osz: u32) -> Res<Option<(u16, u32)>> {
        match i.op0_kind() {
            OpKind::FarBranch16 | OpKind::FarBranch32 => {
                Ok(Some((i.far_branch_selector(), far_offset(i))))
            }
            OpKind::Memory if i.is_jmp_far_indirect() || i.is_call_far_indirect() => {
                let (seg, off) = self.ea(i);
                let target = self.read_mem(seg, off, osz)?;
                let sel = self.read_mem(seg, off.wrapping_add(osz), 2)? as u16;
                Ok(Some((sel, target)))
            }
            _ => Ok(None),
        }
    }

    /// #GP(0) if `eip` is beyond the CS limit.
    pub(crate) fn check_cs_limit(&self, eip: u32) -> Res<()> {
        if eip > self.s.seg[CS].limit {
            Err(Fault::Gp(0))
        } else {
            Ok(())
        }
    }

    fn jump_near(&mut self, target: u32, osz: u32) -> Res<()> {
        let target = if osz == 2 { target & 0xffff } else { target };
        self.check_cs_limit(target)?;
        self.next_eip = target;
        Ok(())
    }

    fn call_near(&mut self, target: u32, osz: u32) -> Res<()> {
        let target = if osz == 2 { target & 0xffff } else { target };
        self.check_cs_limit(target)?;
        self.push(osz, self.next_eip)?;
        self.next_eip = target;
        Ok(())
    }

    /// Loads CS from a code descriptor at privilege `cpl`.
    pub(crate) fn set_cs(&mut self, sel: u16, d: Desc, cpl: u32) {
        self.s.seg[CS] = d.cache((sel & !3) | cpl as u16);
        self.s.seg[CS].attr |= attr::ACCESSED;
        self.s.cpl = cpl;
    }

    /// Loads CS in real or virtual-8086 mode.
    pub(crate) fn set_cs_real(&mut self, sel: u16) {
        self.load_seg_real(CS, sel);
        if self.v86() {
            self.s.cpl = 3;
        }
    }

    /// Far JMP and far CALL through a selector: code segment, call gate, task gate or TSS.
    fn far_jump(&mut self, sel: u16, off: u32, osz: u32, call: bool) -> Res<()> {
        let off = if osz == 2 { off & 0xffff } else { off };
        if !self.pmode() {
            if call {
                let cs = self.s.seg[CS].selector as u32;
                let sp = self.sp_offset((2 * osz).wrapping_neg());
                self.write_mem(SS, self.sp_offset(osz.wrapping_neg()), osz, cs)?;
                self.write_mem(SS, sp, osz, self.next_eip)?;
                self.set_sp(sp);
            }
            self.set_cs_real(sel);
            self.next_eip = off;
            return Ok(());
        }
        if sel & !3 == 0 {
            return Err(Fault::Gp(0));
        }
        let d = self.read_desc(sel, Fault::Gp)?;
        let e = sel & 0xfffc;
        let cpl = self.s.cpl;
        let rpl = (sel & 3) as u32;
        if d.is_seg() {
            if !d.is_code() {
                return Err(Fault::Gp(e));
            }
            if d.conforming() {
                if d.dpl() > cpl {
                    return Err(Fault::Gp(e));
                }
            } else if rpl > cpl || d.dpl() != cpl {
                return Err(Fault::Gp(e));
            }
            if !d.present() {
                return Err(Fault::Np(e));
            }
            if off > d.limit() {
                return Err(Fault::Gp(0));
            }
            if call {
                self.push_far_return(osz)?;
            }
            self.touch_desc(sel, d)?;
            self.set_cs(sel, d, cpl);
            self.next_eip = off;
            return Ok(());
        }
        match d.systype() {
            systype::CALL_GATE16 | systype::CALL_GATE32 => self.through_call_gate(sel, d, call),
            systype::TASK_GATE
            | systype::TSS16_AVAIL
            | systype::TSS32_AVAIL
            | systype::TSS16_BUSY
            | systype::TSS32_BUSY => {
                if d.dpl() < cpl || d.dpl() < rpl {
                    return Err(Fault::Gp(e));
                }
                if !d.present() {
                    return Err(Fault::Np(e));
                }
                let reason = if call {
                    TaskReason::Call
                } else {
                    TaskReason::Jmp
                };
                let (tss_sel, tss) = if d.systype() == systype::TASK_GATE {
                    let t = d.gate_selector();
                    if t & 4 != 0 {
                        return Err(Fault::Gp(t & 0xfffc));
                    }
                    let td = self.read_desc(t, Fault::Gp)?;
                    (t, td)
                } else {
                    (sel, d)
                };
                self.task_switch(tss_sel, tss, reason, self.next_eip)
            }
            _ => Err(Fault::Gp(e)),
        }
    }

    /// Pushes CS and the return EIP for a far CALL on the current stack.
    fn push_far_return(&mut self, osz: u32) -> Res<()> {
        let cs = self.s.seg[CS].selector as u32;
        let top = self.sp_offset((2 * osz).wrapping_neg());
        self.lin(SS, top, 2 * osz, true)?;
        self.write_mem(SS, self.sp_offset(osz.wrapping_neg()), osz, cs)?;
        self.write_mem(SS, top, osz, self.next_eip)?;
        self.set_sp(top);
        Ok(())
    }

    /// JMP/CALL through a call gate (SDM Vol. 3A §5.8.4–5.8.5).
    fn through_call_gate(&mut self, gsel: u16, g: Desc, call: bool) -> Res<()> {
        let cpl = self.s.cpl;
        let ge = gsel & 0xfffc;
        if g.dpl() < cpl || g.dpl() < (gsel & 3) as u32 {
            return Err(Fault::Gp(ge));
        }
        if !g.present() {
            return Err(Fault::Np(ge));
        }
        let tsel = g.gate_selector();
        if tsel & !3 == 0 {
            return Err(Fault::Gp(0));
        }
        let te = tsel & 0xfffc;
        let t = self.read_desc(tsel, Fault::Gp)?;
        if !t.is_code() || t.dpl() > cpl {
            return Err(Fault::Gp(te));
        }
        if !call && !t.conforming() && t.dpl() != cpl {
            return Err(Fault::Gp(te));
        }
        if !t.present() {
            return Err(Fault::Np(te));
        }
        let gate32 = g.systype() == systype::CALL_GATE32;
        let gsz = if gate32 { 4 } else { 2 };
        let off = if gate32 {
            g.gate_offset()
        } else {
            g.gate_offset() & 0xffff
        };
        if off > t.limit() {
            return Err(Fault::Gp(0));
        }
        if !call {
            self.touch_desc(tsel, t)?;
            self.set_cs(tsel, t, cpl);
            self.next_eip = off;
            return Ok(());
        }
        if !t.conforming() && t.dpl() < cpl {
            // More privileged: switch to the inner stack from the TSS and copy params.
            let dpl = t.dpl();
            let (nss, nesp) = self.tss_stack(dpl)?;
            let ss_cache = self.check_inner_ss(nss, dpl, Fault::Ts)?;
            let nparams = g.gate_params();
            let old_ss = self.s.seg[SS];
            let old_esp = self.s.regs[jit::abi::ESP];
            let old_sp = self.sp();
            let mut params = Vec::with_capacity(nparams as usize);
            for k in 0..nparams {
                let off = if old_ss.attr & attr::DB != 0 {
                    old_sp.wrapping_add(k * gsz)
                } else {
                    old_sp.wrapping_add(k * gsz) & 0xffff
                };
                params.push(self.read_mem(SS, off, gsz)?);
            }
            let mut vals = vec![old_ss.selector as u32, old_esp];
            vals.extend(params.iter().rev());
            vals.extend([self.s.seg[CS].selector as u32, self.next_eip]);
            self.switch_to_inner_stack(nss, ss_cache, nesp, dpl, &vals, gsz, 0)?;
            self.touch_desc(tsel, t)?;
            self.set_cs(tsel, t, dpl);
            self.next_eip = off;
            return Ok(());
        }
        self.push_far_return(gsz)?;
        self.touch_desc(tsel, t)?;
        self.set_cs(tsel, t, cpl);
        self.next_eip = off;
        Ok(())
    }

    /// Pushes `vals` (the first at the highest address) onto the inner stack `nss:nesp`
    /// of privilege `dpl` and makes it current, with CPL = `dpl` and VM clear. A stack
    /// fault is #SS(new SS | `ext`), and leaves the old stack, CPL and VM in place.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn switch_to_inner_stack(
        &mut self,
        nss: u16,
        ss_cache: Segment,
        nesp: u32,
        dpl: u32,
        vals: &[u32],
        size: u32,
        ext: u16,
    ) -> Res<()> {
        let ss32 = ss_cache.attr & attr::DB != 0;
        let wrap = |v: u32| if ss32 { v } else { v & 0xffff };
        let total = vals.len() as u32 * size;
        let top = wrap(nesp.wrapping_sub(total));
        let saved = (self.s.seg[SS], self.s.cpl, self.s.eflags & VM);
        self.s.seg[SS] = ss_cache;
        self.s.cpl = dpl;
        self.s.eflags &= !VM;
        let res = (|| -> Res<()> {
            self.lin(SS, top, total, true)
                .map_err(|_| Fault::Ss((nss & 0xfffc) | ext))?;
            let mut sp = nesp;
            for v in vals {
                sp = wrap(sp.wrapping_sub(size));
                self.write_mem(SS, sp, size, *v)?;
            }
            let d = self.read_desc(nss, Fault::Ts)?;
            self.touch_desc(nss, d)
        })();
        if let Err(f) = res {
            (self.s.seg[SS], self.s.cpl) = (saved.0, saved.1);
            self.s.eflags |= saved.2;
            return Err(f);
        }
        self.s.regs[jit::abi::ESP] = if ss32 {
            top
        } else {
            (self.s.regs[jit::abi::ESP] & !0xffff) | top
        };
        Ok(())
    }

    /// SS:ESP for privilege level `dpl` from the current TSS.
    pub(crate) fn tss_stack(&mut self, dpl: u32) -> Res<(u16, u32)> {
        let tr = self.s.tr;
        let e = tr.selector & 0xfffc;
        let t32 = (tr.attr & 0xf) as u8 & 8 != 0;
        let (esp_off, ss_off, width) = if t32 {
            (4 + 8 * dpl, 8 + 8 * dpl, 4)
        } else {
            (2 + 4 * dpl, 4 + 4 * dpl, 2)
        };
        if ss_off + 1 > tr.limit {
            return Err(Fault::Ts(e));
        }
        let esp = self.read_sys(tr.base.wrapping_add(esp_off), width)?;
        let ss = self.read_sys(tr.base.wrapping_add(ss_off), 2)? as u16;
        Ok((ss, esp))
    }

    /// Validates an inner-level SS from the TSS (SDM: #TS for a bad selector, #SS if
    /// not present).
    pub(crate) fn check_inner_ss(
        &mut self,
        ss: u16,
        dpl: u32,
        err: fn(u16) -> Fault,
    ) -> Res<Segment> {
        let e = ss & 0xfffc;
        if ss & !3 == 0 {
            return Err(err(0));
        }
        let d = self.read_desc(ss, err)?;
        if (ss & 3) as u32 != dpl || d.dpl() != dpl || !d.is_seg() || d.is_code() || !d.rw() {
            return Err(err(e));
        }
        if !d.present() {
            return Err(Fault::Ss(e));
        }
        let mut c = d.cache(ss);
        c.attr |= attr::ACCESSED;
        Ok(c)
    }

    /// Far RET [imm16] (SDM Vol. 2B, RET "Operation", protected-mode branches).
    fn ret_far(&mut self, osz: u32, imm: u32) -> Res<()> {
        let eip = self.peek(0, osz)?;
        let sel = self.peek(osz, 2)? as u16;
        let eip = if osz == 2 { eip & 0xffff } else { eip };
        if !self.pmode() {
            let sp = self.sp_offset(2 * osz + imm);
            self.set_cs_real(sel);
            self.set_sp(sp);
            self.next_eip = eip;
            return Ok(());
        }
        let (d, rpl) = self.check_return_cs(sel)?;
        if eip > d.limit() {
            return Err(Fault::Gp(0));
        }
        if rpl == self.s.cpl {
            let sp = self.sp_offset(2 * osz + imm);
            self.touch_desc(sel, d)?;
            self.set_cs(sel, d, rpl);
            self.set_sp(sp);
            self.next_eip = eip;
            return Ok(());
        }
        // Return to an outer level: SS:ESP follow the parameters.
        let nesp = self.peek(2 * osz + imm, osz)?;
        let nss = self.peek(3 * osz + imm, 2)? as u16;
        let ss_cache = self.check_outer_ss(nss, rpl)?;
        self.touch_desc(sel, d)?;
        self.set_cs(sel, d, rpl);
        self.s.seg[SS] = ss_cache;
        let nesp = if osz == 2 { nesp & 0xffff } else { nesp };
        self.set_sp(nesp.wrapping_add(imm));
        self.next_eip = eip;
        self.null_inaccessible_segs();
        Ok(())
    }

    /// Checks a CS selector popped by RET/IRET; returns its descriptor and RPL.
    fn check_return_cs(&mut self, sel: u16) -> Res<(Desc, u32)> {
        if sel & !3 == 0 {
            return Err(Fault::Gp(0));
        }
        let e = sel & 0xfffc;
        let rpl = (sel & 3) as u32;
        if rpl < self.s.cpl {
            return Err(Fault::Gp(e));
        }
        let d = self.read_desc(sel, Fault::Gp)?;
        if !d.is_code() {
            return Err(Fault::Gp(e));
        }
        if d.conforming() {
            if d.dpl() > rpl {
                return Err(Fault::Gp(e));
            }
        } else if d.dpl() != rpl {
            return Err(Fault::Gp(e));
        }
        if !d.present() {
            return Err(Fault::Np(e));
        }
        Ok((d, rpl))
    }

    /// Checks the outer SS popped by a RET/IRET to privilege `rpl`.
    fn check_outer_ss(&mut self, ss: u16, rpl: u32) -> Res<Segment> {
        if ss & !3 == 0 {
            return Err(Fault::Gp(0));
        }
        let e = ss & 0xfffc;
        let d = self.read_desc(ss, Fault::Gp)?;
        if (ss & 3) as u32 != rpl || !d.is_seg() || d.is_code() || !d.rw() || d.dpl() != rpl {
            return Err(Fault::Gp(e));
        }
        if !d.present() {
            return Err(Fault::Ss(e));
        }
        self.touch_desc(ss, d)?;
        let mut c = d.cache(ss);
        c.attr |= attr::ACCESSED;
        Ok(c)
    }

    /// IRET/IRETD in every mode (SDM Vol. 2A, IRET "Operation").
    fn iret(&mut self, osz: u32) -> Res<()> {
        self.nmi_blocked = false;
        if !self.protected() {
            let eip = self.peek(0, osz)?;
            let sel = self.peek(osz, 2)? as u16;
            let fl = self.peek(2 * osz, osz)?;
            let eip = if osz == 2 { eip & 0xffff } else { eip };
            self.check_cs_limit(eip)?;
            let sp = self.sp_offset(3 * osz);
            self.set_cs_real(sel);
            self.set_sp(sp);
            let mask = if osz == 2 {
                0xffff
            } else {
                flags::WRITABLE & !(VM | RF)
            };
            flags::set_masked(&mut self.s, mask & flags::WRITABLE, fl);
            self.next_eip = eip;
            return Ok(());
        }
        if self.v86() {
            if self.iopl() < 3 {
                return Err(Fault::Gp(0));
            }
            let eip = self.peek(0, osz)?;
            let sel = self.peek(osz, 2)? as u16;
            let fl = self.peek(2 * osz, osz)?;
            let eip = if osz == 2 { eip & 0xffff } else { eip };
            self.check_cs_limit(eip)?;
            let sp = self.sp_offset(3 * osz);
            self.set_cs_real(sel);
            self.set_sp(sp);
            let mask =
                (if osz == 2 { 0xffff } else { u32::MAX }) & flags::WRITABLE & !(VM | RF | IOPL);
            flags::set_masked(&mut self.s, mask, fl);
            self.next_eip = eip;
            return Ok(());
        }
        if self.s.eflags & NT != 0 {
            return self.task_return();
        }
        let eip = self.peek(0, osz)?;
        let sel = self.peek(osz, 2)? as u16;
        let fl = self.peek(2 * osz, osz)?;
        if osz == 4 && fl & VM != 0 && self.s.cpl == 0 {
            return self.iret_to_v86(eip, sel, fl);
        }
        let eip = if osz == 2 { eip & 0xffff } else { eip };
        let (d, rpl) = self.check_return_cs(sel)?;
        if eip > d.limit() {
            return Err(Fault::Gp(0));
        }
        let old_cpl = self.s.cpl;
        let iopl = self.iopl();
        let mut mask = flags::WRITABLE & !VM;
        if osz == 2 {
            mask &= 0xffff;
        }
        if old_cpl > 0 {
            mask &= !IOPL;
        }
        if old_cpl > iopl {
            mask &= !IF;
        }
        if rpl == old_cpl {
            let sp = self.sp_offset(3 * osz);
            self.touch_desc(sel, d)?;
            self.set_cs(sel, d, rpl);
            self.set_sp(sp);
            flags::set_masked(&mut self.s, mask, fl);
            self.next_eip = eip;
            return Ok(());
        }
        let nesp = self.peek(3 * osz, osz)?;
        let nss = self.peek(4 * osz, 2)? as u16;
        let ss_cache = self.check_outer_ss(nss, rpl)?;
        self.touch_desc(sel, d)?;
        self.set_cs(sel, d, rpl);
        self.s.seg[SS] = ss_cache;
        let nesp = if osz == 2 { nesp & 0xffff } else { nesp };
        self.set_sp(nesp);
        flags::set_masked(&mut self.s, mask, fl);
        self.next_eip = eip;
        self.null_inaccessible_segs();
        Ok(())
    }

    /// IRETD from CPL 0 with VM=1 in the popped EFLAGS: return to virtual-8086 mode.
    fn iret_to_v86(&mut self, eip: u32, cs: u16, fl: u32) -> Res<()> {
        let esp = self.peek(12, 4)?;
        let ss = self.peek(16, 4)? as u16;
        let es = self.peek(20, 4)? as u16;
        let ds = self.peek(24, 4)? as u16;
        let fs = self.peek(28, 4)? as u16;
        let gs = self.peek(32, 4)? as u16;
        flags::set_masked(&mut self.s, flags::WRITABLE, fl | VM);
        self.s.cpl = 3;
        for (seg, sel) in [(CS, cs), (SS, ss), (ES, es), (DS, ds), (FS, fs), (GS, gs)] {
            self.load_seg_real(seg, sel);
        }
        self.s.regs[jit::abi::ESP] = esp;
        self.next_eip = eip & 0xffff;
        Ok(())
    }
}

/// The offset of a direct far branch (ptr16:16 or ptr16:32).
fn far_offset(i: &Instruction) -> u32 {
    if i.op0_kind() == OpKind::FarBranch16 {
        i.far_branch16() as u32
    } else {
        i.far_branch32()
    }
}
