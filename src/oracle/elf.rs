//! A static i386 executable (System V ABI, ELF32 "ET_EXEC, EM_386", program headers only)
//! holding the native oracle's runner and a batch of cases.
//!
//! Memory map of the image:
//! - `RUNNER_BASE`: ELF headers and the runner (R+X);
//! - `SCRATCH_BASE`: the runner's variables and its own stack (R+W, zero-filled);
//! - `CODE_BASE`: one `CASE_SLOT` per case: its code, then `jmp rel32` back to the runner
//!   (R+X);
//! - `DATA_BASE`: the data area the cases see (R+W, zero-filled, loaded per case);
//! - `TABLE_BASE`: per case a record `regs[8], eflags, code_addr, data image` (R).
//!
//! The runner, per case: copies the record's header to scratch and its data image to
//! `DATA_BASE`, loads EFLAGS with `popfd` from scratch, the eight registers with ESP last,
//! and jumps to the case. The case falls through into its `jmp` back, where the runner
//! stores the registers, `pushfd`s EFLAGS and writes `regs[8], eflags` followed by the data
//! area to stdout (`write(2)` through `int 0x80`). After the last case it calls `exit(0)`.

use super::{Case, CASE_SLOT, CODE_BASE, DATA_BASE, DATA_SIZE, MAX_CODE_LEN};

const RUNNER_BASE: u32 = 0x0800_0000;
/// File offset (and offset from `RUNNER_BASE`) of the runner's first instruction.
const RUNNER_OFFSET: u32 = 0x200;
const SCRATCH_BASE: u32 = 0x0780_0000;
const SCRATCH_SIZE: u32 = 0x1000;
const TABLE_BASE: u32 = 0x4000_0000;

/// Bytes of a case's header in the table: regs[8], eflags, code_addr.
const HDR_SIZE: u32 = 40;
/// Bytes of one table record: header, then the data image.
pub(crate) const RECORD_SIZE: u32 = HDR_SIZE + DATA_SIZE as u32;
/// Bytes the runner writes per case: regs[8], eflags, then the data area.
pub(crate) const OUT_SIZE: usize = 36 + DATA_SIZE;

// Runner variables in the scratch page.
const S_CUR: u32 = SCRATCH_BASE; // next table record
const S_LEFT: u32 = SCRATCH_BASE + 4; // cases left
const S_HDR: u32 = SCRATCH_BASE + 0x10; // copy of the current record's header
const S_OUT: u32 = SCRATCH_BASE + 0x40; // regs[8], eflags of the finished case
const S_STACK: u32 = SCRATCH_BASE + 0xF00; // runner stack top

const PAGE: u32 = 0x1000;

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

struct Segment {
    vaddr: u32,
    flags: u32,
    data: Vec<u8>,
    mem_size: u32,
}

/// Tiny i386 assembler for the runner: raw bytes plus rel32 fixups to labels.
struct Asm {
    base: u32,
    bytes: Vec<u8>,
    labels: Vec<Option<u32>>,
    fixups: Vec<(usize, usize)>, // (position of rel32, label)
}

impl Asm {
    fn new(base: u32) -> Self {
        Asm {
            base,
            bytes: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
        }
    }
    fn here(&self) -> u32 {
        self.base + self.bytes.len() as u32
    }
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.here());
    }
    fn b(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }
    fn d(&mut self, v: u32) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// `op rel32` to label `l`.
    fn rel(&mut self, op: &[u8], l: usize) {
        self.b(op);
        self.fixups.push((self.bytes.len(), l));
        self.d(0);
    }
    fn finish(mut self) -> Result<Vec<u8>, String> {
        for &(pos, l) in &self.fixups {
            let target = self.labels[l].ok_or("runner: unbound label")?;
            let next = self.base + pos as u32 + 4;
            self.bytes[pos..pos + 4].copy_from_slice(&target.wrapping_sub(next).to_le_bytes());
        }
        Ok(self.bytes)
    }
}

/// Assembles the runner at `RUNNER_BASE + RUNNER_OFFSET`. Returns its bytes and the address
/// cases jump back to.
fn runner(count: u32) -> Result<(Vec<u8>, u32), String> {
    let mut a = Asm::new(RUNNER_BASE + RUNNER_OFFSET);
    let next = a.label();
    let done = a.label();
    let write_all = a.label();
    let fail = a.label();

    // mov dword [S_CUR], TABLE_BASE ; mov dword [S_LEFT], count
    a.b(&[0xC7, 0x05]).d(S_CUR).d(TABLE_BASE);
    a.b(&[0xC7, 0x05]).d(S_LEFT).d(count);
    a.bind(next);
    // cmp dword [S_LEFT], 0 ; je done
    a.b(&[0x83, 0x3D]).d(S_LEFT).b(&[0x00]);
    a.rel(&[0x0F, 0x84], done);
    // cld ; mov esi, [S_CUR] ; mov edi, S_HDR ; mov ecx, HDR_SIZE/4 ; rep movsd
    a.b(&[0xFC]);
    a.b(&[0x8B, 0x35]).d(S_CUR);
    a.b(&[0xBF]).d(S_HDR);
    a.b(&[0xB9]).d(HDR_SIZE / 4);
    a.b(&[0xF3, 0xA5]);
    // mov edi, DATA_BASE ; mov ecx, DATA_SIZE/4 ; rep movsd ; mov [S_CUR], esi
    a.b(&[0xBF]).d(DATA_BASE);
    a.b(&[0xB9]).d(DATA_SIZE as u32 / 4);
    a.b(&[0xF3, 0xA5]);
    a.b(&[0x89, 0x35]).d(S_CUR);
    // mov esp, S_HDR+32 ; popfd          (EFLAGS from the header; nothing below writes flags)
    a.b(&[0xBC]).d(S_HDR + 32);
    a.b(&[0x9D]);
    // mov eax, [S_HDR] ; mov r32, [S_HDR + 4*r] for ecx, edx, ebx, ebp, esi, edi ; esp last
    a.b(&[0xA1]).d(S_HDR);
    for r in [1u8, 2, 3, 5, 6, 7, 4] {
        a.b(&[0x8B, 0x05 | (r << 3)]).d(S_HDR + 4 * u32::from(r));
    }
    // jmp [S_HDR+36]
    a.b(&[0xFF, 0x25]).d(S_HDR + 36);

    // Cases come back here.
    let back = a.here();
    // mov [S_OUT], eax ; mov [S_OUT + 4*r], r32 for the others
    a.b(&[0xA3]).d(S_OUT);
    for r in 1u8..8 {
        a.b(&[0x89, 0x05 | (r << 3)]).d(S_OUT + 4 * u32::from(r));
    }
    // mov esp, S_STACK ; pushfd ; pop dword [S_OUT+32]
    a.b(&[0xBC]).d(S_STACK);
    a.b(&[0x9C]);
    a.b(&[0x8F, 0x05]).d(S_OUT + 32);
    // write_all(S_OUT, 36) ; write_all(DATA_BASE, DATA_SIZE)
    a.b(&[0xB9]).d(S_OUT);
    a.b(&[0xBA]).d(36);
    a.rel(&[0xE8], write_all);
    a.b(&[0xB9]).d(DATA_BASE);
    a.b(&[0xBA]).d(DATA_SIZE as u32);
    a.rel(&[0xE8], write_all);
    // dec dword [S_LEFT] ; jmp next
    a.b(&[0xFF, 0x0D]).d(S_LEFT);
    a.rel(&[0xE9], next);

    // done: exit(0)
    a.bind(done);
    a.b(&[0xB8]).d(1);
    a.b(&[0x31, 0xDB]);
    a.b(&[0xCD, 0x80]);

    // write_all: ecx = buffer, edx = length; loops on short writes, exit(3) on error.
    a.bind(write_all);
    a.b(&[0xB8]).d(4); // mov eax, 4 (write)
    a.b(&[0xBB]).d(1); // mov ebx, 1 (stdout)
    a.b(&[0xCD, 0x80]); // int 0x80
    a.b(&[0x85, 0xC0]); // test eax, eax
    a.rel(&[0x0F, 0x8E], fail); // jle fail
    a.b(&[0x01, 0xC1]); // add ecx, eax
    a.b(&[0x29, 0xC2]); // sub edx, eax
    a.rel(&[0x0F, 0x85], write_all); // jnz write_all
    a.b(&[0xC3]); // ret
    a.bind(fail);
    a.b(&[0xB8]).d(1);
    a.b(&[0xBB]).d(3);
    a.b(&[0xCD, 0x80]);

    Ok((a.finish()?, back))
}

/// Builds the executable for `cases`. Each case's `code_addr` must be a distinct slot in
/// the code area and its code at most `MAX_CODE_LEN` bytes.
pub(crate) fn build(cases: &[Case]) -> Result<Vec<u8>, String> {
    if cases.is_empty() {
        return Err("no cases".into());
    }
    let mut lo = u32::MAX;
    let mut hi = 0;
    for c in cases {
        let off = c.code_addr.wrapping_sub(CODE_BASE);
        if c.code_addr < CODE_BASE || off % CASE_SLOT != 0 || c.code_addr >= DATA_BASE - CASE_SLOT {
            return Err(format!(
                "case {}: code_addr {:#x} is not a slot of the code area",
                c.name, c.code_addr
            ));
        }
        if c.code.len() > MAX_CODE_LEN {
            return Err(format!(
                "case {}: {} bytes of code, at most {MAX_CODE_LEN} fit",
                c.name,
                c.code.len()
            ));
        }
        if c.init.mem.len() != DATA_SIZE {
            return Err(format!(
                "case {}: data image is not DATA_SIZE bytes",
                c.name
            ));
        }
        lo = lo.min(c.code_addr);
        hi = hi.max(c.code_addr + CASE_SLOT);
    }
    // The code segment's address must be page-aligned like its file offset.
    lo &= !(PAGE - 1);
    let (runner, back) = runner(cases.len() as u32)?;

    // Code area: int3 filler, each case then `jmp back`.
    let mut code = vec![0xCC; (hi - lo) as usize];
    let mut used = vec![false; ((hi - lo) / CASE_SLOT) as usize];
    for c in cases {
        let slot = ((c.code_addr - lo) / CASE_SLOT) as usize;
        if std::mem::replace(&mut used[slot], true) {
            return Err(format!(
                "two cases share code_addr {:#x} in one batch",
                c.code_addr
            ));
        }
        let at = slot * CASE_SLOT as usize;
        code[at..at + c.code.len()].copy_from_slice(&c.code);
        let jmp_at = c.code_addr + c.code.len() as u32;
        let p = at + c.code.len();
        code[p] = 0xE9;
        code[p + 1..p + 5].copy_from_slice(&back.wrapping_sub(jmp_at + 5).to_le_bytes());
    }

    let mut table = Vec::with_capacity(cases.len() * RECORD_SIZE as usize);
    for c in cases {
        for r in c.init.regs {
            table.extend_from_slice(&r.to_le_bytes());
        }
        table.extend_from_slice(&c.init.eflags.to_le_bytes());
        table.extend_from_slice(&c.code_addr.to_le_bytes());
        table.extend_from_slice(&c.init.mem);
    }

    let segments = [
        Segment {
            vaddr: RUNNER_BASE,
            flags: PF_R | PF_X,
            data: runner,
            mem_size: 0,
        },
        Segment {
            vaddr: SCRATCH_BASE,
            flags: PF_R | PF_W,
            data: Vec::new(),
            mem_size: SCRATCH_SIZE,
        },
        Segment {
            vaddr: lo,
            flags: PF_R | PF_X,
            data: code,
            mem_size: 0,
        },
        Segment {
            vaddr: DATA_BASE,
            flags: PF_R | PF_W,
            data: Vec::new(),
            mem_size: DATA_SIZE as u32,
        },
        Segment {
            vaddr: TABLE_BASE,
            flags: PF_R,
            data: table,
            mem_size: 0,
        },
    ];
    Ok(write_elf(RUNNER_BASE + RUNNER_OFFSET, &segments))
}

/// Lays out an ELF32 executable. The first segment starts at file offset 0 (so it maps the
/// headers) with its data at `RUNNER_OFFSET`; the others follow page-aligned.
fn write_elf(entry: u32, segments: &[Segment]) -> Vec<u8> {
    const EHDR_SIZE: u16 = 52;
    const PHDR_SIZE: u16 = 32;
    let phnum = segments.len() as u16;
    debug_assert!(u32::from(EHDR_SIZE + PHDR_SIZE * phnum) <= RUNNER_OFFSET);

    let mut out = Vec::new();
    // e_ident: magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV
    out.extend_from_slice(&[0x7F, b'E', b'L', b'F', 1, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&2u16.to_le_bytes()); // e_type ET_EXEC
    out.extend_from_slice(&3u16.to_le_bytes()); // e_machine EM_386
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&entry.to_le_bytes()); // e_entry
    out.extend_from_slice(&u32::from(EHDR_SIZE).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&EHDR_SIZE.to_le_bytes());
    out.extend_from_slice(&PHDR_SIZE.to_le_bytes());
    out.extend_from_slice(&phnum.to_le_bytes());
    out.extend_from_slice(&40u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx

    // File offsets: segment 0 at 0 (headers + data at RUNNER_OFFSET), the rest page-aligned.
    let mut offsets = Vec::new();
    let mut pos = RUNNER_OFFSET + segments[0].data.len() as u32;
    offsets.push(0u32);
    for s in &segments[1..] {
        pos = pos.next_multiple_of(PAGE);
        offsets.push(pos);
        pos += s.data.len() as u32;
    }
    for (i, s) in segments.iter().enumerate() {
        let (file_size, vaddr) = if i == 0 {
            (RUNNER_OFFSET + s.data.len() as u32, s.vaddr)
        } else {
            (s.data.len() as u32, s.vaddr)
        };
        let mem_size = file_size.max(s.mem_size);
        for v in [
            1, offsets[i], vaddr, vaddr, file_size, mem_size, s.flags, PAGE,
        ] {
            // p_type PT_LOAD, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
            out.extend_from_slice(&u32::to_le_bytes(v));
        }
    }
    out.resize(RUNNER_OFFSET as usize, 0);
    out.extend_from_slice(&segments[0].data);
    for (i, s) in segments.iter().enumerate().skip(1) {
        out.resize(offsets[i] as usize, 0);
        out.extend_from_slice(&s.data);
    }
    out
}
