//! INT 10h video services for VGA text mode 03h (80x25, 16 colours, 8 pages of 4 KiB at
//! B8000h), after the IBM VGA BIOS as RBIL describes INT 10h: 00h set mode, 01h cursor
//! shape, 02h/03h cursor position, 05h page (0 only), 06h/07h scroll, 08h read, 09h/0Ah
//! write, 0Eh teletype, 0Fh get mode, 12h BL=10h EGA information, 13h write string, 1Ah
//! display combination. Text goes to RAM at B8000h (physical), the cursor and start
//! address to the CRTC through ports 3D4h/3D5h. Every teletype and write-string
//! character is also mirrored to COM1 (the UART's direct console path), so a headless
//! user sees the screen output.

use jit::abi::{EAX, EBP, EBX, ECX, EDX, ES};

use super::bda;
use super::{hi, lin, lo, r16, read8, set_cf, set_hi, set_lo, set_r16, Outcome};
use crate::machine::Machine;

const VRAM: u32 = 0xb8000;
pub const COLS: u32 = 80;
pub const ROWS: u32 = 25;
const PAGE_BYTES: u32 = 0x1000;
const PAGES: u8 = 8;
/// CRTC index/data ports (colour) and registers (IBM VGA Technical Reference).
const CRTC_INDEX: u16 = 0x3d4;
const CRTC_DATA: u16 = 0x3d5;
const CRTC_CURSOR_START: u8 = 0x0a;
const CRTC_CURSOR_END: u8 = 0x0b;
const CRTC_START_HI: u8 = 0x0c;
const CRTC_START_LO: u8 = 0x0d;
const CRTC_CURSOR_HI: u8 = 0x0e;
const CRTC_CURSOR_LO: u8 = 0x0f;

fn bda8(m: &mut Machine, a: u32) -> u8 {
    m.cpu.mmu.phys.read_u8(a)
}

fn set_bda8(m: &mut Machine, a: u32, v: u8) {
    m.cpu.mmu.phys.write_u8(a, v);
}

fn set_bda16(m: &mut Machine, a: u32, v: u16) {
    m.cpu.mmu.phys.write(a, 2, v as u32);
}

fn crtc(m: &mut Machine, reg: u8, v: u8) {
    m.cpu.io.write(CRTC_INDEX, 1, reg as u32);
    m.cpu.io.write(CRTC_DATA, 1, v as u32);
}

fn cell(page: u8, row: u32, col: u32) -> u32 {
    VRAM + (page as u32 % PAGES as u32) * PAGE_BYTES + (row * COLS + col) * 2
}

fn put(m: &mut Machine, page: u8, row: u32, col: u32, ch: u8, attr: Option<u8>) {
    let a = cell(page, row, col);
    m.cpu.mmu.phys.write_u8(a, ch);
    if let Some(attr) = attr {
        m.cpu.mmu.phys.write_u8(a + 1, attr);
    }
}

fn get(m: &mut Machine, page: u8, row: u32, col: u32) -> (u8, u8) {
    let a = cell(page, row, col);
    (m.cpu.mmu.phys.read_u8(a), m.cpu.mmu.phys.read_u8(a + 1))
}

fn active_page(m: &mut Machine) -> u8 {
    bda8(m, bda::VIDEO_PAGE) % PAGES
}

/// (row, column) of the cursor of `page`.
pub fn cursor(m: &mut Machine, page: u8) -> (u32, u32) {
    let a = bda::CURSOR_POS + 2 * (page % PAGES) as u32;
    (bda8(m, a + 1) as u32, bda8(m, a) as u32)
}

fn set_cursor(m: &mut Machine, page: u8, row: u32, col: u32) {
    let page = page % PAGES;
    let (row, col) = (row.min(ROWS - 1), col.min(COLS - 1));
    let a = bda::CURSOR_POS + 2 * page as u32;
    set_bda8(m, a, col as u8);
    set_bda8(m, a + 1, row as u8);
    if page == active_page(m) {
        let pos = page as u32 * PAGE_BYTES / 2 + row * COLS + col;
        crtc(m, CRTC_CURSOR_HI, (pos >> 8) as u8);
        crtc(m, CRTC_CURSOR_LO, pos as u8);
    }
}

/// Sets text mode 03h: the BDA video fields, the CRTC, a cleared screen unless `keep`.
pub fn set_mode3(m: &mut Machine, keep: bool) {
    set_bda8(m, bda::VIDEO_MODE, 0x03);
    set_bda16(m, bda::VIDEO_COLUMNS, COLS as u16);
    set_bda16(m, bda::VIDEO_PAGE_SIZE, PAGE_BYTES as u16);
    set_bda16(m, bda::VIDEO_PAGE_START, 0);
    for p in 0..PAGES as u32 {
        set_bda16(m, bda::CURSOR_POS + 2 * p, 0);
    }
    set_bda16(m, bda::CURSOR_SHAPE, 0x0607);
    set_bda8(m, bda::VIDEO_PAGE, 0);
    set_bda16(m, bda::CRTC_BASE, CRTC_INDEX);
    set_bda8(m, bda::VIDEO_MODE_CTL, 0x29);
    set_bda8(m, bda::VIDEO_PALETTE, 0x30);
    set_bda8(m, bda::VIDEO_ROWS, (ROWS - 1) as u8);
    set_bda16(m, bda::CHAR_HEIGHT, 16);
    set_bda8(m, bda::VIDEO_EGA_MISC, 0x60);
    set_bda8(m, bda::VIDEO_EGA_SWITCHES, 0xf9);
    set_bda8(m, bda::VIDEO_VGA_FLAGS, 0x51);
    if !keep {
        for i in 0..PAGES as u32 * PAGE_BYTES / 2 {
            m.cpu.mmu.phys.write(VRAM + 2 * i, 2, 0x0720);
        }
    }
    crtc(m, CRTC_START_HI, 0);
    crtc(m, CRTC_START_LO, 0);
    crtc(m, CRTC_CURSOR_START, 0x06);
    crtc(m, CRTC_CURSOR_END, 0x07);
    set_cursor(m, 0, 0, 0);
}

/// Scrolls the window (r0,c0)-(r1,c1) of `page` by `lines` (0: clear it), filling with
/// blanks of `attr`.
#[allow(clippy::too_many_arguments)]
fn scroll(
    m: &mut Machine,
    page: u8,
    up: bool,
    lines: u32,
    attr: u8,
    r0: u32,
    c0: u32,
    r1: u32,
    c1: u32,
) {
    let (r1, c1) = (r1.min(ROWS - 1), c1.min(COLS - 1));
    if r0 > r1 || c0 > c1 {
        return;
    }
    let height = r1 - r0 + 1;
    let lines = if lines == 0 || lines > height {
        height
    } else {
        lines
    };
    for i in 0..height {
        let row = if up { r0 + i } else { r1 - i };
        let src = if up {
            row + lines
        } else {
            row.wrapping_sub(lines)
        };
        let inside = if up { src <= r1 } else { lines <= row - r0 };
        for col in c0..=c1 {
            let (ch, a) = if inside {
                get(m, page, src, col)
            } else {
                (b' ', attr)
            };
            put(m, page, row, col, ch, Some(a));
        }
    }
}

/// Writes one character as teletype output at the cursor of `page`: CR, LF, BS and BEL
/// are controls; text wraps at column 80 and scrolls at row 25. `attr` replaces the
/// cell's attribute if given.
fn tty(m: &mut Machine, page: u8, ch: u8, attr: Option<u8>) {
    let (mut row, mut col) = cursor(m, page);
    match ch {
        b'\r' => col = 0,
        b'\n' => row += 1,
        0x08 => col = col.saturating_sub(1),
        0x07 => {}
        _ => {
            put(m, page, row, col, ch, attr);
            col += 1;
            if col >= COLS {
                col = 0;
                row += 1;
            }
        }
    }
    if row >= ROWS {
        // The new line takes the attribute of the character at the cursor.
        let (_, a) = get(m, page, ROWS - 1, col.min(COLS - 1));
        scroll(m, page, true, 1, a, 0, 0, ROWS - 1, COLS - 1);
        row = ROWS - 1;
    }
    set_cursor(m, page, row, col);
    m.board.com[0].borrow_mut().mirror(&[ch]);
}

/// INT 10h.
pub(super) fn int10(m: &mut Machine) -> Outcome {
    let cpu = &m.cpu;
    let (ah, al) = (hi(cpu, EAX), lo(cpu, EAX));
    let (bh, bl) = (hi(cpu, EBX), lo(cpu, EBX));
    let (ch, cl) = (hi(cpu, ECX), lo(cpu, ECX));
    let (dh, dl) = (hi(cpu, EDX), lo(cpu, EDX));
    let cx = r16(cpu, ECX);
    match ah {
        0x00 => match al & 0x7f {
            0x02 | 0x03 => {
                set_mode3(m, al & 0x80 != 0);
                set_lo(&mut m.cpu, EAX, 0x30);
            }
            mode => {
                tracing::debug!(mode, "INT 10h: unsupported video mode");
                set_cf(&mut m.cpu, true);
            }
        },
        0x01 => {
            set_bda16(m, bda::CURSOR_SHAPE, cx);
            crtc(m, CRTC_CURSOR_START, ch & 0x3f);
            crtc(m, CRTC_CURSOR_END, cl & 0x1f);
        }
        0x02 => set_cursor(m, bh, dh as u32, dl as u32),
        0x03 => {
            let (row, col) = cursor(m, bh);
            let shape = m.cpu.mmu.phys.read(bda::CURSOR_SHAPE, 2) as u16;
            let cpu = &mut m.cpu;
            set_r16(cpu, EDX, ((row as u16) << 8) | col as u16);
            set_r16(cpu, ECX, shape);
            set_r16(cpu, EAX, 0);
        }
        // Only page 0 exists for the user (the CRTC start address stays 0).
        0x05 => {
            if al != 0 {
                tracing::debug!(page = al, "INT 10h: display page other than 0 ignored");
            }
        }
        0x06 | 0x07 => {
            let page = active_page(m);
            scroll(
                m,
                page,
                ah == 0x06,
                al as u32,
                bh,
                ch as u32,
                cl as u32,
                dh as u32,
                dl as u32,
            );
        }
        0x08 => {
            let (row, col) = cursor(m, bh);
            let (c, a) = get(m, bh, row, col);
            set_r16(&mut m.cpu, EAX, ((a as u16) << 8) | c as u16);
        }
        0x09 | 0x0a => {
            let (row, col) = cursor(m, bh);
            let start = row * COLS + col;
            let end = (start + cx as u32).min(ROWS * COLS);
            for pos in start..end {
                let attr = (ah == 0x09).then_some(bl);
                put(m, bh, pos / COLS, pos % COLS, al, attr);
            }
        }
        0x0e => {
            let page = active_page(m);
            tty(m, page, al, None);
        }
        0x0f => {
            let mode = bda8(m, bda::VIDEO_MODE);
            let page = active_page(m);
            let cpu = &mut m.cpu;
            set_r16(cpu, EAX, ((COLS as u16) << 8) | mode as u16);
            set_hi(cpu, EBX, page);
        }
        0x12 if bl == 0x10 => {
            // Colour, 256 KiB, feature bits and switches 0.
            let cpu = &mut m.cpu;
            set_r16(cpu, EBX, 0x0003);
            set_r16(cpu, ECX, 0x0009);
        }
        0x13 => write_string(m),
        0x1a => {
            if al <= 1 {
                let cpu = &mut m.cpu;
                set_lo(cpu, EAX, 0x1a);
                if al == 0 {
                    // Active display: VGA with colour analogue monitor; no alternate.
                    set_r16(cpu, EBX, 0x0008);
                }
            }
        }
        _ => tracing::debug!(ah, "INT 10h: function not supported"),
    }
    Outcome::Done
}

/// AH=13h: CX characters from ES:BP at row DH, column DL of page BH; AL bit 0 moves the
/// cursor, bit 1 means the string alternates characters and attributes (else BL).
fn write_string(m: &mut Machine) {
    let cpu = &m.cpu;
    let (al, bh, bl) = (lo(cpu, EAX), hi(cpu, EBX), lo(cpu, EBX));
    let (dh, dl) = (hi(cpu, EDX), lo(cpu, EDX));
    let count = r16(cpu, ECX);
    let mut src = lin(cpu, ES, r16(cpu, EBP));
    let saved = cursor(m, bh);
    set_cursor(m, bh, dh as u32, dl as u32);
    for _ in 0..count {
        let ch = read8(&mut m.cpu, src);
        src = src.wrapping_add(1);
        let attr = if al & 2 != 0 {
            let a = read8(&mut m.cpu, src);
            src = src.wrapping_add(1);
            a
        } else {
            bl
        };
        tty(m, bh, ch, Some(attr));
    }
    if al & 1 == 0 {
        set_cursor(m, bh, saved.0, saved.1);
    }
}
