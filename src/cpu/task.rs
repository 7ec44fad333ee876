//! Hardware task switching (Intel SDM Vol. 3A ch. 7, §7.3 "Task switching"): JMP/CALL to
//! a TSS or task gate, IDT task gates, and IRET with NT set.

use jit::abi::{Segment, CS, DS, ES, FS, GS, SS};

use super::fault::{Fault, Res};
use super::flags::{self, NT, VM};
use super::seg::{attr, systype, Desc};
use super::Cpu;

/// Why a task switch happens: it decides the busy bits, NT and the back-link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskReason {
    Jmp,
    Call,
    Int,
    Iret,
}

/// Offsets in a 32-bit TSS (SDM Figure 7-2).
mod tss32 {
    pub const CR3: u32 = 0x1c;
    pub const EIP: u32 = 0x20;
    pub const EFLAGS: u32 = 0x24;
    pub const EAX: u32 = 0x28;
    pub const ES: u32 = 0x48;
    pub const LDT: u32 = 0x60;
}

/// Offsets in a 16-bit TSS (SDM Figure 7-11).
mod tss16 {
    pub const IP: u32 = 0x0e;
    pub const FLAGS: u32 = 0x10;
    pub const AX: u32 = 0x12;
    pub const ES: u32 = 0x22;
    pub const LDT: u32 = 0x2a;
}

impl Cpu {
    /// Switches to the task whose TSS descriptor is `d` (selector `sel`). `ret` is the
    /// EIP saved in the outgoing TSS.
    pub(crate) fn task_switch(
        &mut self,
        sel: u16,
        d: Desc,
        reason: TaskReason,
        ret: u32,
    ) -> Res<()> {
        let e = sel & 0xfffc;
        let ty = d.systype();
        let is32 = ty == systype::TSS32_AVAIL || ty == systype::TSS32_BUSY;
        let busy = ty == systype::TSS16_BUSY || ty == systype::TSS32_BUSY;
        if d.is_seg() || !matches!(ty, 1 | 3 | 9 | 11) || sel & 4 != 0 {
            // A bad back-link (IRET) is an invalid TSS; a bad JMP/CALL target is #GP.
            return Err(if reason == TaskReason::Iret {
                Fault::Ts(e)
            } else {
                Fault::Gp(e)
            });
        }
        if reason == TaskReason::Iret {
            if !busy {
                return Err(Fault::Ts(e));
            }
        } else if busy {
            return Err(Fault::Gp(e));
        }
        if !d.present() {
            return Err(Fault::Np(e));
        }
        let min = if is32 { 0x67 } else { 0x2b };
        if d.limit() < min {
            return Err(Fault::Ts(e));
        }
        let nbase = d.base();

        // Read the incoming state first: a fault here leaves the old task intact.
        let rd = |cpu: &mut Cpu, off: u32, w: u32| cpu.read_sys(nbase.wrapping_add(off), w);
        let (neip, nfl, ncr3, nldt, nregs, nsel) = if is32 {
            let mut regs = [0u32; 8];
            for (k, r) in regs.iter_mut().enumerate() {
                *r = rd(self, tss32::EAX + 4 * k as u32, 4)?;
            }
            let mut sels = [0u16; 6];
            for (k, s) in sels.iter_mut().enumerate() {
                *s = rd(self, tss32::ES + 4 * k as u32, 2)? as u16;
            }
            (
                rd(self, tss32::EIP, 4)?,
                rd(self, tss32::EFLAGS, 4)?,
                rd(self, tss32::CR3, 4)?,
                rd(self, tss32::LDT, 2)? as u16,
                regs,
                sels,
            )
        } else {
            let mut regs = [0u32; 8];
            for (k, r) in regs.iter_mut().enumerate() {
                *r = rd(self, tss16::AX + 2 * k as u32, 2)? | (self.s.regs[k] & 0xffff_0000);
            }
            let mut sels = [0u16; 6];
            for (k, s) in sels.iter_mut().take(4).enumerate() {
                *s = rd(self, tss16::ES + 2 * k as u32, 2)? as u16;
            }
            (
                rd(self, tss16::IP, 2)?,
                rd(self, tss16::FLAGS, 2)? | (flags::get(&self.s) & 0xffff_0000 & !VM),
                self.s.cr3,
                rd(self, tss16::LDT, 2)? as u16,
                regs,
                sels,
            )
        };
        // Make sure the outgoing TSS can be written before changing anything.
        let old = self.s.tr;
        let old32 = old.attr & 8 != 0;
        let old_len = if old32 { 0x5e } else { 0x2a };
        self.mmu.probe_write(old.base, old_len, false)?;
        self.mmu.probe_write(nbase, 2, false)?;

        // Save the outgoing state.
        let mut ofl = flags::get(&self.s);
        if reason == TaskReason::Iret {
            ofl &= !NT;
        }
        if old32 {
            self.write_sys(old.base.wrapping_add(tss32::EIP), 4, ret)?;
            self.write_sys(old.base.wrapping_add(tss32::EFLAGS), 4, ofl)?;
            for k in 0..8 {
                self.write_sys(
                    old.base.wrapping_add(tss32::EAX + 4 * k as u32),
                    4,
                    self.s.regs[k],
                )?;
            }
            for k in 0..6 {
                self.write_sys(
                    old.base.wrapping_add(tss32::ES + 4 * k as u32),
                    2,
                    self.s.seg[k].selector as u32,
                )?;
            }
        } else {
            self.write_sys(old.base.wrapping_add(tss16::IP), 2, ret)?;
            self.write_sys(old.base.wrapping_add(tss16::FLAGS), 2, ofl)?;
            for k in 0..8 {
                self.write_sys(
                    old.base.wrapping_add(tss16::AX + 2 * k as u32),
                    2,
                    self.s.regs[k],
                )?;
            }
            for k in 0..4 {
                self.write_sys(
                    old.base.wrapping_add(tss16::ES + 2 * k as u32),
                    2,
                    self.s.seg[k].selector as u32,
                )?;
            }
        }
        // Busy bits: the old task stays busy when it is nested (CALL/INT).
        if matches!(reason, TaskReason::Jmp | TaskReason::Iret) {
            let od = self.read_desc(old.selector, Fault::Gp)?;
            self.write_desc_hi(old.selector, od.hi & !(2 << 8))?;
        }
        let mut nfl = nfl;
        if matches!(reason, TaskReason::Call | TaskReason::Int) {
            self.write_sys(nbase, 2, old.selector as u32)?;
            nfl |= NT;
        }
        if reason != TaskReason::Iret {
            self.write_desc_hi(sel, d.hi | (2 << 8))?;
        }
        let nd = Desc {
            lo: d.lo,
            hi: d.hi | (2 << 8),
        };
        self.s.tr = nd.cache(sel);
        self.s.cr0 |= super::cr0::TS;

        // Load the new state: from here on, faults belong to the new task.
        if is32 && self.s.cr0 & super::cr0::PG != 0 {
            self.s.cr3 = ncr3;
            self.mmu.write_cr3(ncr3);
        } else if is32 {
            self.s.cr3 = ncr3;
        }
        self.s.regs = nregs;
        self.s.lazy.op = 0;
        self.s.eflags = (nfl & flags::WRITABLE) | 2;
        self.next_eip = neip;
        // Selectors first, descriptors after, as the manual orders it.
        for (k, s) in nsel.iter().enumerate() {
            self.s.seg[k].selector = *s;
        }
        self.s.ldtr.selector = nldt;
        let v86 = self.s.eflags & VM != 0;
        self.s.cpl = if v86 { 3 } else { (nsel[CS] & 3) as u32 };
        self.load_task_segments(nldt, &nsel, v86)?;
        if self.next_eip > self.s.seg[CS].limit {
            return Err(Fault::Gp(0));
        }
        Ok(())
    }

    /// Loads LDTR and the segment registers of a new task, raising #TS as §7.3 lists.
    fn load_task_segments(&mut self, ldt: u16, sel: &[u16; 6], v86: bool) -> Res<()> {
        // LDT.
        if ldt & !3 == 0 {
            self.s.ldtr = Segment::default();
        } else {
            if ldt & 4 != 0 {
                return Err(Fault::Ts(ldt & 0xfffc));
            }
            let d = self.read_desc(ldt, Fault::Ts)?;
            if d.is_seg() || d.systype() != systype::LDT {
                return Err(Fault::Ts(ldt & 0xfffc));
            }
            if !d.present() {
                return Err(Fault::Ts(ldt & 0xfffc));
            }
            self.s.ldtr = d.cache(ldt);
        }
        if v86 {
            for (k, s) in sel.iter().enumerate() {
                self.load_seg_real(k, *s);
            }
            return Ok(());
        }
        // CS.
        let cs = sel[CS];
        let ce = cs & 0xfffc;
        if cs & !3 == 0 {
            return Err(Fault::Ts(0));
        }
        let d = self.read_desc(cs, Fault::Ts)?;
        if !d.is_code() {
            return Err(Fault::Ts(ce));
        }
        let rpl = (cs & 3) as u32;
        if (!d.conforming() && d.dpl() != rpl) || (d.conforming() && d.dpl() > rpl) {
            return Err(Fault::Ts(ce));
        }
        if !d.present() {
            return Err(Fault::Np(ce));
        }
        self.touch_desc(cs, d)?;
        self.set_cs(cs, d, rpl);
        // SS.
        let ss = sel[SS];
        let se = ss & 0xfffc;
        if ss & !3 == 0 {
            return Err(Fault::Ts(0));
        }
        let d = self.read_desc(ss, Fault::Ts)?;
        if !d.is_seg() || d.is_code() || !d.rw() || d.dpl() != rpl || (ss & 3) as u32 != rpl {
            return Err(Fault::Ts(se));
        }
        if !d.present() {
            return Err(Fault::Ss(se));
        }
        self.touch_desc(ss, d)?;
        self.s.seg[SS] = d.cache(ss);
        self.s.seg[SS].attr |= attr::ACCESSED;
        // Data segments.
        for k in [ES, DS, FS, GS] {
            let s = sel[k];
            if s & !3 == 0 {
                self.s.seg[k] = Segment {
                    selector: s,
                    ..Default::default()
                };
                continue;
            }
            let e = s & 0xfffc;
            let d = self.read_desc(s, Fault::Ts)?;
            if !d.is_seg() || (d.is_code() && !d.rw()) {
                return Err(Fault::Ts(e));
            }
            if !d.conforming() && ((s & 3) as u32 > d.dpl() || rpl > d.dpl()) {
                return Err(Fault::Ts(e));
            }
            if !d.present() {
                return Err(Fault::Np(e));
            }
            self.touch_desc(s, d)?;
            self.s.seg[k] = d.cache(s);
            self.s.seg[k].attr |= attr::ACCESSED;
        }
        Ok(())
    }

    /// IRET with NT=1: return to the task named by the current TSS's back-link.
    pub(crate) fn task_return(&mut self) -> Res<()> {
        let back = self.read_sys(self.s.tr.base, 2)? as u16;
        if back & 4 != 0 {
            return Err(Fault::Ts(back & 0xfffc));
        }
        let d = self.read_desc(back, Fault::Ts)?;
        self.task_switch(back, d, TaskReason::Iret, self.next_eip)
    }
}
