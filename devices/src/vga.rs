//! A minimal VGA for text mode: the registers a text-mode BIOS and Linux's vgacon
//! program, after the IBM VGA register set as documented in the FreeVGA project's
//! "VGA/SVGA Video Programming" register reference (General, Sequencer, CRT
//! Controller, Graphics Controller, Attribute Controller and DAC registers).
//!
//! Text memory is not part of this device: B8000-BFFFF (and B0000 in mono mode) stays
//! plain guest RAM, and `Vga::text_screen` renders the visible page from it through a
//! memory accessor. Nothing is drawn; the registers are stored, read back, and used to
//! locate the page, its geometry and the cursor.
//!
//! - Misc Output (write 3C2, read 3CC): bit 0 (I/O address select) puts the CRTC at
//!   3D4/3D5 and Input Status 1 / Feature Control at 3DA (colour) or at 3B4/3B5/3BA
//!   (mono); the other block is not decoded.
//! - Input Status 1 (3DA/3BA): bit 0 "display disabled" and bit 3 "vertical retrace"
//!   follow the virtual clock, with the line counts taken from the CRTC and a fixed
//!   31.78 us scan line (the VGA's 31.5 kHz horizontal rate; 449 lines in mode 03h give
//!   70 Hz). Reading it resets the attribute controller's address/data flip-flop.
//! - Attribute Controller (3C0 index/data through the flip-flop, 3C1 data read).
//! - Sequencer (3C4/3C5), Graphics Controller (3CE/3CF), CRTC with the protect bit
//!   (CR11 bit 7: CR00-CR07 read-only except CR07 bit 4).
//! - DAC: pixel mask (3C6), read index / state (3C7), write index (3C8), data (3C9,
//!   three 6-bit components per entry with auto-increment).
//! - Feature Control (write 3DA/3BA, read 3CA), VGA enable (3C3).
//!
//! The device decodes 3B0-3DF; ports there that are not VGA registers (including the
//! MDA printer port 3BC-3BF) read all ones and ignore writes, with a `tracing::debug!`.
//! Power-on values are those of BIOS mode 03h (80x25, 16 colours, 720x400 at 70 Hz).

use std::cell::RefCell;
use std::rc::Rc;

use crate::bus::BusDevice;
use crate::clock::Clock;
use crate::PortBus;

/// First port the device decodes.
pub const PORT_BASE: u16 = 0x3b0;
/// Number of ports decoded (3B0-3DF).
pub const PORT_LEN: u16 = 0x30;

/// CRTC index / data in mono mode.
pub const CRTC_INDEX_MONO: u16 = 0x3b4;
pub const CRTC_DATA_MONO: u16 = 0x3b5;
/// Input Status 1 (read) / Feature Control (write) in mono mode.
pub const STATUS1_MONO: u16 = 0x3ba;
/// Attribute Controller index/data (write), index (read).
pub const ATTR_INDEX: u16 = 0x3c0;
/// Attribute Controller data (read).
pub const ATTR_DATA_READ: u16 = 0x3c1;
/// Misc Output (write) / Input Status 0 (read).
pub const MISC_WRITE: u16 = 0x3c2;
/// VGA enable.
pub const VGA_ENABLE: u16 = 0x3c3;
pub const SEQ_INDEX: u16 = 0x3c4;
pub const SEQ_DATA: u16 = 0x3c5;
pub const DAC_MASK: u16 = 0x3c6;
/// DAC read index (write) / DAC state (read).
pub const DAC_READ_INDEX: u16 = 0x3c7;
pub const DAC_WRITE_INDEX: u16 = 0x3c8;
pub const DAC_DATA: u16 = 0x3c9;
/// Feature Control (read).
pub const FEATURE_READ: u16 = 0x3ca;
/// Misc Output (read).
pub const MISC_READ: u16 = 0x3cc;
pub const GC_INDEX: u16 = 0x3ce;
pub const GC_DATA: u16 = 0x3cf;
/// CRTC index / data in colour mode.
pub const CRTC_INDEX_COLOR: u16 = 0x3d4;
pub const CRTC_DATA_COLOR: u16 = 0x3d5;
/// Input Status 1 (read) / Feature Control (write) in colour mode.
pub const STATUS1_COLOR: u16 = 0x3da;

/// Misc Output bit 0: I/O address select (1: CRTC at 3Dx, 0: at 3Bx).
pub const MISC_IOAS: u8 = 0x01;
/// Input Status 1 bit 0: display disabled (horizontal or vertical blanking).
pub const ST1_DD: u8 = 0x01;
/// Input Status 1 bit 3: vertical retrace.
pub const ST1_VR: u8 = 0x08;
/// Attribute address register bit 5: palette address source.
pub const ATTR_PAS: u8 = 0x20;

/// CRTC registers (FreeVGA names).
pub const CR_HTOTAL: usize = 0x00;
pub const CR_HDISP_END: usize = 0x01;
pub const CR_VTOTAL: usize = 0x06;
pub const CR_OVERFLOW: usize = 0x07;
pub const CR_MAX_SCAN: usize = 0x09;
pub const CR_CURSOR_START: usize = 0x0a;
pub const CR_CURSOR_END: usize = 0x0b;
pub const CR_START_HI: usize = 0x0c;
pub const CR_START_LO: usize = 0x0d;
pub const CR_CURSOR_HI: usize = 0x0e;
pub const CR_CURSOR_LO: usize = 0x0f;
pub const CR_VRETRACE_START: usize = 0x10;
pub const CR_VRETRACE_END: usize = 0x11;
pub const CR_VDISP_END: usize = 0x12;
pub const CR_OFFSET: usize = 0x13;
/// CR11 bit 7: CR00-CR07 write protect.
pub const CR11_PROTECT: u8 = 0x80;
/// CR07 bit 4 (line compare bit 8) stays writable under the protect bit.
pub const CR07_LINE_COMPARE_8: u8 = 0x10;
/// CR0A bit 5: cursor disable.
pub const CR0A_CURSOR_DISABLE: u8 = 0x20;

/// Graphics Controller register 6 (Miscellaneous Graphics): memory map select.
pub const GR_MISC: usize = 0x06;

const SEQ_COUNT: usize = 5;
const CRTC_COUNT: usize = 0x19;
const GC_COUNT: usize = 9;
const ATTR_COUNT: usize = 0x15;

/// One scan line: 900 dots of the 28.322 MHz clock (or 800 of 25.175 MHz), 31.78 us.
pub const LINE_NS: u64 = 31_778;

/// Mode 03h power-on values (IBM VGA BIOS mode table for 80x25 colour text).
const MISC_MODE3: u8 = 0x67;
const SEQ_MODE3: [u8; SEQ_COUNT] = [0x03, 0x00, 0x03, 0x00, 0x02];
const CRTC_MODE3: [u8; CRTC_COUNT] = [
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
];
const GC_MODE3: [u8; GC_COUNT] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff];
const ATTR_MODE3: [u8; ATTR_COUNT] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x0c, 0x00, 0x0f, 0x08, 0x00,
];

/// The VGA register file. Register it with `register`.
pub struct Vga {
    clock: Clock,
    misc: u8,
    feature: u8,
    enable: u8,
    seq_index: u8,
    seq: [u8; SEQ_COUNT],
    gc_index: u8,
    gc: [u8; GC_COUNT],
    crtc_index: u8,
    crtc: [u8; CRTC_COUNT],
    /// Attribute address register (index in bits 4-0, PAS in bit 5).
    attr_index: u8,
    /// The attribute flip-flop: true when the next 3C0 write is data.
    attr_data_next: bool,
    attr: [u8; ATTR_COUNT],
    dac_mask: u8,
    dac: [[u8; 3]; 256],
    dac_read_index: u8,
    dac_write_index: u8,
    /// Which of red, green, blue the next 3C9 access moves.
    dac_component: u8,
    /// DAC state (3C7 read): 0 after a write index was set, 3 after a read index.
    dac_state: u8,
}

impl Vga {
    /// A VGA in mode 03h, as a VGA BIOS leaves it.
    pub fn new(clock: Clock) -> Self {
        let mut v = Self {
            clock,
            misc: 0,
            feature: 0,
            enable: 0,
            seq_index: 0,
            seq: [0; SEQ_COUNT],
            gc_index: 0,
            gc: [0; GC_COUNT],
            crtc_index: 0,
            crtc: [0; CRTC_COUNT],
            attr_index: 0,
            attr_data_next: false,
            attr: [0; ATTR_COUNT],
            dac_mask: 0,
            dac: [[0; 3]; 256],
            dac_read_index: 0,
            dac_write_index: 0,
            dac_component: 0,
            dac_state: 0,
        };
        v.reset();
        v
    }

    /// Back to mode 03h: every register, the flip-flop and the DAC. The first 64 DAC
    /// entries hold the EGA colours (entry bits 5-0 = rgbRGB, secondary = 1/3
    /// intensity, primary = 2/3), the rest are black.
    pub fn reset(&mut self) {
        self.misc = MISC_MODE3;
        self.feature = 0;
        self.enable = 0x01;
        self.seq_index = 0;
        self.seq = SEQ_MODE3;
        self.gc_index = 0;
        self.gc = GC_MODE3;
        self.crtc_index = 0;
        self.crtc = CRTC_MODE3;
        self.attr_index = ATTR_PAS;
        self.attr_data_next = false;
        self.attr = ATTR_MODE3;
        self.dac_mask = 0xff;
        self.dac = [[0; 3]; 256];
        for (i, e) in self.dac.iter_mut().take(64).enumerate() {
            let c = |primary: usize, secondary: usize| {
                (((i >> primary) & 1) * 42 + ((i >> secondary) & 1) * 21) as u8
            };
            *e = [c(2, 5), c(1, 4), c(0, 3)];
        }
        self.dac_read_index = 0;
        self.dac_write_index = 0;
        self.dac_component = 0;
        self.dac_state = 0;
    }

    /// Creates a shared VGA and registers it on 3B0-3DF.
    pub fn register(ports: &mut PortBus, clock: Clock) -> Rc<RefCell<Vga>> {
        let vga = Rc::new(RefCell::new(Vga::new(clock)));
        ports.register(PORT_BASE, PORT_LEN, vga.clone());
        vga
    }

    /// True when the CRTC answers at 3Dx (colour), false at 3Bx (mono).
    pub fn colour(&self) -> bool {
        self.misc & MISC_IOAS != 0
    }

    /// The CRTC start address (CR0C:CR0D), in character cells.
    pub fn start_address(&self) -> u16 {
        u16::from_be_bytes([self.crtc[CR_START_HI], self.crtc[CR_START_LO]])
    }

    /// The cursor location register (CR0E:CR0F), in character cells.
    pub fn cursor_address(&self) -> u16 {
        u16::from_be_bytes([self.crtc[CR_CURSOR_HI], self.crtc[CR_CURSOR_LO]])
    }

    /// The cursor's (row, column) on the visible page: its location relative to the
    /// start address, split by the line stride. A cursor before the start address
    /// wraps (as the 16-bit CRTC address counter does) and lands off-screen.
    pub fn cursor(&self) -> (u16, u16) {
        let stride = self.geometry().2;
        let off = self.cursor_address().wrapping_sub(self.start_address()) as u32;
        ((off / stride) as u16, (off % stride) as u16)
    }

    /// Whether the cursor is shown (CR0A bit 5 clear).
    pub fn cursor_enabled(&self) -> bool {
        self.crtc[CR_CURSOR_START] & CR0A_CURSOR_DISABLE == 0
    }

    /// (columns, rows, line stride in cells) of the text page, from the CRTC:
    /// columns = CR01 + 1; rows = displayed scan lines / character height; stride =
    /// 2 x CR13 (the offset register counts words in text mode), or the column count
    /// if CR13 is 0. Mode 03h gives (80, 25, 80).
    pub fn geometry(&self) -> (u32, u32, u32) {
        let cols = self.crtc[CR_HDISP_END] as u32 + 1;
        let mut char_height = (self.crtc[CR_MAX_SCAN] & 0x1f) as u32 + 1;
        if self.crtc[CR_MAX_SCAN] & 0x80 != 0 {
            char_height *= 2; // scan doubling
        }
        let rows = (self.vdisp_lines() / char_height).clamp(1, 128);
        let stride = match self.crtc[CR_OFFSET] as u32 * 2 {
            0 => cols,
            s => s,
        };
        (cols, rows, stride)
    }

    /// Displayed scan lines: vertical display end (CR12, CR07 bits 1 and 6) + 1.
    fn vdisp_lines(&self) -> u32 {
        let ov = self.crtc[CR_OVERFLOW] as u32;
        (self.crtc[CR_VDISP_END] as u32 | (ov & 0x02) << 7 | (ov & 0x40) << 3) + 1
    }

    /// Scan lines per frame: vertical total (CR06, CR07 bits 0 and 5) + 2.
    fn total_lines(&self) -> u32 {
        let ov = self.crtc[CR_OVERFLOW] as u32;
        (self.crtc[CR_VTOTAL] as u32 | (ov & 0x01) << 8 | (ov & 0x20) << 4) + 2
    }

    /// First line of vertical retrace (CR10, CR07 bits 2 and 7) and its length: the
    /// retrace ends when the line counter's low 4 bits equal CR11 bits 3-0.
    fn vretrace(&self) -> (u32, u32) {
        let ov = self.crtc[CR_OVERFLOW] as u32;
        let start = self.crtc[CR_VRETRACE_START] as u32 | (ov & 0x04) << 6 | (ov & 0x80) << 2;
        let end = (self.crtc[CR_VRETRACE_END] & 0x0f) as u32;
        let len = match end.wrapping_sub(start) & 0x0f {
            0 => 16,
            n => n,
        };
        (start, len)
    }

    /// Input Status 1 bits 0 and 3 at the current virtual time.
    fn status1(&self) -> u8 {
        let total = self.total_lines().max(1) as u64;
        let pos = self.clock.now() % (total * LINE_NS);
        let line = (pos / LINE_NS) as u32;
        let dot = pos % LINE_NS;
        let htotal = self.crtc[CR_HTOTAL] as u64 + 5;
        let hdisp = (self.crtc[CR_HDISP_END] as u64 + 1).min(htotal);
        let h_blank = dot * htotal >= hdisp * LINE_NS;
        let (vr_start, vr_len) = self.vretrace();
        let mut st = 0;
        if h_blank || line >= self.vdisp_lines() {
            st |= ST1_DD;
        }
        if line >= vr_start && line < vr_start + vr_len {
            st |= ST1_VR;
        }
        st
    }

    /// Renders the visible text page as UTF-8: one line per row, each ended by '\n',
    /// all rows kept (so line N of the result is screen row N), trailing spaces of each
    /// row trimmed. Characters are the even bytes of the page at `base + 2 x (start
    /// address + cell)`, wrapping within the memory window that GR06 selects (B8000 or
    /// B0000, 32 KiB; A0000 otherwise), mapped from code page 437 (NUL and FF give a
    /// space). `mem` reads one byte of guest physical memory.
    pub fn text_screen(&self, mem: &dyn Fn(u32) -> u8) -> String {
        let (base, window) = self.text_window();
        let (cols, rows, stride) = self.geometry();
        let start = self.start_address() as u32;
        let mut out = String::with_capacity((cols as usize + 1) * rows as usize);
        for row in 0..rows {
            let line_start = out.len();
            for col in 0..cols {
                let cell = start + row * stride + col;
                out.push(cp437(mem(base + (cell * 2) % window)));
            }
            let trimmed = out[line_start..].trim_end_matches(' ').len();
            out.truncate(line_start + trimmed);
            out.push('\n');
        }
        out
    }

    /// The physical base and size of the memory window GR06 bits 3-2 select.
    fn text_window(&self) -> (u32, u32) {
        match (self.gc[GR_MISC] >> 2) & 3 {
            0 => (0xa_0000, 0x2_0000),
            1 => (0xa_0000, 0x1_0000),
            2 => (0xb_0000, 0x8000),
            _ => (0xb_8000, 0x8000),
        }
    }

    fn read_byte(&mut self, port: u16) -> u8 {
        let colour = self.colour();
        match port {
            CRTC_INDEX_MONO if !colour => self.crtc_index,
            CRTC_INDEX_COLOR if colour => self.crtc_index,
            CRTC_DATA_MONO if !colour => self.crtc_read(),
            CRTC_DATA_COLOR if colour => self.crtc_read(),
            STATUS1_MONO if !colour => self.read_status1(),
            STATUS1_COLOR if colour => self.read_status1(),
            ATTR_INDEX => self.attr_index,
            ATTR_DATA_READ => match self.attr.get((self.attr_index & 0x1f) as usize) {
                Some(&v) => v,
                None => self.unknown_register("attribute", self.attr_index),
            },
            // Input Status 0: no switch sense, no CRT interrupt.
            MISC_WRITE => 0,
            VGA_ENABLE => self.enable,
            SEQ_INDEX => self.seq_index,
            SEQ_DATA => match self.seq.get(self.seq_index as usize) {
                Some(&v) => v,
                None => self.unknown_register("sequencer", self.seq_index),
            },
            DAC_MASK => self.dac_mask,
            DAC_READ_INDEX => self.dac_state,
            DAC_WRITE_INDEX => self.dac_write_index,
            DAC_DATA => {
                let v = self.dac[self.dac_read_index as usize][self.dac_component as usize % 3];
                if self.next_component() {
                    self.dac_read_index = self.dac_read_index.wrapping_add(1);
                }
                v
            }
            FEATURE_READ => self.feature,
            MISC_READ => self.misc,
            GC_INDEX => self.gc_index,
            GC_DATA => match self.gc.get(self.gc_index as usize) {
                Some(&v) => v,
                None => self.unknown_register("graphics", self.gc_index),
            },
            _ => {
                tracing::debug!(port, "vga: read from an undecoded port");
                0xff
            }
        }
    }

    fn write_byte(&mut self, port: u16, v: u8) {
        let colour = self.colour();
        match port {
            CRTC_INDEX_MONO if !colour => self.crtc_index = v,
            CRTC_INDEX_COLOR if colour => self.crtc_index = v,
            CRTC_DATA_MONO if !colour => self.crtc_write(v),
            CRTC_DATA_COLOR if colour => self.crtc_write(v),
            STATUS1_MONO if !colour => self.feature = v,
            STATUS1_COLOR if colour => self.feature = v,
            ATTR_INDEX => {
                if self.attr_data_next {
                    match self.attr.get_mut((self.attr_index & 0x1f) as usize) {
                        Some(r) => *r = v,
                        None => {
                            tracing::debug!(
                                index = self.attr_index,
                                v,
                                "vga: unknown attribute register"
                            )
                        }
                    }
                } else {
                    self.attr_index = v & 0x3f;
                }
                self.attr_data_next = !self.attr_data_next;
            }
            MISC_WRITE => self.misc = v,
            VGA_ENABLE => self.enable = v & 0x01,
            SEQ_INDEX => self.seq_index = v,
            SEQ_DATA => match self.seq.get_mut(self.seq_index as usize) {
                Some(r) => *r = v,
                None => {
                    tracing::debug!(index = self.seq_index, v, "vga: unknown sequencer register")
                }
            },
            DAC_MASK => self.dac_mask = v,
            DAC_READ_INDEX => {
                self.dac_read_index = v;
                self.dac_component = 0;
                self.dac_state = 3;
            }
            DAC_WRITE_INDEX => {
                self.dac_write_index = v;
                self.dac_component = 0;
                self.dac_state = 0;
            }
            DAC_DATA => {
                self.dac[self.dac_write_index as usize][self.dac_component as usize % 3] = v & 0x3f;
                if self.next_component() {
                    self.dac_write_index = self.dac_write_index.wrapping_add(1);
                }
            }
            GC_INDEX => self.gc_index = v,
            GC_DATA => match self.gc.get_mut(self.gc_index as usize) {
                Some(r) => *r = v,
                None => tracing::debug!(index = self.gc_index, v, "vga: unknown graphics register"),
            },
            _ => tracing::debug!(port, v, "vga: write to an undecoded port"),
        }
    }

    /// Steps the DAC component counter; true when a whole entry has been moved.
    fn next_component(&mut self) -> bool {
        self.dac_component = (self.dac_component + 1) % 3;
        self.dac_component == 0
    }

    fn read_status1(&mut self) -> u8 {
        self.attr_data_next = false;
        self.status1()
    }

    fn crtc_read(&self) -> u8 {
        match self.crtc.get(self.crtc_index as usize) {
            Some(&v) => v,
            None => self.unknown_register("CRTC", self.crtc_index),
        }
    }

    fn crtc_write(&mut self, v: u8) {
        let index = self.crtc_index as usize;
        let protect = self.crtc[CR_VRETRACE_END] & CR11_PROTECT != 0;
        match self.crtc.get_mut(index) {
            Some(r) if protect && index == CR_OVERFLOW => {
                *r = (*r & !CR07_LINE_COMPARE_8) | (v & CR07_LINE_COMPARE_8);
            }
            Some(_) if protect && index < CR_OVERFLOW => {
                tracing::debug!(index, v, "vga: CRTC write dropped (CR11 protect)");
            }
            Some(r) => *r = v,
            None => tracing::debug!(index, v, "vga: unknown CRTC register"),
        }
    }

    fn unknown_register(&self, block: &str, index: u8) -> u8 {
        tracing::debug!(block, index, "vga: read of an unknown register");
        0xff
    }
}

impl BusDevice for Vga {
    /// Wider accesses are byte accesses to consecutive ports (`out dx, ax` to 3D4
    /// writes the index, then the data).
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        (0..size.min(4) as u32).fold(0, |acc, i| {
            let port = (PORT_BASE as u32 + offset + i) as u16;
            acc | (self.read_byte(port) as u32) << (8 * i)
        })
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        for i in 0..size.min(4) as u32 {
            let port = (PORT_BASE as u32 + offset + i) as u16;
            self.write_byte(port, (value >> (8 * i)) as u8);
        }
    }

    fn name(&self) -> &str {
        "vga"
    }
}

/// Code page 437 as the VGA's ROM font draws it, to Unicode: the graphic characters
/// for 01-1F and 7F, the accented letters, box drawing, Greek and maths for 80-FE
/// (the Unicode Consortium's mapping of the IBM PC character set). NUL and FF (a
/// non-breaking space) give a plain space.
pub fn cp437(b: u8) -> char {
    const LOW: [char; 32] = [
        ' ', '☺', '☻', '♥', '♦', '♣', '♠', '•', '◘', '○', '◙', '♂', '♀', '♪', '♫', '☼', '►', '◄',
        '↕', '‼', '¶', '§', '▬', '↨', '↑', '↓', '→', '←', '∟', '↔', '▲', '▼',
    ];
    const HIGH: [char; 128] = [
        'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
        'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
        'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
        '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
        '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
        '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
        'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
        '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', ' ', //
    ];
    match b {
        0x00..=0x1f => LOW[b as usize],
        0x7f => '⌂',
        0x20..=0x7e => b as char,
        0x80..=0xff => HIGH[(b - 0x80) as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vga() -> (Vga, Clock) {
        let clock = Clock::new();
        (Vga::new(clock.clone()), clock)
    }

    fn out(v: &mut Vga, port: u16, value: u8) {
        v.write((port - PORT_BASE) as u32, 1, value as u32);
    }

    fn inb(v: &mut Vga, port: u16) -> u8 {
        v.read((port - PORT_BASE) as u32, 1) as u8
    }

    #[test]
    fn power_on_is_mode_03h() {
        let (mut v, _) = vga();
        assert_eq!(inb(&mut v, MISC_READ), 0x67);
        assert!(v.colour());
        assert_eq!(v.geometry(), (80, 25, 80));
        out(&mut v, CRTC_INDEX_COLOR, 0x0a);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x0d, "cursor start line 13");
        out(&mut v, CRTC_INDEX_COLOR, 0x0b);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x0e, "cursor end line 14");
        out(&mut v, SEQ_INDEX, 4);
        assert_eq!(inb(&mut v, SEQ_DATA), 0x02);
        out(&mut v, GC_INDEX, 6);
        assert_eq!(inb(&mut v, GC_DATA), 0x0e, "B8000 window, odd/even");
        assert_eq!(inb(&mut v, DAC_MASK), 0xff);
        assert!(v.cursor_enabled());
        assert_eq!(v.cursor(), (0, 0));
    }

    #[test]
    fn attribute_flip_flop_alternates_index_and_data() {
        let (mut v, _) = vga();
        inb(&mut v, STATUS1_COLOR); // flip-flop to index
        out(&mut v, ATTR_INDEX, 0x10);
        out(&mut v, ATTR_INDEX, 0x08); // data: mode control
        assert_eq!(inb(&mut v, ATTR_INDEX), 0x10, "index reads back at 3C0");
        assert_eq!(inb(&mut v, ATTR_DATA_READ), 0x08);
        // The next write is an index again; bit 5 (PAS) is kept with it.
        out(&mut v, ATTR_INDEX, 0x20 | 0x11);
        assert_eq!(inb(&mut v, ATTR_INDEX), 0x31);
        out(&mut v, ATTR_INDEX, 0x05); // overscan = 5
        assert_eq!(inb(&mut v, ATTR_DATA_READ), 0x05);
        // Reading status 1 mid-pair resets the flip-flop: 0x12 goes to the index.
        out(&mut v, ATTR_INDEX, 0x12);
        inb(&mut v, STATUS1_COLOR);
        out(&mut v, ATTR_INDEX, 0x13);
        assert_eq!(inb(&mut v, ATTR_INDEX), 0x13);
        assert_eq!(inb(&mut v, ATTR_DATA_READ), 0x08, "pel panning untouched");
        out(&mut v, ATTR_INDEX, 0x04);
        assert_eq!(inb(&mut v, ATTR_DATA_READ), 0x04);
        out(&mut v, ATTR_INDEX, 0x12);
        assert_eq!(inb(&mut v, ATTR_DATA_READ), 0x0f, "plane enable untouched");
        // A status read on the mono port does not touch the flip-flop in colour mode.
        out(&mut v, ATTR_INDEX, 0x01); // data write; now at index
        out(&mut v, ATTR_INDEX, 0x11); // index
        assert_eq!(
            inb(&mut v, STATUS1_MONO),
            0xff,
            "not decoded in colour mode"
        );
        out(&mut v, ATTR_INDEX, 0x09); // still data
        assert_eq!(inb(&mut v, ATTR_DATA_READ), 0x09);
        assert_eq!(inb(&mut v, ATTR_INDEX), 0x11);
    }

    #[test]
    fn crtc_index_data_and_protect_bit() {
        let (mut v, _) = vga();
        // Mode 03h leaves CR11 bit 7 set: CR00-CR06 ignore writes.
        out(&mut v, CRTC_INDEX_COLOR, 0x01);
        out(&mut v, CRTC_DATA_COLOR, 0x27);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x4f);
        assert_eq!(inb(&mut v, CRTC_INDEX_COLOR), 0x01);
        // CR07: only bit 4 (line compare bit 8) is writable.
        out(&mut v, CRTC_INDEX_COLOR, 0x07);
        out(&mut v, CRTC_DATA_COLOR, 0x00);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x0f);
        out(&mut v, CRTC_DATA_COLOR, 0xff);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x1f);
        // Clearing CR11 bit 7 unlocks them.
        out(&mut v, CRTC_INDEX_COLOR, 0x11);
        out(&mut v, CRTC_DATA_COLOR, 0x0e);
        out(&mut v, CRTC_INDEX_COLOR, 0x01);
        out(&mut v, CRTC_DATA_COLOR, 0x27);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x27);
        assert_eq!(v.geometry().0, 40);
        out(&mut v, CRTC_INDEX_COLOR, 0x07);
        out(&mut v, CRTC_DATA_COLOR, 0x0f);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x0f);
        // Registers past CR18 do not exist.
        out(&mut v, CRTC_INDEX_COLOR, 0x30);
        out(&mut v, CRTC_DATA_COLOR, 0x12);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0xff);
    }

    #[test]
    fn start_address_and_cursor_registers() {
        let (mut v, _) = vga();
        // A 16-bit OUT writes index then data (index in AL, data in AH).
        v.write((CRTC_INDEX_COLOR - PORT_BASE) as u32, 2, 0x0f_0e);
        v.write((CRTC_INDEX_COLOR - PORT_BASE) as u32, 2, 0xa5_0f);
        assert_eq!(v.cursor_address(), 0x0fa5);
        assert_eq!(v.cursor(), (0x0fa5 / 80, 0x0fa5 % 80));
        out(&mut v, CRTC_INDEX_COLOR, 0x0c);
        out(&mut v, CRTC_DATA_COLOR, 0x00);
        out(&mut v, CRTC_INDEX_COLOR, 0x0d);
        out(&mut v, CRTC_DATA_COLOR, 0xa0);
        assert_eq!(v.start_address(), 160);
        assert_eq!(v.cursor(), ((0x0fa5 - 160) / 80, (0x0fa5 - 160) % 80));
        out(&mut v, CRTC_INDEX_COLOR, 0x0e);
        assert_eq!(inb(&mut v, CRTC_DATA_COLOR), 0x0f);
        // A 16-bit IN from 3D4 reads the index and the data.
        assert_eq!(v.read((CRTC_INDEX_COLOR - PORT_BASE) as u32, 2), 0x0f_0e);
        out(&mut v, CRTC_INDEX_COLOR, 0x0a);
        out(&mut v, CRTC_DATA_COLOR, 0x20);
        assert!(!v.cursor_enabled());
    }

    #[test]
    fn retrace_bits_follow_the_clock_at_70hz() {
        let (mut v, clock) = vga();
        let frame = 449 * LINE_NS;
        assert!((69.9..70.2).contains(&(1e9 / frame as f64)));
        assert_eq!(inb(&mut v, STATUS1_COLOR) & (ST1_DD | ST1_VR), 0, "active");
        clock.set(LINE_NS * 9 / 10);
        assert_eq!(inb(&mut v, STATUS1_COLOR), ST1_DD, "horizontal blanking");
        clock.set(LINE_NS * 400 + 10);
        assert_eq!(inb(&mut v, STATUS1_COLOR), ST1_DD, "vertical blanking");
        clock.set(LINE_NS * 412 + 10);
        assert_eq!(inb(&mut v, STATUS1_COLOR), ST1_DD | ST1_VR, "retrace");
        clock.set(LINE_NS * 413 + 10);
        assert_eq!(inb(&mut v, STATUS1_COLOR) & ST1_VR, ST1_VR);
        clock.set(LINE_NS * 414 + 10);
        assert_eq!(
            inb(&mut v, STATUS1_COLOR) & ST1_VR,
            0,
            "two lines of retrace"
        );
        clock.set(frame + 10);
        assert_eq!(inb(&mut v, STATUS1_COLOR), 0, "next frame");
        // A guest polling for retrace start then end, 10 ns per poll, finishes.
        let (mut edges, mut last) = (0, false);
        for _ in 0..4_000_000 {
            clock.advance(10);
            let vr = inb(&mut v, STATUS1_COLOR) & ST1_VR != 0;
            if vr != last {
                edges += 1;
                last = vr;
            }
        }
        // From 14.27 ms: retrace at +13.09 ms and +27.36 ms (+41.6 ms is past the end).
        assert_eq!(edges, 4, "40 ms: two retraces, each rising and falling");
    }

    #[test]
    fn mono_and_colour_port_switching() {
        let (mut v, clock) = vga();
        out(&mut v, CRTC_INDEX_COLOR, 0x0f);
        out(&mut v, CRTC_DATA_COLOR, 0x42);
        assert_eq!(inb(&mut v, CRTC_INDEX_MONO), 0xff, "3B4 not decoded");
        out(&mut v, CRTC_DATA_MONO, 0x99);
        out(&mut v, MISC_WRITE, 0x66); // I/OAS = 0: mono
        assert!(!v.colour());
        assert_eq!(inb(&mut v, MISC_READ), 0x66);
        assert_eq!(inb(&mut v, CRTC_INDEX_COLOR), 0xff, "3D4 not decoded");
        assert_eq!(inb(&mut v, STATUS1_COLOR), 0xff);
        assert_eq!(inb(&mut v, CRTC_INDEX_MONO), 0x0f, "same registers at 3B4");
        assert_eq!(inb(&mut v, CRTC_DATA_MONO), 0x42);
        clock.set(LINE_NS * 412 + 10);
        assert_eq!(inb(&mut v, STATUS1_MONO), ST1_DD | ST1_VR);
        // Feature control: written at 3BA in mono mode, read at 3CA.
        out(&mut v, STATUS1_MONO, 0x03);
        out(&mut v, STATUS1_COLOR, 0x08);
        assert_eq!(inb(&mut v, FEATURE_READ), 0x03);
        out(&mut v, MISC_WRITE, 0x67);
        out(&mut v, STATUS1_COLOR, 0x01);
        assert_eq!(inb(&mut v, FEATURE_READ), 0x01);
        assert_eq!(inb(&mut v, 0x3b0), 0xff, "undecoded port");
    }

    #[test]
    fn dac_storage_and_auto_increment() {
        let (mut v, _) = vga();
        assert_eq!(v.dac[7], [42, 42, 42], "EGA light grey");
        assert_eq!(v.dac[0x3f], [63, 63, 63]);
        assert_eq!(v.dac[0x14], [42, 21, 0], "EGA brown");
        out(&mut v, DAC_WRITE_INDEX, 0xff);
        for c in [1, 2, 0xff, 4, 5, 6] {
            out(&mut v, DAC_DATA, c);
        }
        assert_eq!(inb(&mut v, DAC_WRITE_INDEX), 1, "wrapped past 255");
        assert_eq!(inb(&mut v, DAC_READ_INDEX), 0, "write mode");
        out(&mut v, DAC_READ_INDEX, 0xff);
        assert_eq!(inb(&mut v, DAC_READ_INDEX), 3, "read mode");
        let got: Vec<u8> = (0..6).map(|_| inb(&mut v, DAC_DATA)).collect();
        assert_eq!(got, [1, 2, 0x3f, 4, 5, 6], "6-bit components");
        out(&mut v, DAC_MASK, 0x0f);
        assert_eq!(inb(&mut v, DAC_MASK), 0x0f);
        v.reset();
        assert_eq!(v.dac[0], [0, 0, 0]);
        assert_eq!(inb(&mut v, DAC_MASK), 0xff);
    }

    fn screen_mem(cells: &[(u32, u8)]) -> impl Fn(u32) -> u8 + '_ {
        move |addr| {
            cells
                .iter()
                .rev()
                .find(|(a, _)| *a == addr)
                .map_or(0, |&(_, b)| b)
        }
    }

    #[test]
    fn renders_the_page_with_cp437() {
        let (v, _) = vga();
        let base = 0xb8000;
        let mut cells = vec![];
        for (i, b) in b"Hi".iter().enumerate() {
            cells.push((base + 2 * i as u32, *b));
            cells.push((base + 2 * i as u32 + 1, 0x07)); // attributes are not text
        }
        // Row 1: a box corner, a block, pi, a smiley and a trailing space.
        for (i, b) in [0xc9u8, 0xdb, 0xe3, 0x01, 0x20].iter().enumerate() {
            cells.push((base + 160 + 2 * i as u32, *b));
        }
        cells.push((base + 2 * (24 * 80 + 79), b'Z'));
        let text = v.text_screen(&screen_mem(&cells));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 25, "every row is kept");
        assert_eq!(lines[0], "Hi");
        assert_eq!(lines[1], "╔█π☺");
        assert_eq!(lines[2], "", "NUL cells are spaces, trimmed");
        assert_eq!(lines[24], format!("{}Z", " ".repeat(79)));
        assert!(text.ends_with("Z\n"));
        assert_eq!(cp437(b'~'), '~');
        assert_eq!(cp437(0x7f), '⌂');
        assert_eq!(cp437(0xb3), '│');
        assert_eq!(cp437(0xff), ' ');
    }

    #[test]
    fn rendering_follows_start_address_and_wraps() {
        let (mut v, _) = vga();
        // Start at cell 16383 - 39: row 0 runs off the end of the 32 KiB window.
        let start: u16 = 0x3fff - 39;
        out(&mut v, CRTC_INDEX_COLOR, 0x0c);
        out(&mut v, CRTC_DATA_COLOR, (start >> 8) as u8);
        out(&mut v, CRTC_INDEX_COLOR, 0x0d);
        out(&mut v, CRTC_DATA_COLOR, start as u8);
        let cells = [
            (0xb8000 + 2 * start as u32, b'A'),
            (0xb8000 + 0x7ffe, b'B'),
            (0xb8000, b'C'), // cell 16384 wraps to the window start
            (0xb8000 + 2 * 39, b'D'),
        ];
        let text = v.text_screen(&screen_mem(&cells));
        let row0 = text.lines().next().unwrap_or_default();
        assert_eq!(row0, format!("A{}BC{}D", " ".repeat(38), " ".repeat(38)));
        // Mono mode's window (GR06 memory map 2) is B0000.
        out(&mut v, GC_INDEX, 6);
        out(&mut v, GC_DATA, 0x0a);
        out(&mut v, CRTC_INDEX_COLOR, 0x0c);
        out(&mut v, CRTC_DATA_COLOR, 0);
        out(&mut v, CRTC_INDEX_COLOR, 0x0d);
        out(&mut v, CRTC_DATA_COLOR, 0);
        let text = v.text_screen(&screen_mem(&[(0xb0000, b'M'), (0xb8000, b'X')]));
        assert!(text.starts_with("M\n"), "{text:?}");
    }
}
