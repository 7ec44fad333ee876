//! x87 state save and restore: FSTENV/FLDENV and FSAVE/FRSTOR in their four layouts
//! (SDM Vol. 1 §8.1.10, Figures 8-9 to 8-12: 32- or 16-bit operand size × protected, or
//! real/virtual-8086 mode), and FXSAVE/FXRSTOR (SDM Vol. 2 FXSAVE, Table 3-53: the
//! 512-byte image with the abridged tag byte). Also the byte-wise memory access the x87
//! operands need (10-byte values, whole images), probed before any byte is written.
//!
//! Layout notes, checked against the host's FNSTENV: the reserved upper halves of the
//! 32-bit FCW/FSW/FTW/FDS slots are stored as FFFFh; the 32-bit protected layout keeps
//! FOP in bits 16-26 of the FCS dword. The real-mode layouts store the pointers as 20-bit
//! (32-bit layout: 32-bit) linear addresses, CS·16 + FIP, with FOP beside them; loading
//! them leaves FCS/FDS zero and the linear address in FIP/FDP.

use iced_x86::Instruction;

use super::x87_ops::{f80_bytes, f80_from};
use crate::cpu::fault::{Fault, Res};
use crate::cpu::Cpu;

/// FXSAVE/FXRSTOR image offsets (SDM Vol. 2 FXSAVE, Table 3-53).
mod fx {
    pub const FCW: usize = 0;
    pub const FSW: usize = 2;
    pub const FTW: usize = 4;
    pub const FOP: usize = 6;
    pub const FIP: usize = 8;
    pub const FCS: usize = 12;
    pub const FDP: usize = 16;
    pub const FDS: usize = 20;
    pub const MXCSR: usize = 24;
    pub const MXCSR_MASK: usize = 28;
    pub const ST0: usize = 32;
    /// XMM0-7 (written as zeros: no SSE here) end at 288; the rest is not written.
    pub const END: usize = 288;
    pub const SIZE: u32 = 512;
}

/// MXCSR's power-on value, the only one this SSE-less CPU reports.
const MXCSR_RESET: u32 = 0x1f80;
/// MXCSR bits that may be set (the default MXCSR_MASK).
const MXCSR_VALID: u32 = 0xffbf;

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Cpu {
    /// Reads `buf.len()` bytes at seg:off (segment check over the whole operand first).
    pub(super) fn x87_read(&mut self, seg: usize, off: u32, buf: &mut [u8]) -> Res<()> {
        let lin = self.lin(seg, off, buf.len() as u32, false)?;
        let mut k = 0;
        while k < buf.len() {
            let sz = match buf.len() - k {
                4.. => 4,
                2 | 3 => 2,
                _ => 1,
            };
            let v = self.read_lin(lin.wrapping_add(k as u32), sz as u32)?;
            buf[k..k + sz].copy_from_slice(&v.to_le_bytes()[..sz]);
            k += sz;
        }
        Ok(())
    }

    /// Writes `data` at seg:off; every page is probed first, so a fault writes nothing.
    pub(super) fn x87_write(&mut self, seg: usize, off: u32, data: &[u8]) -> Res<()> {
        let lin = self.lin(seg, off, data.len() as u32, true)?;
        let user = self.user();
        self.mmu.probe_write(lin, data.len() as u32, user)?;
        let mut k = 0;
        while k < data.len() {
            let sz = match data.len() - k {
                4.. => 4,
                2 | 3 => 2,
                _ => 1,
            };
            let mut w = [0u8; 4];
            w[..sz].copy_from_slice(&data[k..k + sz]);
            self.write_lin(lin.wrapping_add(k as u32), sz as u32, u32::from_le_bytes(w))?;
            k += sz;
        }
        Ok(())
    }

    /// The FSTENV image (14 or 28 bytes) for the current mode.
    fn env_image(&self, op32: bool) -> Vec<u8> {
        let f = &self.s.fpu;
        let ftw = self.fp_full_tag_word();
        let pm = self.pmode();
        let fop = f.fop & 0x7ff;
        // Real and V86 mode: 20-bit (32-bit layout: 32-bit) linear pointers.
        let fip_lin = ((f.fcs as u32) << 4).wrapping_add(f.fip);
        let fdp_lin = ((f.fds as u32) << 4).wrapping_add(f.fdp);
        let mut b = vec![0u8; if op32 { 28 } else { 14 }];
        if op32 {
            put32(&mut b, 0, 0xffff_0000 | f.fcw as u32);
            put32(&mut b, 4, 0xffff_0000 | f.fsw as u32);
            put32(&mut b, 8, 0xffff_0000 | ftw as u32);
            if pm {
                put32(&mut b, 12, f.fip);
                put32(&mut b, 16, f.fcs as u32 | (fop as u32) << 16);
                put32(&mut b, 20, f.fdp);
                put32(&mut b, 24, 0xffff_0000 | f.fds as u32);
            } else {
                put32(&mut b, 12, 0xffff_0000 | (fip_lin & 0xffff));
                put32(&mut b, 16, ((fip_lin & 0xffff_0000) >> 4) | fop as u32);
                put32(&mut b, 20, 0xffff_0000 | (fdp_lin & 0xffff));
                put32(&mut b, 24, (fdp_lin & 0xffff_0000) >> 4);
            }
        } else {
            put16(&mut b, 0, f.fcw);
            put16(&mut b, 2, f.fsw);
            put16(&mut b, 4, ftw);
            if pm {
                put16(&mut b, 6, f.fip as u16);
                put16(&mut b, 8, f.fcs);
                put16(&mut b, 10, f.fdp as u16);
                put16(&mut b, 12, f.fds);
            } else {
                put16(&mut b, 6, fip_lin as u16);
                put16(&mut b, 8, (((fip_lin >> 16) & 0xf) << 12) as u16 | fop);
                put16(&mut b, 10, fdp_lin as u16);
                put16(&mut b, 12, (((fdp_lin >> 16) & 0xf) << 12) as u16);
            }
        }
        b
    }

    /// Loads an FLDENV image; returns its tag word, which the caller applies once the
    /// registers are in place (FRSTOR).
    fn load_env(&mut self, b: &[u8], op32: bool) -> u16 {
        let pm = self.pmode();
        let f = &mut self.s.fpu;
        let ftw;
        if op32 {
            f.fcw = super::loaded_fcw(get16(b, 0));
            f.fsw = get16(b, 4);
            ftw = get16(b, 8);
            if pm {
                f.fip = get32(b, 12);
                f.fcs = get16(b, 16);
                f.fop = (get32(b, 16) >> 16) as u16 & 0x7ff;
                f.fdp = get32(b, 20);
                f.fds = get16(b, 24);
            } else {
                let (w3, w4) = (get32(b, 12), get32(b, 16));
                f.fip = (w3 & 0xffff) | ((w4 << 4) & 0xffff_0000);
                f.fop = w4 as u16 & 0x7ff;
                f.fcs = 0;
                let (w5, w6) = (get32(b, 20), get32(b, 24));
                f.fdp = (w5 & 0xffff) | ((w6 << 4) & 0xffff_0000);
                f.fds = 0;
            }
        } else {
            f.fcw = super::loaded_fcw(get16(b, 0));
            f.fsw = get16(b, 2);
            ftw = get16(b, 4);
            if pm {
                f.fip = get16(b, 6) as u32;
                f.fcs = get16(b, 8);
                f.fdp = get16(b, 10) as u32;
                f.fds = get16(b, 12);
            } else {
                let w4 = get16(b, 8);
                f.fip = get16(b, 6) as u32 | ((w4 as u32 >> 12) << 16);
                f.fop = w4 & 0x7ff;
                f.fcs = 0;
                f.fdp = get16(b, 10) as u32 | ((get16(b, 12) as u32 >> 12) << 16);
                f.fds = 0;
            }
        }
        ftw
    }

    /// FSTENV/FNSTENV: store the environment, then mask every exception.
    pub(super) fn fstenv(&mut self, i: &Instruction, op32: bool) -> Res<()> {
        let (seg, off) = self.ea(i);
        let img = self.env_image(op32);
        self.x87_write(seg, off, &img)?;
        self.s.fpu.fcw |= 0x3f;
        Ok(())
    }

    /// FLDENV.
    pub(super) fn fldenv(&mut self, i: &Instruction, op32: bool) -> Res<()> {
        let (seg, off) = self.ea(i);
        let mut b = [0u8; 28];
        let n = if op32 { 28 } else { 14 };
        self.x87_read(seg, off, &mut b[..n])?;
        let ftw = self.load_env(&b[..n], op32);
        self.fp_load_tag_word(ftw);
        self.fp_recompute_es();
        Ok(())
    }

    /// FSAVE/FNSAVE: the environment, ST(0)..ST(7) as 10-byte values, then FNINIT.
    pub(super) fn fsave(&mut self, i: &Instruction, op32: bool) -> Res<()> {
        let (seg, off) = self.ea(i);
        let mut img = self.env_image(op32);
        for k in 0..8 {
            img.extend_from_slice(&f80_bytes(self.fp_st(k)));
        }
        self.x87_write(seg, off, &img)?;
        self.fninit();
        Ok(())
    }

    /// FRSTOR: the environment (with TOP), then the registers from ST(0) on.
    pub(super) fn frstor(&mut self, i: &Instruction, op32: bool) -> Res<()> {
        let (seg, off) = self.ea(i);
        let env = if op32 { 28 } else { 14 };
        let mut b = [0u8; 108];
        self.x87_read(seg, off, &mut b[..env + 80])?;
        let ftw = self.load_env(&b[..env], op32);
        for k in 0..8 {
            let p = self.fp_phys(k);
            self.s.fpu.regs[p] = f80_from(&b[env + 10 * k..]);
        }
        self.fp_load_tag_word(ftw);
        self.fp_recompute_es();
        Ok(())
    }

    /// The FXSAVE/FXRSTOR operand: 512 bytes within the segment, 16-byte aligned
    /// (#GP(0) otherwise).
    fn fx_operand(&mut self, i: &Instruction, write: bool) -> Res<(usize, u32)> {
        let (seg, off) = self.ea(i);
        if self.s.seg[seg].base.wrapping_add(off) & 15 != 0 {
            return Err(Fault::Gp(0));
        }
        self.lin(seg, off, fx::SIZE, write)?;
        Ok((seg, off))
    }

    /// FXSAVE: the x87 state with the abridged tag byte (bit p set: R(p) not empty),
    /// MXCSR 1F80h and zeroed XMM registers; the state itself is unchanged.
    pub(super) fn fxsave(&mut self, i: &Instruction) -> Res<()> {
        let (seg, off) = self.fx_operand(i, true)?;
        let f = &self.s.fpu;
        let mut b = [0u8; fx::END];
        put16(&mut b, fx::FCW, f.fcw);
        put16(&mut b, fx::FSW, f.fsw);
        b[fx::FTW] = (0..8).fold(0u8, |t, p| {
            t | (((f.ftw >> (2 * p)) & 3 != super::tag::EMPTY) as u8) << p
        });
        put16(&mut b, fx::FOP, f.fop & 0x7ff);
        put32(&mut b, fx::FIP, f.fip);
        put16(&mut b, fx::FCS, f.fcs);
        put32(&mut b, fx::FDP, f.fdp);
        put16(&mut b, fx::FDS, f.fds);
        put32(&mut b, fx::MXCSR, MXCSR_RESET);
        put32(&mut b, fx::MXCSR_MASK, 0);
        for k in 0..8 {
            let at = fx::ST0 + 16 * k;
            b[at..at + 10].copy_from_slice(&f80_bytes(self.fp_st(k)));
        }
        self.x87_write(seg, off, &b)
    }

    /// FXRSTOR: MXCSR with reserved bits set is #GP(0); otherwise the x87 state is
    /// loaded (non-empty registers re-tagged from their contents).
    pub(super) fn fxrstor(&mut self, i: &Instruction) -> Res<()> {
        let (seg, off) = self.fx_operand(i, false)?;
        let mut b = [0u8; fx::ST0 + 128];
        self.x87_read(seg, off, &mut b)?;
        if get32(&b, fx::MXCSR) & !MXCSR_VALID != 0 {
            return Err(Fault::Gp(0));
        }
        let f = &mut self.s.fpu;
        f.fcw = super::loaded_fcw(get16(&b, fx::FCW));
        f.fsw = get16(&b, fx::FSW);
        f.fop = get16(&b, fx::FOP) & 0x7ff;
        f.fip = get32(&b, fx::FIP);
        f.fcs = get16(&b, fx::FCS);
        f.fdp = get32(&b, fx::FDP);
        f.fds = get16(&b, fx::FDS);
        for k in 0..8 {
            let p = self.fp_phys(k);
            self.s.fpu.regs[p] = f80_from(&b[fx::ST0 + 16 * k..]);
        }
        let abridged = b[fx::FTW];
        let ftw = (0..8).fold(0u16, |w, p| {
            let t = if abridged >> p & 1 != 0 {
                0
            } else {
                super::tag::EMPTY
            };
            w | t << (2 * p)
        });
        self.fp_load_tag_word(ftw);
        self.fp_recompute_es();
        Ok(())
    }
}
