//! Multiboot v1 (the Multiboot Specification 0.6.96): a kernel with a Multiboot header in
//! its first 8 KiB, loaded from its ELF32 program headers or, with flags bit 16 (the
//! "a.out kludge"), from the addresses in the header; entered with EAX = 0x2BADB002 and
//! EBX pointing at the Multiboot information structure.

use super::{enter_flat_protected_mode, BootError};
use crate::cpu::Cpu;

pub const HEADER_MAGIC: u32 = 0x1bad_b002;
pub const BOOTLOADER_MAGIC: u32 = 0x2bad_b002;
const FLAG_AOUT_KLUDGE: u32 = 1 << 16;

/// Where the loader puts the information structure, its memory map, the command line
/// and module strings (below 640 KiB).
pub const INFO_ADDR: u32 = 0x9000;
const MMAP_ADDR: u32 = 0x9100;
const CMDLINE_ADDR: u32 = 0xa000;
const MODS_ADDR: u32 = 0x9400;
const MOD_STRING_ADDR: u32 = 0x9500;

/// Information-structure flags (§3.3).
const INFO_MEMORY: u32 = 1 << 0;
const INFO_CMDLINE: u32 = 1 << 2;
const INFO_MODS: u32 = 1 << 3;
const INFO_MMAP: u32 = 1 << 6;
const INFO_LOADER_NAME: u32 = 1 << 9;
const LOADER_NAME_ADDR: u32 = 0x9600;

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

/// The file offset of a valid Multiboot header (4-byte aligned, in the first 8 KiB,
/// with a matching checksum).
pub fn find_header(k: &[u8]) -> Option<usize> {
    (0..8192usize.min(k.len().saturating_sub(12)))
        .step_by(4)
        .find(|&o| {
            let (m, f, c) = (u32_at(k, o), u32_at(k, o + 4), u32_at(k, o + 8));
            m == Some(HEADER_MAGIC)
                && matches!((f, c), (Some(f), Some(c)) if HEADER_MAGIC.wrapping_add(f).wrapping_add(c) == 0)
        })
}

pub fn load(
    cpu: &mut Cpu,
    k: &[u8],
    initrd: Option<&[u8]>,
    cmdline: &str,
) -> Result<(), BootError> {
    let h = find_header(k).ok_or(BootError::UnknownFormat)?;
    let flags = u32_at(k, h + 4).unwrap_or(0);
    let ram = cpu.mmu.phys.ram_size();
    let ram_mb = ram >> 20;
    let mut image_end: u64 = 0;
    let entry = if flags & FLAG_AOUT_KLUDGE != 0 {
        let f =
            |i: usize| u32_at(k, h + 12 + 4 * i).ok_or(BootError::Truncated("multiboot header"));
        let (header_addr, load_addr, load_end, bss_end, entry) =
            (f(0)?, f(1)?, f(2)?, f(3)?, f(4)?);
        let file_start = (h as u64 + load_addr as u64)
            .checked_sub(header_addr as u64)
            .ok_or_else(|| BootError::Multiboot("load_addr is above header_addr".into()))?;
        let len = if load_end == 0 {
            (k.len() as u64).saturating_sub(file_start)
        } else {
            (load_end as u64).saturating_sub(load_addr as u64)
        };
        let data = k
            .get(file_start as usize..(file_start + len) as usize)
            .ok_or(BootError::Truncated(
                "multiboot load range is beyond the file",
            ))?;
        image_end = load_addr as u64 + len;
        let bss_top = (bss_end as u64).max(image_end);
        if bss_top > ram as u64 {
            return Err(BootError::TooBig {
                what: "the kernel",
                ram_mb,
            });
        }
        cpu.mmu.phys.load(load_addr, data);
        cpu.mmu
            .phys
            .load(image_end as u32, &vec![0; (bss_top - image_end) as usize]);
        image_end = bss_top;
        entry
    } else {
        // ELF32: the PT_LOAD segments at their physical addresses.
        if k.get(0..4) != Some(b"\x7fELF") || k.get(4) != Some(&1) {
            return Err(BootError::Multiboot(
                "not an ELF32 image and no a.out kludge".into(),
            ));
        }
        let entry = u32_at(k, 24).ok_or(BootError::Truncated("ELF header"))?;
        let phoff = u32_at(k, 28).ok_or(BootError::Truncated("ELF header"))? as usize;
        let phentsize = u16_at(k, 42).ok_or(BootError::Truncated("ELF header"))? as usize;
        let phnum = u16_at(k, 44).ok_or(BootError::Truncated("ELF header"))? as usize;
        for i in 0..phnum {
            let p = phoff + i * phentsize;
            let g = |o: usize| u32_at(k, p + o).ok_or(BootError::Truncated("ELF program header"));
            if g(0)? != 1 {
                continue; // not PT_LOAD
            }
            let (off, paddr, filesz, memsz) = (g(4)? as usize, g(12)?, g(16)? as usize, g(20)?);
            let data = k
                .get(off..off + filesz)
                .ok_or(BootError::Truncated("ELF segment beyond the file"))?;
            let end = paddr as u64 + memsz.max(filesz as u32) as u64;
            if end > ram as u64 {
                return Err(BootError::TooBig {
                    what: "the kernel",
                    ram_mb,
                });
            }
            cpu.mmu.phys.load(paddr, data);
            let bss = memsz.saturating_sub(filesz as u32);
            cpu.mmu
                .phys
                .load(paddr + filesz as u32, &vec![0; bss as usize]);
            image_end = image_end.max(end);
        }
        entry
    };

    // The information structure.
    let mut info = vec![0u8; 0x58];
    let mut iflags = INFO_MEMORY | INFO_CMDLINE | INFO_MMAP | INFO_LOADER_NAME;
    let put = |b: &mut Vec<u8>, o: usize, v: u32| b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put(&mut info, 4, 639);
    put(&mut info, 8, (ram - 0x10_0000) / 1024);
    let mut line = cmdline.as_bytes().to_vec();
    line.truncate(0xfff);
    line.push(0);
    cpu.mmu.phys.load(CMDLINE_ADDR, &line);
    put(&mut info, 16, CMDLINE_ADDR);
    if let Some(rd) = initrd {
        // One module, page aligned after the kernel.
        let start = ((image_end.max(0x10_0000) + 0xfff) & !0xfff) as u32;
        if start as u64 + rd.len() as u64 > ram as u64 {
            return Err(BootError::TooBig {
                what: "the initrd module",
                ram_mb,
            });
        }
        cpu.mmu.phys.load(start, rd);
        cpu.mmu.phys.load(MOD_STRING_ADDR, b"initrd\0");
        let mut m = Vec::new();
        for v in [start, start + rd.len() as u32, MOD_STRING_ADDR, 0] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        cpu.mmu.phys.load(MODS_ADDR, &m);
        put(&mut info, 20, 1);
        put(&mut info, 24, MODS_ADDR);
        iflags |= INFO_MODS;
    }
    let mut mmap = Vec::new();
    for (addr, size, ty) in super::linux::e820_map(ram) {
        mmap.extend_from_slice(&20u32.to_le_bytes());
        mmap.extend_from_slice(&addr.to_le_bytes());
        mmap.extend_from_slice(&size.to_le_bytes());
        mmap.extend_from_slice(&ty.to_le_bytes());
    }
    cpu.mmu.phys.load(MMAP_ADDR, &mmap);
    put(&mut info, 44, mmap.len() as u32);
    put(&mut info, 48, MMAP_ADDR);
    cpu.mmu.phys.load(LOADER_NAME_ADDR, b"rx86\0");
    put(&mut info, 64, LOADER_NAME_ADDR);
    put(&mut info, 0, iflags);
    cpu.mmu.phys.load(INFO_ADDR, &info);

    // Flat segments from a small GDT (the kernel must not rely on GDTR, per §3.2).
    let gdt: [u64; 4] = [0, 0, 0x00cf_9a00_0000_ffff, 0x00cf_9200_0000_ffff];
    let bytes: Vec<u8> = gdt.iter().flat_map(|d| d.to_le_bytes()).collect();
    cpu.mmu.phys.load(0x6000, &bytes);
    cpu.s.gdtr = jit::abi::TableReg {
        base: 0x6000,
        limit: 31,
    };
    enter_flat_protected_mode(cpu, 0x10, 0x18, entry);
    cpu.s.regs = [0; 8];
    cpu.s.regs[jit::abi::EAX] = BOOTLOADER_MAGIC;
    cpu.s.regs[jit::abi::EBX] = INFO_ADDR;
    Ok(())
}
