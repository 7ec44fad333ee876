//! The MMX instructions of the Pentium II (Intel SDM Vol. 1 ch. 9, "Programming with
//! Intel MMX Technology"; Vol. 2, the instruction reference for each mnemonic; Vol. 3A
//! §12.2, "The MMX state and MMX register aliasing").
//!
//! MMn is the 64-bit significand of the physical x87 register Rn; the mapping is fixed
//! and ignores TOP. Every MMX instruction, EMMS included, sets TOP to 0 (Vol. 3A §12.2:
//! "each time an MMX instruction is executed, the TOS value is set to 000B"; a host
//! check on the reference x86-64 agrees for EMMS). EMMS tags all registers empty
//! (FTW FFFFh); every other MMX instruction tags them all valid (00B). A write to MMn
//! also sets bits 64-79 of Rn (sign and exponent) to all ones. No other x87 state —
//! FCW, the other FSW bits, FIP/FDP/FOP — is touched.
//!
//! Before executing, an MMX instruction raises #UD if CR0.EM=1, #NM if CR0.TS=1, then
//! #MF if an unmasked x87 exception is pending (FSW.ES) and CR0.NE=1. With NE=0 the
//! pending error is left to the legacy FERR#/IRQ13 path of the x87 layer and the MMX
//! instruction runs (as with IGNNE# asserted). Faults leave every register and memory
//! byte unchanged: 64-bit stores are checked for the whole quadword before the first
//! dword is written, and the x87 side effects are applied only once the instruction
//! has succeeded.

use iced_x86::{Instruction, Mnemonic, OpKind, Register};

use crate::cpu::fault::{Fault, Res};
use crate::cpu::{cr0, Cpu};

/// FSW: TOP (bits 11-13) and ES (bit 7).
const FSW_TOP: u16 = 0x3800;
const FSW_ES: u16 = 0x0080;
/// Bits 64-79 of a register written by MMX.
const MMX_SIGN_EXP: u16 = 0xffff;

impl Cpu {
    pub(in crate::cpu) fn mmx(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        let m = i.mnemonic();
        // Instructions with MM operands that a Pentium II does not have (SSE's integer
        // additions, SSE2's PADDQ mm, CVTPI2PS ...) are invalid opcodes.
        if m != Emms && m != Movd && m != Movq && alu(m, 0, 0).is_none() {
            return Err(Fault::Ud);
        }
        self.mmx_entry()?;
        match m {
            Emms => {
                let f = &mut self.s.fpu;
                f.ftw = 0xffff;
                f.fsw &= !FSW_TOP;
                return Ok(());
            }
            Movd | Movq => self.mmx_move(i)?,
            _ => {
                let d = mm_index(i.op0_register()).ok_or(Fault::Ud)?;
                let b = match i.op_kind(1) {
                    OpKind::Register => {
                        let r = mm_index(i.op1_register()).ok_or(Fault::Ud)?;
                        self.s.fpu.regs[r].signif
                    }
                    OpKind::Immediate8 => i.immediate8() as u64,
                    _ => {
                        let (seg, off) = self.ea(i);
                        self.mmx_read(seg, off, i.memory_size().size() as u32)?
                    }
                };
                let a = self.s.fpu.regs[d].signif;
                let r = alu(m, a, b).ok_or(Fault::Ud)?;
                self.write_mm(d, r);
            }
        }
        self.mmx_commit();
        Ok(())
    }

    /// The checks every MMX instruction makes before it starts (SDM Vol. 2, the
    /// "Exceptions" of each MMX instruction; Vol. 3A Table 12-1).
    fn mmx_entry(&self) -> Res<()> {
        let cr = self.s.cr0;
        if cr & cr0::EM != 0 {
            return Err(Fault::Ud);
        }
        if cr & cr0::TS != 0 {
            return Err(Fault::Nm);
        }
        if self.s.fpu.fsw & FSW_ES != 0 && cr & cr0::NE != 0 {
            return Err(Fault::Mf);
        }
        Ok(())
    }

    /// The x87 side effects of a completed MMX instruction other than EMMS.
    fn mmx_commit(&mut self) {
        let f = &mut self.s.fpu;
        f.ftw = 0;
        f.fsw &= !FSW_TOP;
    }

    fn write_mm(&mut self, n: usize, v: u64) {
        let r = &mut self.s.fpu.regs[n];
        r.signif = v;
        r.sign_exp = MMX_SIGN_EXP;
    }

    /// MOVD and MOVQ in all their forms. MOVD to MMn zero-extends; MOVD from MMn takes
    /// its low dword.
    fn mmx_move(&mut self, i: &Instruction) -> Res<()> {
        let quad = i.mnemonic() == Mnemonic::Movq;
        let size = if quad { 8 } else { 4 };
        if let Some(d) = reg_mm(i, 0) {
            let v = match i.op_kind(1) {
                OpKind::Register => {
                    let r = i.op1_register();
                    match mm_index(r) {
                        Some(s) => self.s.fpu.regs[s].signif,
                        None if r.is_gpr32() && !quad => self.read_gpr(r) as u64,
                        None => return Err(Fault::Ud),
                    }
                }
                _ => {
                    let (seg, off) = self.ea(i);
                    self.mmx_read(seg, off, size)?
                }
            };
            self.write_mm(d, v);
        } else {
            let s = reg_mm(i, 1).ok_or(Fault::Ud)?;
            let v = self.s.fpu.regs[s].signif;
            match i.op_kind(0) {
                OpKind::Register => {
                    let r = i.op0_register();
                    if quad || !r.is_gpr32() {
                        return Err(Fault::Ud);
                    }
                    self.write_gpr(r, v as u32);
                }
                _ => {
                    let (seg, off) = self.ea(i);
                    self.mmx_write(seg, off, size, v)?;
                }
            }
        }
        Ok(())
    }

    /// Reads 4 (zero-extended) or 8 bytes. The register is written only after both
    /// dwords have been read, so a fault on either leaves it unchanged.
    fn mmx_read(&mut self, seg: usize, off: u32, size: u32) -> Res<u64> {
        if size == 8 {
            self.lin(seg, off, 8, false)?;
            let lo = self.read_mem(seg, off, 4)?;
            let hi = self.read_mem(seg, off.wrapping_add(4), 4)?;
            Ok((hi as u64) << 32 | lo as u64)
        } else {
            self.read_mem(seg, off, 4).map(u64::from)
        }
    }

    /// Writes 4 or 8 bytes; an 8-byte store is checked whole (segment and pages) first.
    fn mmx_write(&mut self, seg: usize, off: u32, size: u32, v: u64) -> Res<()> {
        if size == 8 {
            let lin = self.lin(seg, off, 8, true)?;
            self.mmu.probe_write(lin, 8, self.s.cpl == 3)?;
            self.write_mem(seg, off, 4, v as u32)?;
            self.write_mem(seg, off.wrapping_add(4), 4, (v >> 32) as u32)
        } else {
            self.write_mem(seg, off, 4, v as u32)
        }
    }
}

/// The MMX register number of `r`, if it is one.
fn mm_index(r: Register) -> Option<usize> {
    r.is_mm().then(|| r.number() & 7)
}

/// The MMX register number of operand `n`, if that operand is an MM register.
fn reg_mm(i: &Instruction, n: u32) -> Option<usize> {
    if i.op_kind(n) == OpKind::Register {
        mm_index(i.op_register(n))
    } else {
        None
    }
}

// ---- the arithmetic, on packed 64-bit values ----

fn bytes(x: u64) -> [u8; 8] {
    x.to_le_bytes()
}

fn words(x: u64) -> [u16; 4] {
    [
        x as u16,
        (x >> 16) as u16,
        (x >> 32) as u16,
        (x >> 48) as u16,
    ]
}

fn dwords(x: u64) -> [u32; 2] {
    [x as u32, (x >> 32) as u32]
}

fn from_words(w: [u16; 4]) -> u64 {
    w.iter().rev().fold(0, |acc, &x| acc << 16 | x as u64)
}

fn from_dwords(d: [u32; 2]) -> u64 {
    (d[1] as u64) << 32 | d[0] as u64
}

/// Applies `f` to each byte lane of `a` and `b`.
fn map8(a: u64, b: u64, f: impl Fn(u8, u8) -> u8) -> u64 {
    let (a, b) = (bytes(a), bytes(b));
    u64::from_le_bytes(std::array::from_fn(|k| f(a[k], b[k])))
}

fn map16(a: u64, b: u64, f: impl Fn(u16, u16) -> u16) -> u64 {
    let (a, b) = (words(a), words(b));
    from_words(std::array::from_fn(|k| f(a[k], b[k])))
}

fn map32(a: u64, b: u64, f: impl Fn(u32, u32) -> u32) -> u64 {
    let (a, b) = (dwords(a), dwords(b));
    from_dwords(std::array::from_fn(|k| f(a[k], b[k])))
}

/// All ones if true: the PCMPxx lane result.
fn mask<T: From<u8> + std::ops::Not<Output = T>>(c: bool) -> T {
    if c {
        !T::from(0)
    } else {
        T::from(0)
    }
}

fn sat_i8(x: i16) -> u8 {
    x.clamp(i8::MIN as i16, i8::MAX as i16) as i8 as u8
}

fn sat_u8(x: i16) -> u8 {
    x.clamp(0, u8::MAX as i16) as u8
}

fn sat_i16(x: i32) -> u16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16 as u16
}

/// Interleaves lanes of width `bits` from `a` and `b` starting at lane `from`: the
/// PUNPCKL (from 0) and PUNPCKH (from the middle) family.
fn unpack(a: u64, b: u64, bits: u32, from: u32) -> u64 {
    let lane = |x: u64, k: u32| (x >> (k * bits)) & (u64::MAX >> (64 - bits));
    let n = 64 / bits / 2;
    (0..n).fold(0, |acc, k| {
        acc | lane(a, from + k) << (2 * k * bits) | lane(b, from + k) << ((2 * k + 1) * bits)
    })
}

/// The result of the two-operand MMX instruction `m` on destination `a` and source
/// `b` (for the shifts, `b` is the count), or None if `m` is not one.
fn alu(m: Mnemonic, a: u64, b: u64) -> Option<u64> {
    use Mnemonic::*;
    // Shift counts: any value wider than the lane clears it (or fills it with sign bits).
    let c = b;
    Some(match m {
        Paddb => map8(a, b, u8::wrapping_add),
        Paddw => map16(a, b, u16::wrapping_add),
        Paddd => map32(a, b, u32::wrapping_add),
        Paddsb => map8(a, b, |x, y| (x as i8).saturating_add(y as i8) as u8),
        Paddsw => map16(a, b, |x, y| (x as i16).saturating_add(y as i16) as u16),
        Paddusb => map8(a, b, u8::saturating_add),
        Paddusw => map16(a, b, u16::saturating_add),
        Psubb => map8(a, b, u8::wrapping_sub),
        Psubw => map16(a, b, u16::wrapping_sub),
        Psubd => map32(a, b, u32::wrapping_sub),
        Psubsb => map8(a, b, |x, y| (x as i8).saturating_sub(y as i8) as u8),
        Psubsw => map16(a, b, |x, y| (x as i16).saturating_sub(y as i16) as u16),
        Psubusb => map8(a, b, u8::saturating_sub),
        Psubusw => map16(a, b, u16::saturating_sub),
        Pmulhw => map16(a, b, |x, y| {
            ((x as i16 as i32 * y as i16 as i32) >> 16) as u16
        }),
        Pmullw => map16(a, b, u16::wrapping_mul),
        Pmaddwd => {
            let (x, y) = (words(a), words(b));
            let p = |k: usize| x[k] as i16 as i32 * y[k] as i16 as i32;
            // 8000h*8000h + 8000h*8000h = 80000000h: the sum wraps, as on hardware.
            from_dwords([
                p(0).wrapping_add(p(1)) as u32,
                p(2).wrapping_add(p(3)) as u32,
            ])
        }
        Pcmpeqb => map8(a, b, |x, y| mask(x == y)),
        Pcmpeqw => map16(a, b, |x, y| mask(x == y)),
        Pcmpeqd => map32(a, b, |x, y| mask(x == y)),
        Pcmpgtb => map8(a, b, |x, y| mask(x as i8 > y as i8)),
        Pcmpgtw => map16(a, b, |x, y| mask(x as i16 > y as i16)),
        Pcmpgtd => map32(a, b, |x, y| mask(x as i32 > y as i32)),
        Pand => a & b,
        Pandn => !a & b,
        Por => a | b,
        Pxor => a ^ b,
        Packsswb => {
            let (x, y) = (words(a), words(b));
            let w: [u16; 8] = std::array::from_fn(|k| if k < 4 { x[k] } else { y[k - 4] });
            u64::from_le_bytes(w.map(|v| sat_i8(v as i16)))
        }
        Packuswb => {
            let (x, y) = (words(a), words(b));
            let w: [u16; 8] = std::array::from_fn(|k| if k < 4 { x[k] } else { y[k - 4] });
            u64::from_le_bytes(w.map(|v| sat_u8(v as i16)))
        }
        Packssdw => {
            let (x, y) = (dwords(a), dwords(b));
            from_words([x[0], x[1], y[0], y[1]].map(|v| sat_i16(v as i32)))
        }
        Punpcklbw => unpack(a, b, 8, 0),
        Punpcklwd => unpack(a, b, 16, 0),
        Punpckldq => unpack(a, b, 32, 0),
        Punpckhbw => unpack(a, b, 8, 4),
        Punpckhwd => unpack(a, b, 16, 2),
        Punpckhdq => unpack(a, b, 32, 1),
        Psllw => map16(a, 0, |x, _| if c > 15 { 0 } else { x << c }),
        Pslld => map32(a, 0, |x, _| if c > 31 { 0 } else { x << c }),
        Psllq => {
            if c > 63 {
                0
            } else {
                a << c
            }
        }
        Psrlw => map16(a, 0, |x, _| if c > 15 { 0 } else { x >> c }),
        Psrld => map32(a, 0, |x, _| if c > 31 { 0 } else { x >> c }),
        Psrlq => {
            if c > 63 {
                0
            } else {
                a >> c
            }
        }
        Psraw => map16(a, 0, |x, _| ((x as i16) >> c.min(15)) as u16),
        Psrad => map32(a, 0, |x, _| ((x as i32) >> c.min(31)) as u32),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::{Mmu, PhysMem};
    use devices::PortBus;
    use iced_x86::{Decoder, DecoderOptions};
    use jit::abi::{Segment, DS};

    /// Real mode with flat 4 GiB data segments (so 32-bit addressing reaches all RAM)
    /// and the power-on FPU state.
    fn cpu() -> Cpu {
        let mut cpu = Cpu::new(
            Mmu::new(PhysMem::new(1 << 20, &[]).unwrap()),
            PortBus::new(),
        );
        for s in [0, 2, 3, 4, 5] {
            cpu.s.seg[s] = Segment {
                selector: 0,
                attr: 0x93,
                base: 0,
                limit: 0xffff_ffff,
            };
        }
        cpu.s.cr0 = cr0::ET;
        cpu
    }

    /// Decodes `code` as one 32-bit instruction and executes it through the
    /// interpreter's dispatch.
    fn run(cpu: &mut Cpu, code: &[u8]) -> Res<()> {
        let i = Decoder::new(32, code, DecoderOptions::NONE).decode();
        assert!(!i.is_invalid(), "{code:02x?} decodes");
        assert_eq!(i.len(), code.len(), "{code:02x?} is one instruction");
        cpu.execute(&i)
    }

    fn mm(cpu: &Cpu, n: usize) -> u64 {
        cpu.s.fpu.regs[n].signif
    }

    fn set_mm(cpu: &mut Cpu, n: usize, v: u64) {
        cpu.s.fpu.regs[n].signif = v;
    }

    fn top(cpu: &Cpu) -> u16 {
        (cpu.s.fpu.fsw >> 11) & 7
    }

    // Inputs of the two-operand table: MM0 = A[k], MM1 = B[k].
    const A: [u64; 10] = [
        0x0000000000000000,
        0xffffffffffffffff,
        0x7f80017fff00fe81,
        0x7fff8000ffff0001,
        0x7fffffff80000000,
        0x0123456789abcdef,
        0x8000800080008000,
        0x80007fff00010002,
        0x3c5a9e07d1f42b68,
        0xe3b20c715f9a84d6,
    ];
    const B: [u64; 10] = [
        0x0000000000000000,
        0x0101010101010101,
        0x80817f7e01ff0080,
        0x80007fff0001ffff,
        0x8000000080000000,
        0xfedcba9876543210,
        0x8000800080008000,
        0x7fff8000fffe0003,
        0x91c37a2e06bdf459,
        0x1d8fe640a35c7b02,
    ];
    /// Shift counts of the `mm, mm` table (then `CBIG`), applied to `SHIFTED`.
    const C: [u64; 10] = [0, 1, 7, 15, 16, 31, 32, 63, 64, 255];
    const CBIG: [u64; 2] = [0x1_0000_0001, 0x8000_0000_0000_0000];
    const SHIFTED: u64 = 0x84217f3cc0de0180;
    /// imm8 counts of the immediate-shift table.
    const IMM: [u8; 9] = [0, 1, 15, 16, 31, 32, 63, 64, 255];

    // Expected results: computed by the host CPU's own MMX unit (AMD EPYC, inline asm in
    // a scratch program running `op mm0, mm1` / `op mm0, imm8` on these inputs).
    const TWO_OPERAND: [(&str, u8, [u64; 10]); 36] = [
        (
            "punpcklbw",
            0x60,
            [
                0x0000000000000000,
                0x01ff01ff01ff01ff,
                0x01ffff0000fe8081,
                0x00ff01ffff00ff01,
                0x8080000000000000,
                0x768954ab32cd10ef,
                0x8080000080800000,
                0xff00fe0100000302,
                0x06d1bdf4f42b5968,
                0xa35f5c9a7b8402d6,
            ],
        ),
        (
            "punpcklwd",
            0x61,
            [
                0x0000000000000000,
                0x0101ffff0101ffff,
                0x01ffff000080fe81,
                0x0001ffffffff0001,
                0x8000800000000000,
                0x765489ab3210cdef,
                0x8000800080008000,
                0xfffe000100030002,
                0x06bdd1f4f4592b68,
                0xa35c5f9a7b0284d6,
            ],
        ),
        (
            "punpckldq",
            0x62,
            [
                0x0000000000000000,
                0x01010101ffffffff,
                0x01ff0080ff00fe81,
                0x0001ffffffff0001,
                0x8000000080000000,
                0x7654321089abcdef,
                0x8000800080008000,
                0xfffe000300010002,
                0x06bdf459d1f42b68,
                0xa35c7b025f9a84d6,
            ],
        ),
        (
            "packsswb",
            0x63,
            [
                0x0000000000000000,
                0x7f7f7f7fffffffff,
                0x807f7f7f7f7f8080,
                0x807f01ff7f80ff01,
                0x800080007fff8000,
                0x80807f7f7f7f8080,
                0x8080808080808080,
                0x7f80fe03807f0102,
                0x807f7f807f80807f,
                0x7f80807f807f7f80,
            ],
        ),
        (
            "pcmpgtb",
            0x64,
            [
                0x0000000000000000,
                0x0000000000000000,
                0xff0000ff00ff00ff,
                0xff0000ff0000ffff,
                0xff00000000000000,
                0xffffffff00000000,
                0x0000000000000000,
                0x00ffff00ffff0000,
                0xffff000000ffffff,
                0x00ffffffff000000,
            ],
        ),
        (
            "pcmpgtw",
            0x65,
            [
                0x0000000000000000,
                0x0000000000000000,
                0xffff000000000000,
                0xffff00000000ffff,
                0xffff000000000000,
                0xffffffff00000000,
                0x0000000000000000,
                0x0000ffffffff0000,
                0xffff00000000ffff,
                0x0000ffffffff0000,
            ],
        ),
        (
            "pcmpgtd",
            0x66,
            [
                0x0000000000000000,
                0x0000000000000000,
                0xffffffff00000000,
                0xffffffff00000000,
                0xffffffff00000000,
                0xffffffff00000000,
                0x0000000000000000,
                0x00000000ffffffff,
                0xffffffff00000000,
                0x00000000ffffffff,
            ],
        ),
        (
            "packuswb",
            0x67,
            [
                0x0000000000000000,
                0xffffffff00000000,
                0x00ffff80ffff0000,
                0x00ff0100ff000001,
                0x00000000ff000000,
                0x0000ffffffff0000,
                0x0000000000000000,
                0xff00000300ff0102,
                0x00ffff00ff0000ff,
                0xff0000ff00ffff00,
            ],
        ),
        (
            "punpckhbw",
            0x68,
            [
                0x0000000000000000,
                0x01ff01ff01ff01ff,
                0x807f81807f017e7f,
                0x807f00ff7f80ff00,
                0x807f00ff00ff00ff,
                0xfe01dc23ba459867,
                0x8080000080800000,
                0x7f80ff00807f00ff,
                0x913cc35a7a9e2e07,
                0x1de38fb2e60c4071,
            ],
        ),
        (
            "punpckhwd",
            0x69,
            [
                0x0000000000000000,
                0x0101ffff0101ffff,
                0x80817f807f7e017f,
                0x80007fff7fff8000,
                0x80007fff0000ffff,
                0xfedc0123ba984567,
                0x8000800080008000,
                0x7fff800080007fff,
                0x91c33c5a7a2e9e07,
                0x1d8fe3b2e6400c71,
            ],
        ),
        (
            "punpckhdq",
            0x6a,
            [
                0x0000000000000000,
                0x01010101ffffffff,
                0x80817f7e7f80017f,
                0x80007fff7fff8000,
                0x800000007fffffff,
                0xfedcba9801234567,
                0x8000800080008000,
                0x7fff800080007fff,
                0x91c37a2e3c5a9e07,
                0x1d8fe640e3b20c71,
            ],
        ),
        (
            "packssdw",
            0x6b,
            [
                0x0000000000000000,
                0x7fff7fffffffffff,
                0x80007fff7fff8000,
                0x80007fff7fff8000,
                0x800080007fff8000,
                0x80007fff7fff8000,
                0x8000800080008000,
                0x7fff800080007fff,
                0x80007fff7fff8000,
                0x7fff800080007fff,
            ],
        ),
        (
            "pcmpeqb",
            0x74,
            [
                0xffffffffffffffff,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x00000000ffffffff,
                0x0000000000000000,
                0xffffffffffffffff,
                0x000000000000ff00,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "pcmpeqw",
            0x75,
            [
                0xffffffffffffffff,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x00000000ffffffff,
                0x0000000000000000,
                0xffffffffffffffff,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "pcmpeqd",
            0x76,
            [
                0xffffffffffffffff,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x00000000ffffffff,
                0x0000000000000000,
                0xffffffffffffffff,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "pmullw",
            0xd5,
            [
                0x0000000000000000,
                0xfefffefffefffeff,
                0x3f80bd8201004080,
                0x80008000ffffffff,
                0x8000000000000000,
                0xb4140b28fe1c8cf0,
                0x0000000000000000,
                0x80008000fffe0006,
                0xf28ebb42b9243728,
                0x5a6ea2406958dbac,
            ],
        ),
        (
            "psubusb",
            0xd8,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0x00000001fe00fe01,
                0x00ff0100fffe0000,
                0x00ffffff00000000,
                0x0000000013579bdf,
                0x0000000000000000,
                0x010000ff00000000,
                0x00002400cb37000f,
                0xc6230031003e09d4,
            ],
        ),
        (
            "psubusw",
            0xd9,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0x00000000fd01fe01,
                0x00000001fffe0000,
                0x0000ffff00000000,
                0x0000000013579bdf,
                0x0000000000000000,
                0x0001000000000000,
                0x000023d9cb370000,
                0xc6230000000009d4,
            ],
        ),
        (
            "pand",
            0xdb,
            [
                0x0000000000000000,
                0x0101010101010101,
                0x0080017e01000080,
                0x0000000000010001,
                0x0000000080000000,
                0x0000000000000000,
                0x8000800080008000,
                0x0000000000000002,
                0x10421a0600b42048,
                0x0182044003180002,
            ],
        ),
        (
            "paddusb",
            0xdc,
            [
                0x0000000000000000,
                0xffffffffffffffff,
                0xffff80fdfffffeff,
                0xffffffffffffffff,
                0xffffffffff000000,
                0xffffffffffffffff,
                0xff00ff00ff00ff00,
                0xffffffffffff0005,
                0xcdffff35d7ffffc1,
                0xfffff2b1fff6ffd8,
            ],
        ),
        (
            "paddusw",
            0xdd,
            [
                0x0000000000000000,
                0xffffffffffffffff,
                0xffff80fdffffff01,
                0xffffffffffffffff,
                0xffffffffffff0000,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffff0005,
                0xce1dffffd8b1ffff,
                0xfffff2b1ffffffd8,
            ],
        ),
        (
            "pandn",
            0xdf,
            [
                0x0000000000000000,
                0x0000000000000000,
                0x80017e0000ff0000,
                0x80007fff0000fffe,
                0x8000000000000000,
                0xfedcba9876543210,
                0x0000000000000000,
                0x7fff8000fffe0001,
                0x818160280609d411,
                0x1c0de200a0447b00,
            ],
        ),
        (
            "pmulhw",
            0xe5,
            [
                0x0000000000000000,
                0xffffffffffffffff,
                0xc08000befffeffff,
                0xc000c000ffffffff,
                0xc000000040000000,
                0xfffeed2fc94df635,
                0x4000400040004000,
                0xc000c000ffff0000,
                0xe602d13dfec9fe06,
                0xfcbbfebfdd67c4d1,
            ],
        ),
        (
            "psubsb",
            0xe8,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0x7fff8201fe01fe01,
                0x7fff8001fffe0102,
                0x7fffffff00000000,
                0x03477f7f80809bdf,
                0x0000000000000000,
                0x80017fff010300ff,
                0x7f7f80d9cb37370f,
                0xc62326317f8080d4,
            ],
        ),
        (
            "psubsw",
            0xe9,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0x7fff8201fd01fe01,
                0x7fff8000fffe0002,
                0x7fffffff00000000,
                0x02477fff80009bdf,
                0x0000000000000000,
                0x80007fff0003ffff,
                0x7fff8000cb37370f,
                0xc62326317fff8000,
            ],
        ),
        (
            "por",
            0xeb,
            [
                0x0000000000000000,
                0xffffffffffffffff,
                0xff817f7ffffffe81,
                0xffffffffffffffff,
                0xffffffff80000000,
                0xffffffffffffffff,
                0x8000800080008000,
                0xffffffffffff0003,
                0xbddbfe2fd7fdff79,
                0xffbfee71ffdeffd6,
            ],
        ),
        (
            "paddsb",
            0xec,
            [
                0x0000000000000000,
                0x0000000000000000,
                0xff807f7f00fffe80,
                0xffffffffff00ff00,
                0xffffffff80000000,
                0xffffffffffffffff,
                0x8000800080008000,
                0xffffffffffff0005,
                0xcd1d1835d7b11f7f,
                0x0080f27f02f6ffd8,
            ],
        ),
        (
            "paddsw",
            0xed,
            [
                0x0000000000000000,
                0x0100010001000100,
                0x00017fff00ffff01,
                0xffffffff00000000,
                0xffffffff80000000,
                0xffffffffffffffff,
                0x8000800080008000,
                0xffffffffffff0005,
                0xce1d1835d8b11fc1,
                0x0141f2b102f6ffd8,
            ],
        ),
        (
            "pxor",
            0xef,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0xff017e01fefffe01,
                0xfffffffffffefffe,
                0xffffffff00000000,
                0xffffffffffffffff,
                0x0000000000000000,
                0xffffffffffff0001,
                0xad99e429d749df31,
                0xfe3dea31fcc6ffd4,
            ],
        ),
        (
            "pmaddwd",
            0xf5,
            [
                0x0000000000000000,
                0xfffffdfefffffdfe,
                0xc13efd02fffd4180,
                0x80010000fffffffe,
                0xc000800040000000,
                0xed2dbf3cbf838b0c,
                0x8000000080000000,
                0x8001000000000004,
                0xb740add0fccff04c,
                0xfb7afcaea2394504,
            ],
        ),
        (
            "psubb",
            0xf8,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0xffff8201fe01fe01,
                0xffff0101fffe0102,
                0xffffffff00000000,
                0x03478bcf13579bdf,
                0x0000000000000000,
                0x0101ffff010300ff,
                0xab9724d9cb37370f,
                0xc6232631bc3e09d4,
            ],
        ),
        (
            "psubw",
            0xf9,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0xfeff8201fd01fe01,
                0xffff0001fffe0002,
                0xffffffff00000000,
                0x02478acf13579bdf,
                0x0000000000000000,
                0x0001ffff0003ffff,
                0xaa9723d9cb37370f,
                0xc6232631bc3e09d4,
            ],
        ),
        (
            "psubd",
            0xfa,
            [
                0x0000000000000000,
                0xfefefefefefefefe,
                0xfefe8201fd01fe01,
                0xffff0001fffd0002,
                0xffffffff00000000,
                0x02468acf13579bdf,
                0x0000000000000000,
                0x0000ffff0002ffff,
                0xaa9723d9cb36370f,
                0xc6222631bc3e09d4,
            ],
        ),
        (
            "paddb",
            0xfc,
            [
                0x0000000000000000,
                0x0000000000000000,
                0xff0180fd00fffe01,
                0xffffffffff00ff00,
                0xffffffff00000000,
                0xffffffffffffffff,
                0x0000000000000000,
                0xffffffffffff0005,
                0xcd1d1835d7b11fc1,
                0x0041f2b102f6ffd8,
            ],
        ),
        (
            "paddw",
            0xfd,
            [
                0x0000000000000000,
                0x0100010001000100,
                0x000180fd00ffff01,
                0xffffffff00000000,
                0xffffffff00000000,
                0xffffffffffffffff,
                0x0000000000000000,
                0xffffffffffff0005,
                0xce1d1835d8b11fc1,
                0x0141f2b102f6ffd8,
            ],
        ),
        (
            "paddd",
            0xfe,
            [
                0x0000000000000000,
                0x0101010001010100,
                0x000180fd00ffff01,
                0xffffffff00010000,
                0xffffffff00000000,
                0xffffffffffffffff,
                0x0001000000010000,
                0xffffffffffff0005,
                0xce1e1835d8b21fc1,
                0x0141f2b102f6ffd8,
            ],
        ),
    ];
    // a = 0x84217f3cc0de0180; counts C then CBIG
    const SHIFT_MM: [(&str, u8, [u64; 12]); 8] = [
        (
            "psrlw",
            0xd1,
            [
                0x84217f3cc0de0180,
                0x42103f9e606f00c0,
                0x010800fe01810003,
                0x0001000000010000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psrld",
            0xd2,
            [
                0x84217f3cc0de0180,
                0x4210bf9e606f00c0,
                0x010842fe0181bc03,
                0x00010842000181bc,
                0x000084210000c0de,
                0x0000000100000001,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psrlq",
            0xd3,
            [
                0x84217f3cc0de0180,
                0x4210bf9e606f00c0,
                0x010842fe7981bc03,
                0x00010842fe7981bc,
                0x000084217f3cc0de,
                0x000000010842fe79,
                0x0000000084217f3c,
                0x0000000000000001,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psraw",
            0xe1,
            [
                0x84217f3cc0de0180,
                0xc2103f9ee06f00c0,
                0xff0800feff810003,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
            ],
        ),
        (
            "psrad",
            0xe2,
            [
                0x84217f3cc0de0180,
                0xc210bf9ee06f00c0,
                0xff0842feff81bc03,
                0xffff0842ffff81bc,
                0xffff8421ffffc0de,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
            ],
        ),
        (
            "psllw",
            0xf1,
            [
                0x84217f3cc0de0180,
                0x0842fe7881bc0300,
                0x10809e006f00c000,
                0x8000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "pslld",
            0xf2,
            [
                0x84217f3cc0de0180,
                0x0842fe7881bc0300,
                0x10bf9e006f00c000,
                0xbf9e000000c00000,
                0x7f3c000001800000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psllq",
            0xf3,
            [
                0x84217f3cc0de0180,
                0x0842fe7981bc0300,
                0x10bf9e606f00c000,
                0xbf9e606f00c00000,
                0x7f3cc0de01800000,
                0x606f00c000000000,
                0xc0de018000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
    ];
    const SHIFT_IMM: [(&str, [u64; 9]); 8] = [
        (
            "psrlw",
            [
                0x84217f3cc0de0180,
                0x42103f9e606f00c0,
                0x0001000000010000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psrld",
            [
                0x84217f3cc0de0180,
                0x4210bf9e606f00c0,
                0x00010842000181bc,
                0x000084210000c0de,
                0x0000000100000001,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psrlq",
            [
                0x84217f3cc0de0180,
                0x4210bf9e606f00c0,
                0x00010842fe7981bc,
                0x000084217f3cc0de,
                0x000000010842fe79,
                0x0000000084217f3c,
                0x0000000000000001,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psraw",
            [
                0x84217f3cc0de0180,
                0xc2103f9ee06f00c0,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
                0xffff0000ffff0000,
            ],
        ),
        (
            "psrad",
            [
                0x84217f3cc0de0180,
                0xc210bf9ee06f00c0,
                0xffff0842ffff81bc,
                0xffff8421ffffc0de,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
                0xffffffffffffffff,
            ],
        ),
        (
            "psllw",
            [
                0x84217f3cc0de0180,
                0x0842fe7881bc0300,
                0x8000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "pslld",
            [
                0x84217f3cc0de0180,
                0x0842fe7881bc0300,
                0xbf9e000000c00000,
                0x7f3c000001800000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
        (
            "psllq",
            [
                0x84217f3cc0de0180,
                0x0842fe7981bc0300,
                0xbf9e606f00c00000,
                0x7f3cc0de01800000,
                0x606f00c000000000,
                0xc0de018000000000,
                0x0000000000000000,
                0x0000000000000000,
                0x0000000000000000,
            ],
        ),
    ];

    #[test]
    fn two_operand_instructions_match_the_host() {
        for (name, opc, want) in TWO_OPERAND {
            for k in 0..10 {
                let mut cpu = cpu();
                set_mm(&mut cpu, 0, A[k]);
                set_mm(&mut cpu, 1, B[k]);
                run(&mut cpu, &[0x0f, opc, 0xc1]).unwrap();
                assert_eq!(
                    mm(&cpu, 0),
                    want[k],
                    "{name} {:#018x}, {:#018x}",
                    A[k],
                    B[k]
                );
                assert_eq!(mm(&cpu, 1), B[k], "{name}: source unchanged");
                assert_eq!(cpu.s.fpu.regs[0].sign_exp, 0xffff);
                assert_eq!(cpu.s.fpu.regs[1].sign_exp, 0, "{name}: source not written");
            }
        }
    }

    #[test]
    fn shifts_by_mm_match_the_host() {
        for (name, opc, want) in SHIFT_MM {
            for (k, &c) in C.iter().chain(CBIG.iter()).enumerate() {
                let mut cpu = cpu();
                set_mm(&mut cpu, 0, SHIFTED);
                set_mm(&mut cpu, 1, c);
                run(&mut cpu, &[0x0f, opc, 0xc1]).unwrap();
                assert_eq!(mm(&cpu, 0), want[k], "{name} by {c:#x}");
            }
        }
    }

    #[test]
    fn shifts_by_imm8_match_the_host() {
        for (name, want) in SHIFT_IMM {
            // Group opcode (71 words, 72 dwords, 73 quad) and ModRM reg (2 PSRL, 4 PSRA,
            // 6 PSLL); the register operand is MM5.
            let (grp, reg) = match name {
                "psrlw" => (0x71, 2),
                "psraw" => (0x71, 4),
                "psllw" => (0x71, 6),
                "psrld" => (0x72, 2),
                "psrad" => (0x72, 4),
                "pslld" => (0x72, 6),
                "psrlq" => (0x73, 2),
                _ => (0x73, 6),
            };
            for (k, &c) in IMM.iter().enumerate() {
                let mut cpu = cpu();
                set_mm(&mut cpu, 5, SHIFTED);
                run(&mut cpu, &[0x0f, grp, 0xc5 | reg << 3, c]).unwrap();
                assert_eq!(mm(&cpu, 5), want[k], "{name} mm5, {c}");
                assert_eq!(cpu.s.fpu.regs[5].sign_exp, 0xffff);
            }
        }
    }

    #[test]
    fn memory_source_operands() {
        let mut cpu = cpu();
        cpu.s.regs[3] = 0x2000; // EBX
        cpu.mmu
            .phys
            .load(0x2004, &0x8000_7fff_0001_fffeu64.to_le_bytes());
        set_mm(&mut cpu, 2, 0x8000_0001_7fff_0003);
        // paddsw mm2, [ebx+4]
        run(&mut cpu, &[0x0f, 0xed, 0x53, 0x04]).unwrap();
        assert_eq!(mm(&cpu, 2), 0x8000_7fff_7fff_0001);
        // psrlq mm2, [ebx+4]: a 64-bit count with a nonzero high dword clears all.
        run(&mut cpu, &[0x0f, 0xd3, 0x53, 0x04]).unwrap();
        assert_eq!(mm(&cpu, 2), 0);
    }

    #[test]
    fn low_unpacks_read_only_a_dword_from_memory() {
        // The dword at 0xffc is the last one inside DS (limit 0xfff): an 8-byte read
        // there would raise #GP, the 32-bit operand of PUNPCKLxx does not.
        let mut cpu = cpu();
        cpu.s.seg[DS].limit = 0xfff;
        cpu.mmu.phys.load(0xffc, &[0x11, 0x22, 0x33, 0x44]);
        set_mm(&mut cpu, 0, 0x8877_6655_aabb_ccdd);
        // punpcklbw mm0, [0xffc]
        run(&mut cpu, &[0x0f, 0x60, 0x05, 0xfc, 0x0f, 0, 0]).unwrap();
        assert_eq!(mm(&cpu, 0), 0x44aa_33bb_22cc_11dd);
        set_mm(&mut cpu, 1, 0x8877_6655_aabb_ccdd);
        // punpcklwd mm1, [0xffc]; punpckldq mm1, [0xffc]
        run(&mut cpu, &[0x0f, 0x61, 0x0d, 0xfc, 0x0f, 0, 0]).unwrap();
        assert_eq!(mm(&cpu, 1), 0x4433_aabb_2211_ccdd);
        run(&mut cpu, &[0x0f, 0x62, 0x0d, 0xfc, 0x0f, 0, 0]).unwrap();
        assert_eq!(mm(&cpu, 1), 0x4433_2211_2211_ccdd);
        // The high unpack and the other instructions read 64 bits: #GP(0).
        assert_eq!(
            run(&mut cpu, &[0x0f, 0x68, 0x05, 0xfc, 0x0f, 0, 0]),
            Err(Fault::Gp(0))
        );
    }

    #[test]
    fn movd_zero_extends_and_stores_the_low_dword() {
        let mut cpu = cpu();
        set_mm(&mut cpu, 3, 0xdead_beef_dead_beef);
        cpu.s.regs[0] = 0x8765_4321; // EAX
                                     // movd mm3, eax
        run(&mut cpu, &[0x0f, 0x6e, 0xd8]).unwrap();
        assert_eq!(mm(&cpu, 3), 0x0000_0000_8765_4321);
        assert_eq!(cpu.s.fpu.regs[3].sign_exp, 0xffff);
        // movd mm4, [0x3000]
        cpu.mmu
            .phys
            .load(0x3000, &[0x78, 0x56, 0x34, 0xf2, 0xaa, 0xbb, 0xcc, 0xdd]);
        set_mm(&mut cpu, 4, u64::MAX);
        run(&mut cpu, &[0x0f, 0x6e, 0x25, 0x00, 0x30, 0, 0]).unwrap();
        assert_eq!(mm(&cpu, 4), 0x0000_0000_f234_5678);
        // movd ecx, mm5 ; movd [0x3100], mm5
        set_mm(&mut cpu, 5, 0x0123_4567_89ab_cdef);
        run(&mut cpu, &[0x0f, 0x7e, 0xe9]).unwrap();
        assert_eq!(cpu.s.regs[1], 0x89ab_cdef);
        cpu.mmu.phys.load(0x3100, &[0x55; 8]);
        run(&mut cpu, &[0x0f, 0x7e, 0x2d, 0x00, 0x31, 0, 0]).unwrap();
        assert_eq!(
            cpu.mmu.phys.dump(0x3100, 8),
            [0xef, 0xcd, 0xab, 0x89, 0x55, 0x55, 0x55, 0x55]
        );
        assert_eq!(cpu.s.fpu.regs[5].sign_exp, 0, "a read leaves R5's exponent");
    }

    #[test]
    fn movq_loads_stores_and_copies() {
        let mut cpu = cpu();
        cpu.mmu
            .phys
            .load(0x3000, &0xfedc_ba98_7654_3210u64.to_le_bytes());
        // movq mm6, [0x3000]
        run(&mut cpu, &[0x0f, 0x6f, 0x35, 0x00, 0x30, 0, 0]).unwrap();
        assert_eq!(mm(&cpu, 6), 0xfedc_ba98_7654_3210);
        // movq mm7, mm6 (6F form) ; movq mm1, mm7 (7F form, register destination)
        run(&mut cpu, &[0x0f, 0x6f, 0xfe]).unwrap();
        assert_eq!(mm(&cpu, 7), 0xfedc_ba98_7654_3210);
        run(&mut cpu, &[0x0f, 0x7f, 0xf9]).unwrap();
        assert_eq!(mm(&cpu, 1), 0xfedc_ba98_7654_3210);
        assert_eq!(cpu.s.fpu.regs[1].sign_exp, 0xffff);
        // movq [0x3010], mm1
        run(&mut cpu, &[0x0f, 0x7f, 0x0d, 0x10, 0x30, 0, 0]).unwrap();
        assert_eq!(
            cpu.mmu.phys.dump(0x3010, 8),
            0xfedc_ba98_7654_3210u64.to_le_bytes()
        );
    }

    #[test]
    fn mmx_aliases_the_x87_registers() {
        let mut cpu = cpu();
        // TOP = 5, C1 and C3 set, every register empty; R0 and R1 hold 1.0.
        cpu.s.fpu.fsw = 5 << 11 | 0x4200;
        cpu.s.fpu.ftw = 0xffff;
        for r in 0..2 {
            cpu.s.fpu.regs[r].sign_exp = 0x3fff;
            cpu.s.fpu.regs[r].signif = 0x8000_0000_0000_0000;
        }
        // pxor mm0, mm1: writes R0's significand, sets its exponent field to all ones.
        run(&mut cpu, &[0x0f, 0xef, 0xc1]).unwrap();
        assert_eq!(mm(&cpu, 0), 0);
        assert_eq!(cpu.s.fpu.regs[0].sign_exp, 0xffff);
        assert_eq!(
            cpu.s.fpu.regs[1].sign_exp, 0x3fff,
            "the source is only read"
        );
        assert_eq!(cpu.s.fpu.fsw, 0x4200, "TOP 0, other status bits kept");
        assert_eq!(cpu.s.fpu.ftw, 0, "all tags valid");
        assert_eq!(cpu.s.fpu.fcw, 0x0040, "FCW untouched");
        // A pure read (MOVD r32, mm) also sets TOP and the tags.
        cpu.s.fpu.fsw = 3 << 11;
        cpu.s.fpu.ftw = 0xffff;
        run(&mut cpu, &[0x0f, 0x7e, 0xc8]).unwrap(); // movd eax, mm1
        assert_eq!(cpu.s.regs[0], 0);
        assert_eq!((top(&cpu), cpu.s.fpu.ftw), (0, 0));
        assert_eq!(cpu.s.fpu.regs[1].sign_exp, 0x3fff);
    }

    #[test]
    fn emms_empties_the_tags() {
        let mut cpu = cpu();
        cpu.s.fpu.fsw = 6 << 11 | 0x0100;
        cpu.s.fpu.ftw = 0;
        set_mm(&mut cpu, 2, 0x1234);
        run(&mut cpu, &[0x0f, 0x77]).unwrap();
        assert_eq!(cpu.s.fpu.ftw, 0xffff);
        // TOP becomes 0 (SDM Vol. 3A §12.2; the host's EMMS after two FLD1 leaves
        // FSW 0000h).
        assert_eq!(cpu.s.fpu.fsw, 0x0100);
        assert_eq!(mm(&cpu, 2), 0x1234);
        assert_eq!(cpu.s.fpu.regs[2].sign_exp, 0);
    }

    #[test]
    fn cr0_em_ts_and_pending_errors() {
        let probe = |cr: u32, fsw: u16, code: &[u8]| {
            let mut cpu = cpu();
            cpu.s.cr0 |= cr;
            cpu.s.fpu.fsw = fsw;
            let before = cpu.s.fpu.clone();
            let r = run(&mut cpu, code);
            if r.is_err() {
                assert_eq!(cpu.s.fpu, before, "a fault changes nothing");
            }
            r
        };
        let paddb = [0x0f, 0xfc, 0xc1];
        let emms = [0x0f, 0x77];
        for code in [&paddb[..], &emms[..]] {
            assert_eq!(probe(cr0::EM, 0, code), Err(Fault::Ud));
            assert_eq!(probe(cr0::EM | cr0::TS, 0, code), Err(Fault::Ud));
            assert_eq!(probe(cr0::TS, 0, code), Err(Fault::Nm));
            assert_eq!(probe(cr0::MP | cr0::TS, 0, code), Err(Fault::Nm));
            // An unmasked exception pending (ES): #MF with NE=1, after #NM.
            assert_eq!(probe(cr0::NE, 0x0081, code), Err(Fault::Mf));
            assert_eq!(probe(cr0::NE | cr0::TS, 0x0081, code), Err(Fault::Nm));
            assert_eq!(probe(0, 0x0081, code), Ok(()), "NE=0: the FERR# path");
            assert_eq!(probe(cr0::MP | cr0::NE, 0, code), Ok(()));
        }
    }

    #[test]
    fn instructions_a_pentium_ii_lacks_are_invalid() {
        // paddq mm0, mm1 (SSE2); pshufw mm0, mm1, 0 (SSE); pmovmskb eax, mm1 (SSE).
        for code in [
            &[0x0f, 0xd4, 0xc1][..],
            &[0x0f, 0x70, 0xc1, 0],
            &[0x0f, 0xd7, 0xc1],
        ] {
            let mut cpu = cpu();
            cpu.s.fpu.fsw = 2 << 11;
            assert_eq!(run(&mut cpu, code), Err(Fault::Ud), "{code:02x?}");
            assert_eq!(top(&cpu), 2);
        }
    }

    #[test]
    fn segment_fault_leaves_register_and_memory() {
        let mut cpu = cpu();
        cpu.s.seg[DS].limit = 0x1003;
        cpu.s.fpu.fsw = 4 << 11;
        cpu.s.fpu.ftw = 0xffff;
        cpu.mmu.phys.load(0x1000, &[1, 2, 3, 4, 5, 6, 7, 8]);
        set_mm(&mut cpu, 0, 0x1122_3344_5566_7788);
        let before = cpu.s.fpu.clone();
        // movq mm0, [0x1000] ; movq [0x1000], mm0 ; paddb mm0, [0x1000]
        for code in [
            &[0x0f, 0x6f, 0x05, 0x00, 0x10, 0, 0],
            &[0x0f, 0x7f, 0x05, 0x00, 0x10, 0, 0],
            &[0x0f, 0xfc, 0x05, 0x00, 0x10, 0, 0],
        ] {
            assert_eq!(run(&mut cpu, code), Err(Fault::Gp(0)));
            assert_eq!(cpu.s.fpu, before);
            assert_eq!(cpu.mmu.phys.dump(0x1000, 8), [1, 2, 3, 4, 5, 6, 7, 8]);
        }
        // The dword forms fit: movd [0x1000], mm0.
        run(&mut cpu, &[0x0f, 0x7e, 0x05, 0x00, 0x10, 0, 0]).unwrap();
        assert_eq!(
            cpu.mmu.phys.dump(0x1000, 8),
            [0x88, 0x77, 0x66, 0x55, 5, 6, 7, 8]
        );
    }

    #[test]
    fn page_fault_in_the_second_dword_tears_nothing() {
        // Paging on, identity-mapped 0-64 KiB except page 5 (0x5000) not present.
        let mut cpu = cpu();
        cpu.mmu.phys.write_u32(0x20000, 0x21000 | 3);
        for p in 0..16u32 {
            let pte = if p == 5 { 0 } else { p << 12 | 3 };
            cpu.mmu.phys.write_u32(0x21000 + 4 * p, pte);
        }
        cpu.s.cr3 = 0x20000;
        cpu.s.cr0 |= cr0::PE | cr0::PG;
        cpu.sync_paging();
        cpu.mmu.phys.load(0x4ffc, &[9, 9, 9, 9]);
        set_mm(&mut cpu, 0, 0x1122_3344_5566_7788);
        cpu.s.fpu.fsw = 1 << 11;
        let before = cpu.s.fpu.clone();
        // movq [0x4ffc], mm0
        let r = run(&mut cpu, &[0x0f, 0x7f, 0x05, 0xfc, 0x4f, 0, 0]);
        assert!(matches!(r, Err(Fault::Pf { addr: 0x5000, .. })), "{r:?}");
        assert_eq!(
            cpu.mmu.phys.dump(0x4ffc, 4),
            [9, 9, 9, 9],
            "first dword not written"
        );
        assert_eq!(cpu.s.fpu, before);
        // movq mm0, [0x4ffc]
        let r = run(&mut cpu, &[0x0f, 0x6f, 0x05, 0xfc, 0x4f, 0, 0]);
        assert!(matches!(r, Err(Fault::Pf { addr: 0x5000, .. })), "{r:?}");
        assert_eq!(cpu.s.fpu, before);
    }
}
