//! The physical address space: RAM, the BIOS ROM (at the top of 4 GiB and aliased
//! below 1 MiB, as on a PC), memory-mapped devices, and unassigned space that reads as
//! all ones. A20 masking is applied by the caller (`Mmu`) before addresses reach here.

use devices::MmioBus;
use memmap2::MmapMut;

use crate::error::Error;

/// Where a physical page lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// RAM, at this byte offset into the RAM map.
    Ram(usize),
    /// ROM, at this byte offset into the ROM image: reads only.
    Rom(usize),
    /// A device on the MMIO bus.
    Mmio,
    /// Nothing: reads give all ones, writes are dropped.
    Unassigned,
}

pub struct PhysMem {
    ram: MmapMut,
    ram_size: u32,
    rom: MmapMut,
    rom_len: u32,
    /// Start of the ROM's alias below 1 MiB (its last 128 KiB, or all of a smaller image).
    rom_low_base: u32,
    /// Device memory; it takes precedence over RAM it overlaps.
    pub mmio: MmioBus,
    /// RAM pages holding translated code, one bit per 4 KiB page (the JIT's has-code
    /// set: DESIGN.md, "Self-modifying code").
    code_pages: Vec<u64>,
    /// Physical page numbers of code pages written since the JIT last took them; a
    /// written page leaves the has-code set.
    code_written: Vec<u32>,
    /// Lockstep runs: every RAM byte write as (address, old value), to undo it.
    write_log: Option<Vec<(u32, u8)>>,
}

/// Largest RAM we map: leaves the top 1 GiB for ROM and device memory.
pub const MAX_RAM: u32 = 3 << 30;

impl PhysMem {
    /// Creates `ram_size` bytes of zeroed RAM and maps `rom` (if any) below 4 GiB.
    pub fn new(ram_size: u32, rom: &[u8]) -> Result<Self, Error> {
        if !(1 << 20..=MAX_RAM).contains(&ram_size) {
            return Err(Error::MemorySize(ram_size >> 20));
        }
        let ram = MmapMut::map_anon(ram_size as usize).map_err(Error::Map)?;
        let rom_len = rom.len() as u32;
        let mut rom_map = MmapMut::map_anon(rom.len().max(4096)).map_err(Error::Map)?;
        rom_map[..rom.len()].copy_from_slice(rom);
        let alias = rom_len.min(128 << 10);
        Ok(Self {
            ram,
            ram_size,
            rom: rom_map,
            rom_len,
            rom_low_base: (1 << 20) - alias,
            mmio: MmioBus::new(),
            code_pages: vec![0; (ram_size as usize >> 12).div_ceil(64)],
            code_written: Vec::new(),
            write_log: None,
        })
    }

    pub fn ram_size(&self) -> u32 {
        self.ram_size
    }

    /// Classifies a physical address.
    #[inline]
    pub fn region(&self, pa: u32) -> Region {
        if self.rom_len != 0 {
            let high = 0u32.wrapping_sub(self.rom_len);
            if pa >= high {
                return Region::Rom((pa - high) as usize);
            }
            if pa >= self.rom_low_base && pa < 1 << 20 {
                return Region::Rom((self.rom_len - ((1 << 20) - pa)) as usize);
            }
        }
        if self.mmio.claims(pa) {
            Region::Mmio
        } else if pa < self.ram_size {
            Region::Ram(pa as usize)
        } else {
            Region::Unassigned
        }
    }

    /// Host address of the 4 KiB page holding `pa`, and whether it may be written.
    /// `None` for unassigned space.
    #[inline]
    pub fn host_page(&mut self, pa: u32) -> Option<(*mut u8, bool)> {
        let page = pa & !0xfff;
        if self.mmio.overlaps(page, 0x1000) {
            return None;
        }
        match self.region(page) {
            // SAFETY: `off` is inside the RAM map (region() checked it against ram_size,
            // and ram_size is a multiple of 4 KiB).
            Region::Ram(off) => Some((unsafe { self.ram.as_mut_ptr().add(off) }, true)),
            // SAFETY: `off` is inside the ROM map (rom_len is a multiple of 4 KiB).
            Region::Rom(off) => Some((unsafe { self.rom.as_mut_ptr().add(off) }, false)),
            Region::Mmio | Region::Unassigned => None,
        }
    }

    pub fn read_u8(&mut self, pa: u32) -> u8 {
        match self.region(pa) {
            Region::Ram(off) => self.ram[off],
            Region::Rom(off) => self.rom[off],
            Region::Mmio => self.mmio.read(pa, 1) as u8,
            Region::Unassigned => 0xff,
        }
    }

    pub fn write_u8(&mut self, pa: u32, v: u8) {
        match self.region(pa) {
            Region::Ram(off) => {
                self.note_code_write(off);
                if let Some(log) = &mut self.write_log {
                    log.push((pa, self.ram[off]));
                }
                self.ram[off] = v
            }
            Region::Mmio => self.mmio.write(pa, 1, v as u32),
            Region::Rom(_) => tracing::debug!(pa, "write to ROM dropped"),
            Region::Unassigned => tracing::debug!(pa, "write to unassigned memory dropped"),
        }
    }

    /// Little-endian read of `size` (1, 2, 4) bytes: one device access when it starts
    /// on a device, else byte by byte (it may straddle regions).
    pub fn read(&mut self, pa: u32, size: u32) -> u32 {
        match self.region(pa) {
            Region::Ram(off) if off + size as usize <= self.ram.len() => {
                let mut b = [0u8; 4];
                b[..size as usize].copy_from_slice(&self.ram[off..off + size as usize]);
                u32::from_le_bytes(b)
            }
            Region::Mmio => self.mmio.read(pa, size as u8),
            _ => (0..size).fold(0, |v, i| {
                v | (self.read_u8(pa.wrapping_add(i)) as u32) << (8 * i)
            }),
        }
    }

    /// Little-endian write of `size` bytes, dispatched like `read`.
    pub fn write(&mut self, pa: u32, size: u32, v: u32) {
        if self.region(pa) == Region::Mmio {
            self.mmio.write(pa, size as u8, v);
            return;
        }
        for i in 0..size {
            self.write_u8(pa.wrapping_add(i), (v >> (8 * i)) as u8);
        }
    }

    pub fn read_u32(&mut self, pa: u32) -> u32 {
        self.read(pa, 4)
    }

    pub fn write_u32(&mut self, pa: u32, v: u32) {
        self.write(pa, 4, v)
    }

    /// Copies `data` into physical memory (loaders and tests).
    pub fn load(&mut self, pa: u32, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            self.write_u8(pa.wrapping_add(i as u32), *b);
        }
    }

    /// A RAM write at byte offset `off`: if its page holds translated code, the page
    /// leaves the has-code set and is queued for the JIT to invalidate.
    #[inline]
    fn note_code_write(&mut self, off: usize) {
        let page = off >> 12;
        if let Some(w) = self.code_pages.get_mut(page / 64) {
            let bit = 1u64 << (page % 64);
            if *w & bit != 0 {
                *w &= !bit;
                self.code_written.push(page as u32);
            }
        }
    }

    /// Adds the RAM page holding `pa` to the has-code set. Returns false if `pa` is not
    /// RAM (ROM cannot be written, so its code needs no tracking).
    pub fn mark_code(&mut self, pa: u32) -> bool {
        let Region::Ram(off) = self.region(pa & !0xfff) else {
            return false;
        };
        let page = off >> 12;
        match self.code_pages.get_mut(page / 64) {
            Some(w) => {
                *w |= 1 << (page % 64);
                true
            }
            None => false,
        }
    }

    /// True if the RAM page holding `pa` is in the has-code set.
    #[inline]
    pub fn is_code(&self, pa: u32) -> bool {
        let page = (pa >> 12) as usize;
        pa < self.ram_size
            && self
                .code_pages
                .get(page / 64)
                .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// True if code pages were written since the last `take_code_writes`.
    #[inline]
    pub fn code_written(&self) -> bool {
        !self.code_written.is_empty()
    }

    /// The physical page numbers of code pages written since the last call.
    pub fn take_code_writes(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.code_written)
    }

    /// Drops the whole has-code set (the JIT flushed its cache).
    pub fn clear_code(&mut self) {
        self.code_pages.iter_mut().for_each(|w| *w = 0);
        self.code_written.clear();
    }

    /// The physical address of a host pointer into RAM or ROM (ROM by its address below
    /// 4 GiB), the inverse of `host_page`.
    pub fn host_to_phys(&self, p: *const u8) -> Option<u32> {
        let a = p as usize;
        let ram = self.ram.as_ptr() as usize;
        if a >= ram && a < ram + self.ram.len() {
            return Some((a - ram) as u32);
        }
        let rom = self.rom.as_ptr() as usize;
        if self.rom_len != 0 && a >= rom && a < rom + self.rom_len as usize {
            return Some(
                0u32.wrapping_sub(self.rom_len)
                    .wrapping_add((a - rom) as u32),
            );
        }
        None
    }

    /// Starts (or with `false`, ends and returns) the log of RAM writes that lockstep
    /// runs use to undo a block. Only writes through `write_u8` are seen: the MMU
    /// grants no shadow-TLB write access while the log is on.
    pub fn set_write_log(&mut self, on: bool) -> Vec<(u32, u8)> {
        let old = self.write_log.take().unwrap_or_default();
        if on {
            self.write_log = Some(Vec::new());
        }
        old
    }

    pub fn write_log_active(&self) -> bool {
        self.write_log.is_some()
    }

    /// Puts back RAM bytes from a write log, newest first, without logging or counting
    /// them as code writes.
    pub fn undo_writes(&mut self, log: &[(u32, u8)]) {
        for &(pa, old) in log.iter().rev() {
            if let Region::Ram(off) = self.region(pa) {
                self.ram[off] = old;
            }
        }
    }

    /// Reads `len` bytes of physical memory (tests and dumps).
    pub fn dump(&mut self, pa: u32, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| self.read_u8(pa.wrapping_add(i as u32)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rom_is_mapped_high_and_aliased_low() {
        let mut rom = vec![0u8; 64 << 10];
        rom[0] = 0x11;
        rom[0xfff0] = 0xea;
        let mut mem = PhysMem::new(16 << 20, &rom).unwrap();
        assert_eq!(mem.read_u8(0xffff_0000), 0x11);
        assert_eq!(mem.read_u8(0xffff_fff0), 0xea);
        assert_eq!(mem.read_u8(0xf0000), 0x11);
        assert_eq!(mem.read_u8(0xffff0), 0xea);
        assert_eq!(mem.region(0xeffff), Region::Ram(0xeffff));
    }

    #[test]
    fn big_rom_aliases_its_last_128k() {
        let mut rom = vec![0u8; 256 << 10];
        rom[(128 << 10) + 5] = 0x42;
        let mut mem = PhysMem::new(16 << 20, &rom).unwrap();
        assert_eq!(mem.read_u8(0xe0005), 0x42);
        assert_eq!(mem.read_u8(0xfffc_0000 + (128 << 10) + 5), 0x42);
    }

    #[test]
    fn unassigned_reads_all_ones_and_rom_ignores_writes() {
        let rom = vec![0u8; 64 << 10];
        let mut mem = PhysMem::new(1 << 20, &rom).unwrap();
        assert_eq!(mem.read_u32(0x4000_0000), 0xffff_ffff);
        mem.write_u8(0xf0000, 7);
        assert_eq!(mem.read_u8(0xf0000), 0);
        mem.write_u32(0x1000, 0xdead_beef);
        assert_eq!(mem.read_u32(0x1000), 0xdead_beef);
    }
}
