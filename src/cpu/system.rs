//! System instructions: flag control, HLT, I/O with IOPL and the TSS permission bitmap,
//! descriptor-table registers, control/debug registers, CPUID, TSC, MSRs, SYSENTER/SYSEXIT
//! (SDM Vol. 2 and Vol. 3A §2.8, §16.5 (I/O), §5.8.7 (SYSENTER)).

use iced_x86::{Instruction, Mnemonic, OpKind};
use jit::abi::{Segment, CS, EAX, ECX, EDX, ESP, SS};

use super::fault::{Fault, Res};
use super::flags::{self, CF, DF, IF, RF, VM, ZF};
use super::seg::{attr, systype};
use super::{cpuid, cr0, cr4, Cpu};

/// Model-specific registers (SDM Vol. 4).
mod msr {
    pub const TSC: u32 = 0x10;
    pub const EBL_CR_POWERON: u32 = 0x2a;
    pub const BIOS_SIGN_ID: u32 = 0x8b;
    pub const SYSENTER_CS: u32 = 0x174;
    pub const SYSENTER_ESP: u32 = 0x175;
    pub const SYSENTER_EIP: u32 = 0x176;
}

impl Cpu {
    /// #GP(0) unless at CPL 0 in protected mode (real mode counts as CPL 0).
    fn require_cpl0(&self) -> Res<()> {
        if self.s.cpl != 0 {
            Err(Fault::Gp(0))
        } else {
            Ok(())
        }
    }

    /// #UD in real and virtual-8086 mode.
    fn require_pmode(&self) -> Res<()> {
        if self.pmode() {
            Ok(())
        } else {
            Err(Fault::Ud)
        }
    }

    /// I/O permission (SDM Vol. 1 §18.5): allowed if CPL <= IOPL, else (and always in
    /// V8086 mode) every bit for the accessed ports must be clear in the TSS bitmap.
    pub(crate) fn check_io(&mut self, port: u16, size: u32) -> Res<()> {
        if !self.protected() || (!self.v86() && self.s.cpl <= self.iopl()) {
            return Ok(());
        }
        let tr = self.s.tr;
        let ty = (tr.attr & 0xf) as u8;
        if tr.attr & attr::P == 0
            || (ty != systype::TSS32_BUSY && ty != systype::TSS32_AVAIL)
            || tr.limit < 0x67
        {
            return Err(Fault::Gp(0));
        }
        let map = self.read_sys(tr.base.wrapping_add(0x66), 2)?;
        let byte = map + (port as u32 >> 3);
        if byte + 1 > tr.limit {
            return Err(Fault::Gp(0));
        }
        let bits = self.read_sys(tr.base.wrapping_add(byte), 2)?;
        let mask = ((1u32 << size) - 1) << (port & 7);
        if bits & mask != 0 {
            return Err(Fault::Gp(0));
        }
        Ok(())
    }

    pub(crate) fn io_write(&mut self, port: u16, size: u32, v: u32) {
        self.io.write(port, size as u8, v);
    }

    pub(super) fn system(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        match i.mnemonic() {
            Clc => flags::set_flag(&mut self.s, CF, false),
            Stc => flags::set_flag(&mut self.s, CF, true),
            Cmc => {
                let c = flags::cf(&self.s);
                flags::set_flag(&mut self.s, CF, !c);
            }
            Cld => self.s.eflags &= !DF,
            Std => self.s.eflags |= DF,
            Cli | Sti => {
                if (self.pmode() && self.s.cpl > self.iopl()) || (self.v86() && self.iopl() < 3) {
                    return Err(Fault::Gp(0));
                }
                if i.mnemonic() == Cli {
                    self.s.eflags &= !IF;
                } else {
                    if self.s.eflags & IF == 0 {
                        self.shadow_next = true;
                    }
                    self.s.eflags |= IF;
                }
            }
            Hlt => {
                if self.protected() && self.s.cpl != 0 {
                    return Err(Fault::Gp(0));
                }
                self.halt_now = true;
            }
            In => {
                let size = self.op_size(i, 0);
                let port = self.port_operand(i, 1);
                self.check_io(port, size)?;
                let v = self.io.read(port, size as u8);
                self.set_reg(EAX, size, false, v);
            }
            Out => {
                let size = self.op_size(i, 1);
                let port = self.port_operand(i, 0);
                self.check_io(port, size)?;
                let v = self.s.regs[EAX] & flags::size_mask(size);
                self.io_write(port, size, v);
            }
            Lgdt | Lidt => {
                if self.v86() {
                    return Err(Fault::Gp(0));
                }
                self.require_cpl0()?;
                let (seg, off) = self.ea(i);
                let limit = self.read_mem(seg, off, 2)?;
                let mut base = self.read_mem(seg, off.wrapping_add(2), 4)?;
                if self.opsize(i) == 2 {
                    base &= 0x00ff_ffff;
                }
                let t = jit::abi::TableReg { base, limit };
                if i.mnemonic() == Lgdt {
                    self.s.gdtr = t;
                } else {
                    self.s.idtr = t;
                }
            }
            Sgdt | Sidt => {
                let t = if i.mnemonic() == Sgdt {
                    self.s.gdtr
                } else {
                    self.s.idtr
                };
                let (seg, off) = self.ea(i);
                let base = if self.opsize(i) == 2 {
                    t.base & 0x00ff_ffff
                } else {
                    t.base
                };
                self.lin(seg, off, 6, true)?;
                self.write_mem(seg, off, 2, t.limit)?;
                self.write_mem(seg, off.wrapping_add(2), 4, base)?;
            }
            Sldt | Str => {
                self.require_pmode()?;
                let v = if i.mnemonic() == Sldt {
                    self.s.ldtr.selector
                } else {
                    self.s.tr.selector
                } as u32;
                let size = if i.op0_kind() == OpKind::Register {
                    i.op0_register().size() as u32
                } else {
                    2
                };
                let loc = self.loc(i, 0);
                self.write_loc(loc, size, v)?;
            }
            Lldt => {
                self.require_pmode()?;
                self.require_cpl0()?;
                let sel = self.read_op(i, 0, 2)? as u16;
                self.load_ldt(sel)?;
            }
            Ltr => {
                self.require_pmode()?;
                self.require_cpl0()?;
                let sel = self.read_op(i, 0, 2)? as u16;
                self.load_tr(sel)?;
            }
            Lmsw => {
                if self.v86() {
                    return Err(Fault::Gp(0));
                }
                self.require_cpl0()?;
                let v = self.read_op(i, 0, 2)?;
                // LMSW sets PE but cannot clear it.
                let new = (self.s.cr0 & !0xe) | (v & 0xf) | (self.s.cr0 & cr0::PE);
                self.write_cr0(new)?;
            }
            Smsw => {
                let size = if i.op0_kind() == OpKind::Register {
                    i.op0_register().size() as u32
                } else {
                    2
                };
                let loc = self.loc(i, 0);
                self.write_loc(loc, size, self.s.cr0)?;
            }
            Clts => {
                if self.v86() {
                    return Err(Fault::Gp(0));
                }
                self.require_cpl0()?;
                self.s.cr0 &= !cr0::TS;
            }
            Arpl => {
                self.require_pmode()?;
                let loc = self.loc(i, 0);
                let dst = self.read_loc(loc, 2)?;
                let src = self.read_gpr(i.op1_register());
                if dst & 3 < src & 3 {
                    self.write_loc(loc, 2, (dst & !3) | (src & 3))?;
                    flags::set_flag(&mut self.s, ZF, true);
                } else {
                    flags::set_flag(&mut self.s, ZF, false);
                }
            }
            Lar | Lsl => {
                self.require_pmode()?;
                let sel = self.read_op(i, 1, 2)? as u16;
                match self.lar_lsl(sel, i.mnemonic() == Lar)? {
                    Some(v) => {
                        self.write_gpr(i.op0_register(), v);
                        flags::set_flag(&mut self.s, ZF, true);
                    }
                    None => flags::set_flag(&mut self.s, ZF, false),
                }
            }
            Verr | Verw => {
                self.require_pmode()?;
                let sel = self.read_op(i, 0, 2)? as u16;
                let ok = self.verify(sel, i.mnemonic() == Verw)?;
                flags::set_flag(&mut self.s, ZF, ok);
            }
            Invd | Wbinvd => {
                if self.v86() {
                    return Err(Fault::Gp(0));
                }
                self.require_cpl0()?;
            }
            Invlpg => {
                if self.v86() {
                    return Err(Fault::Gp(0));
                }
                self.require_cpl0()?;
                let (seg, off) = self.ea(i);
                let lin = self.s.seg[seg].base.wrapping_add(off);
                self.mmu.invalidate_page(lin);
            }
            Cpuid => {
                let r = cpuid::cpuid(self.s.regs[EAX]);
                self.s.regs[EAX] = r[0];
                self.s.regs[jit::abi::EBX] = r[1];
                self.s.regs[ECX] = r[2];
                self.s.regs[EDX] = r[3];
            }
            Rdtsc => {
                if self.s.cr4 & cr4::TSD != 0 && self.protected() && self.s.cpl != 0 {
                    return Err(Fault::Gp(0));
                }
                self.s.regs[EAX] = self.s.tsc as u32;
                self.s.regs[EDX] = (self.s.tsc >> 32) as u32;
            }
            Rdpmc => {
                if self.s.cr4 & (1 << 8) == 0 && self.protected() && self.s.cpl != 0 {
                    return Err(Fault::Gp(0));
                }
                if self.s.regs[ECX] > 1 {
                    return Err(Fault::Gp(0));
                }
                // No performance events are counted.
                self.s.regs[EAX] = 0;
                self.s.regs[EDX] = 0;
            }
            Rdmsr => {
                self.require_cpl0()?;
                let v = self.read_msr(self.s.regs[ECX])?;
                self.s.regs[EAX] = v as u32;
                self.s.regs[EDX] = (v >> 32) as u32;
            }
            Wrmsr => {
                self.require_cpl0()?;
                let v = (self.s.regs[EDX] as u64) << 32 | self.s.regs[EAX] as u64;
                self.write_msr(self.s.regs[ECX], v)?;
            }
            Sysenter => self.sysenter()?,
            Sysexit => self.sysexit()?,
            Wait => self.fwait()?,
            _ if super::fpu::is_x87(i) => self.x87(i)?,
            _ if super::fpu::is_mmx(i) => self.mmx(i)?,
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }

    fn port_operand(&self, i: &Instruction, n: u32) -> u16 {
        match i.op_kind(n) {
            OpKind::Register => self.s.regs[EDX] as u16,
            _ => i.immediate8() as u16,
        }
    }

    fn load_ldt(&mut self, sel: u16) -> Res<()> {
        if sel & !3 == 0 {
            self.s.ldtr = Segment {
                selector: sel,
                ..Default::default()
            };
            return Ok(());
        }
        let e = sel & 0xfffc;
        if sel & 4 != 0 {
            return Err(Fault::Gp(e));
        }
        let d = self.read_desc(sel, Fault::Gp)?;
        if d.is_seg() || d.systype() != systype::LDT {
            return Err(Fault::Gp(e));
        }
        if !d.present() {
            return Err(Fault::Np(e));
        }
        self.s.ldtr = d.cache(sel);
        Ok(())
    }

    fn load_tr(&mut self, sel: u16) -> Res<()> {
        if sel & !3 == 0 {
            return Err(Fault::Gp(0));
        }
        let e = sel & 0xfffc;
        if sel & 4 != 0 {
            return Err(Fault::Gp(e));
        }
        let d = self.read_desc(sel, Fault::Gp)?;
        if d.is_seg() || !matches!(d.systype(), systype::TSS16_AVAIL | systype::TSS32_AVAIL) {
            return Err(Fault::Gp(e));
        }
        if !d.present() {
            return Err(Fault::Np(e));
        }
        let hi = d.hi | (2 << 8);
        self.write_desc_hi(sel, hi)?;
        self.s.tr = super::seg::Desc { lo: d.lo, hi }.cache(sel);
        Ok(())
    }

    /// LAR/LSL: `Some(value)` when the descriptor is visible at CPL/RPL and of a type the
    /// instruction accepts.
    fn lar_lsl(&mut self, sel: u16, lar: bool) -> Res<Option<u32>> {
        if sel & !3 == 0 {
            return Ok(None);
        }
        let d = match self.read_desc(sel, Fault::Gp) {
            Ok(d) => d,
            Err(Fault::Gp(_)) => return Ok(None),
            Err(f) => return Err(f),
        };
        let ok_type = if d.is_seg() {
            true
        } else {
            match d.systype() {
                1 | 2 | 3 | 9 | 11 => true,
                4 | 5 | 12 => lar,
                _ => false,
            }
        };
        if !ok_type {
            return Ok(None);
        }
        let rpl = (sel & 3) as u32;
        if !d.conforming() && (d.dpl() < self.s.cpl || d.dpl() < rpl) {
            return Ok(None);
        }
        Ok(Some(if lar { d.hi & 0x00f0_ff00 } else { d.limit() }))
    }

    /// VERR/VERW: readable/writable from CPL and RPL.
    fn verify(&mut self, sel: u16, write: bool) -> Res<bool> {
        if sel & !3 == 0 {
            return Ok(false);
        }
        let d = match self.read_desc(sel, Fault::Gp) {
            Ok(d) => d,
            Err(Fault::Gp(_)) => return Ok(false),
            Err(f) => return Err(f),
        };
        if !d.is_seg() {
            return Ok(false);
        }
        let rpl = (sel & 3) as u32;
        if !d.conforming() && (d.dpl() < self.s.cpl || d.dpl() < rpl) {
            return Ok(false);
        }
        Ok(if write {
            !d.is_code() && d.rw()
        } else {
            !d.is_code() || d.rw()
        })
    }

    /// MOV to CR0 with its consistency checks (SDM Vol. 3A §2.5, MOV CRn #GP cases).
    pub(crate) fn write_cr0(&mut self, v: u32) -> Res<()> {
        if v & cr0::PG != 0 && v & cr0::PE == 0 {
            return Err(Fault::Gp(0));
        }
        if v & cr0::NW != 0 && v & cr0::CD == 0 {
            return Err(Fault::Gp(0));
        }
        let keep = cr0::PE
            | cr0::MP
            | cr0::EM
            | cr0::TS
            | cr0::NE
            | cr0::WP
            | cr0::AM
            | cr0::NW
            | cr0::CD
            | cr0::PG;
        let was_pe = self.s.cr0 & cr0::PE != 0;
        self.s.cr0 = (v & keep) | cr0::ET;
        if was_pe && self.s.cr0 & cr0::PE == 0 {
            self.s.cpl = 0;
        }
        self.sync_paging();
        Ok(())
    }

    pub(super) fn mov_to_ctrl(&mut self, i: &Instruction) -> Res<()> {
        if self.v86() {
            return Err(Fault::Gp(0));
        }
        let r = i.op0_register();
        let v = self.read_gpr(i.op1_register());
        if r.is_dr() {
            let n = self.dr_index(r.number())?;
            self.require_cpl0()?;
            self.s.dr[n] = match n {
                6 => (v & 0x0000_e00f) | 0xffff_0ff0,
                7 => (v & 0xffff_2bff) | 0x400,
                _ => v,
            };
            self.update_debug();
            return Ok(());
        }
        if !matches!(r.number(), 0 | 2 | 3 | 4) {
            return Err(Fault::Ud);
        }
        self.require_cpl0()?;
        match r.number() {
            0 => self.write_cr0(v)?,
            2 => self.s.cr2 = v,
            3 => {
                self.s.cr3 = v & 0xffff_f018;
                self.mmu.write_cr3(self.s.cr3);
            }
            _ => {
                if v & !cr4::VALID != 0 {
                    return Err(Fault::Gp(0));
                }
                self.s.cr4 = v;
                self.sync_paging();
            }
        }
        Ok(())
    }

    pub(super) fn mov_from_ctrl(&mut self, i: &Instruction) -> Res<()> {
        if self.v86() {
            return Err(Fault::Gp(0));
        }
        let r = i.op1_register();
        let v = if r.is_dr() {
            let n = self.dr_index(r.number())?;
            self.require_cpl0()?;
            self.s.dr[n]
        } else {
            if !matches!(r.number(), 0 | 2 | 3 | 4) {
                return Err(Fault::Ud);
            }
            self.require_cpl0()?;
            match r.number() {
                0 => self.s.cr0,
                2 => self.s.cr2,
                3 => self.s.cr3,
                _ => self.s.cr4,
            }
        };
        self.write_gpr(i.op0_register(), v);
        Ok(())
    }

    /// DR4/DR5 alias DR6/DR7 unless CR4.DE is set, when they are #UD.
    fn dr_index(&self, n: usize) -> Res<usize> {
        match n {
            4 | 5 if self.s.cr4 & cr4::DE != 0 => Err(Fault::Ud),
            4 | 5 => Ok(n + 2),
            0..=7 => Ok(n),
            _ => Err(Fault::Ud),
        }
    }

    fn read_msr(&mut self, n: u32) -> Res<u64> {
        Ok(match n {
            msr::TSC => self.s.tsc,
            msr::EBL_CR_POWERON | msr::BIOS_SIGN_ID => 0,
            msr::SYSENTER_CS => self.s.sysenter_cs as u64,
            msr::SYSENTER_ESP => self.s.sysenter_esp as u64,
            msr::SYSENTER_EIP => self.s.sysenter_eip as u64,
            _ => {
                tracing::debug!(msr = n, "RDMSR of an unimplemented MSR");
                return Err(Fault::Gp(0));
            }
        })
    }

    fn write_msr(&mut self, n: u32, v: u64) -> Res<()> {
        match n {
            msr::TSC => self.s.tsc = v,
            msr::BIOS_SIGN_ID => {}
            msr::SYSENTER_CS => self.s.sysenter_cs = v as u32 & 0xffff,
            msr::SYSENTER_ESP => self.s.sysenter_esp = v as u32,
            msr::SYSENTER_EIP => self.s.sysenter_eip = v as u32,
            _ => {
                tracing::debug!(msr = n, "WRMSR of an unimplemented MSR");
                return Err(Fault::Gp(0));
            }
        }
        Ok(())
    }

    /// Flat 4 GiB segment caches that SYSENTER/SYSEXIT load without reading descriptors.
    fn flat(sel: u16, code: bool, dpl: u16) -> Segment {
        let ty = if code { 0x0b } else { 0x03 };
        Segment {
            selector: sel,
            attr: ty | attr::S | (dpl << attr::DPL_SHIFT) | attr::P | attr::DB | attr::G,
            base: 0,
            limit: 0xffff_ffff,
        }
    }

    fn sysenter(&mut self) -> Res<()> {
        if !self.protected() || self.s.sysenter_cs & 0xfffc == 0 {
            return Err(Fault::Gp(0));
        }
        let cs = (self.s.sysenter_cs & 0xfffc) as u16;
        flags::set_masked(&mut self.s, VM | IF | RF, 0);
        self.s.seg[CS] = Self::flat(cs, true, 0);
        self.s.seg[SS] = Self::flat(cs.wrapping_add(8), false, 0);
        self.s.cpl = 0;
        self.s.regs[ESP] = self.s.sysenter_esp;
        self.next_eip = self.s.sysenter_eip;
        Ok(())
    }

    fn sysexit(&mut self) -> Res<()> {
        if !self.pmode() || self.s.cpl != 0 || self.s.sysenter_cs & 0xfffc == 0 {
            return Err(Fault::Gp(0));
        }
        let base = self.s.sysenter_cs as u16;
        self.s.seg[CS] = Self::flat(base.wrapping_add(16) | 3, true, 3);
        self.s.seg[SS] = Self::flat(base.wrapping_add(24) | 3, false, 3);
        self.s.cpl = 3;
        self.s.regs[ESP] = self.s.regs[ECX];
        self.next_eip = self.s.regs[EDX];
        Ok(())
    }
}
