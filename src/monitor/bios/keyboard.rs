//! The keyboard: INT 09h scan-code translation into the BIOS key buffer, and INT 16h.
//!
//! Scan codes are set 1 (the i8042 translates). Key codes follow the IBM PC AT BIOS
//! tables (RBIL INT 16h, table 00006, US layout): AH = scan code (or the extended code
//! for F-keys and Alt combinations), AL = ASCII. Shift state lives in the BIOS data area
//! (0417h/0418h), the 16-word ring buffer at 041Eh-043Dh (head 041Ah, tail 041Ch).
//! Bytes arriving on COM1 are keys too: INT 16h moves them into the buffer first, so a
//! headless user can type at a boot loader.

use jit::abi::{EAX, EBX, ECX};

use super::bda;
use super::{hi, lo, r16, set_caller_flag, set_lo, set_r16, Outcome};
use crate::cpu::flags;
use crate::machine::Machine;

// Shift flags at 0417h.
const RSHIFT: u8 = 0x01;
const LSHIFT: u8 = 0x02;
const CTRL: u8 = 0x04;
const ALT: u8 = 0x08;
const SCROLL_ON: u8 = 0x10;
const NUM_ON: u8 = 0x20;
const CAPS_ON: u8 = 0x40;
const INSERT_ON: u8 = 0x80;
// Flags at 0418h: keys held.
const SCROLL_HELD: u8 = 0x10;
const NUM_HELD: u8 = 0x20;
const CAPS_HELD: u8 = 0x40;
/// 0496h bit 1: the last code was the E0h prefix.
const MODE_E0: u8 = 0x02;

/// Non-letter keys: (scan code, normal, shift, ctrl, alt); 0 = no key code.
const KEYS: &[(u8, u16, u16, u16, u16)] = &[
    (0x01, 0x011b, 0x011b, 0x011b, 0x0100),
    (0x02, 0x0231, 0x0221, 0, 0x7800),
    (0x03, 0x0332, 0x0340, 0x0300, 0x7900),
    (0x04, 0x0433, 0x0423, 0, 0x7a00),
    (0x05, 0x0534, 0x0524, 0, 0x7b00),
    (0x06, 0x0635, 0x0625, 0, 0x7c00),
    (0x07, 0x0736, 0x075e, 0x071e, 0x7d00),
    (0x08, 0x0837, 0x0826, 0, 0x7e00),
    (0x09, 0x0938, 0x092a, 0, 0x7f00),
    (0x0a, 0x0a39, 0x0a28, 0, 0x8000),
    (0x0b, 0x0b30, 0x0b29, 0, 0x8100),
    (0x0c, 0x0c2d, 0x0c5f, 0x0c1f, 0x8200),
    (0x0d, 0x0d3d, 0x0d2b, 0, 0x8300),
    (0x0e, 0x0e08, 0x0e08, 0x0e7f, 0x0e00),
    (0x0f, 0x0f09, 0x0f00, 0x9400, 0xa500),
    (0x1a, 0x1a5b, 0x1a7b, 0x1a1b, 0x1a00),
    (0x1b, 0x1b5d, 0x1b7d, 0x1b1d, 0x1b00),
    (0x1c, 0x1c0d, 0x1c0d, 0x1c0a, 0xa600),
    (0x27, 0x273b, 0x273a, 0, 0x2700),
    (0x28, 0x2827, 0x2822, 0, 0x2800),
    (0x29, 0x2960, 0x297e, 0, 0x2900),
    (0x2b, 0x2b5c, 0x2b7c, 0x2b1c, 0x2b00),
    (0x33, 0x332c, 0x333c, 0, 0x3300),
    (0x34, 0x342e, 0x343e, 0, 0x3400),
    (0x35, 0x352f, 0x353f, 0, 0x3500),
    (0x37, 0x372a, 0x372a, 0x9600, 0x3700),
    (0x39, 0x3920, 0x3920, 0x3920, 0x3920),
    (0x4a, 0x4a2d, 0x4a2d, 0x8e00, 0x4a00),
    (0x4e, 0x4e2b, 0x4e2b, 0x9000, 0x4e00),
    (0x57, 0x8500, 0x8700, 0x8900, 0x8b00),
    (0x58, 0x8600, 0x8800, 0x8a00, 0x8c00),
];

/// Keypad 47h-53h: (scan, cursor-key code, digit, ctrl code).
const KEYPAD: &[(u8, u16, u8, u16)] = &[
    (0x47, 0x4700, b'7', 0x7700),
    (0x48, 0x4800, b'8', 0x8d00),
    (0x49, 0x4900, b'9', 0x8400),
    (0x4b, 0x4b00, b'4', 0x7300),
    (0x4c, 0x4c00, b'5', 0x8f00),
    (0x4d, 0x4d00, b'6', 0x7400),
    (0x4f, 0x4f00, b'1', 0x7500),
    (0x50, 0x5000, b'2', 0x9100),
    (0x51, 0x5100, b'3', 0x7600),
    (0x52, 0x5200, b'0', 0x9200),
    (0x53, 0x5300, b'.', 0x9300),
];

/// The letter a scan code stands for.
fn letter(scan: u8) -> Option<u8> {
    const ROWS: [(u8, &[u8]); 3] = [
        (0x10, b"qwertyuiop"),
        (0x1e, b"asdfghjkl"),
        (0x2c, b"zxcvbnm"),
    ];
    ROWS.iter().find_map(|&(first, keys)| {
        let i = scan.checked_sub(first)? as usize;
        keys.get(i).copied()
    })
}

/// The modifier state a key code depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mods {
    pub shift: bool,
    pub ctrl: bool,
    pub alt: bool,
    pub caps: bool,
    pub num: bool,
}

/// The BIOS key code (AH scan/extended code, AL ASCII) of make code `scan` under `m`;
/// None for modifiers and keys without a code in this state.
pub fn key_code(scan: u8, m: Mods) -> Option<u16> {
    let code = |v: u16| (v != 0).then_some(v);
    if let Some(c) = letter(scan) {
        let s = (scan as u16) << 8;
        return Some(if m.alt {
            s
        } else if m.ctrl {
            s | (c - b'a' + 1) as u16
        } else if m.shift != m.caps {
            s | c.to_ascii_uppercase() as u16
        } else {
            s | c as u16
        });
    }
    if (0x3b..=0x44).contains(&scan) {
        let f = (scan - 0x3b) as u16;
        return Some(
            (if m.alt {
                0x68 + f
            } else if m.ctrl {
                0x5e + f
            } else if m.shift {
                0x54 + f
            } else {
                scan as u16
            }) << 8,
        );
    }
    if let Some(&(_, cursor, digit, ctrl)) = KEYPAD.iter().find(|k| k.0 == scan) {
        return if m.alt {
            None
        } else if m.ctrl {
            Some(ctrl)
        } else if m.num != m.shift {
            Some((scan as u16) << 8 | digit as u16)
        } else {
            Some(cursor)
        };
    }
    let &(_, normal, shift, ctrl, alt) = KEYS.iter().find(|k| k.0 == scan)?;
    if m.alt {
        code(alt)
    } else if m.ctrl {
        code(ctrl)
    } else if m.shift {
        code(shift)
    } else {
        code(normal)
    }
}

/// The key code a byte from the serial console stands for: printable ASCII with the
/// scan code of its US key, control characters as Ctrl+letter, CR as Enter, DEL as
/// Backspace.
pub fn serial_key(b: u8) -> u16 {
    let c = b as u16;
    match b {
        b'\r' => 0x1c0d,
        b'\n' => 0x1c0a,
        0x08 | 0x7f => 0x0e08,
        b'\t' => 0x0f09,
        0x1b => 0x011b,
        0x01..=0x1a => {
            let scan = (0x10u8..=0x32)
                .find(|&s| letter(s) == Some(b'a' + b - 1))
                .unwrap_or(0);
            (scan as u16) << 8 | c
        }
        0x20..=0x7e => {
            let find = |shift: bool| {
                (0x01u8..=0x58).find(|&s| {
                    key_code(
                        s,
                        Mods {
                            shift,
                            ..Mods::default()
                        },
                    )
                    .is_some_and(|k| k & 0xff == c && k >> 8 == s as u16)
                })
            };
            let scan = find(false).or_else(|| find(true)).unwrap_or(0);
            (scan as u16) << 8 | c
        }
        _ => c,
    }
}

// ---- The ring buffer in the BDA ------------------------------------------------------

fn bda16(m: &mut Machine, a: u32) -> u16 {
    m.cpu.mmu.phys.read(a, 2) as u16
}

fn set_bda16(m: &mut Machine, a: u32, v: u16) {
    m.cpu.mmu.phys.write(a, 2, v as u32);
}

/// Buffer bounds (offsets in segment 0040h), sanitised against guest edits.
fn bounds(m: &mut Machine) -> (u16, u16) {
    let (start, end) = (bda16(m, bda::KBD_START), bda16(m, bda::KBD_END));
    if start < end && end - start >= 4 && start % 2 == 0 && end % 2 == 0 {
        (start, end)
    } else {
        (0x1e, 0x3e)
    }
}

/// Appends a key code; false if the buffer is full.
pub fn push_key(m: &mut Machine, key: u16) -> bool {
    let (start, end) = bounds(m);
    let tail = bda16(m, bda::KBD_TAIL).clamp(start, end - 2);
    let head = bda16(m, bda::KBD_HEAD);
    let next = if tail + 2 >= end { start } else { tail + 2 };
    if next == head {
        return false;
    }
    set_bda16(m, 0x400 + tail as u32, key);
    set_bda16(m, bda::KBD_TAIL, next);
    true
}

/// The oldest key code, removed if `take`.
fn peek_key(m: &mut Machine, take: bool) -> Option<u16> {
    let (start, end) = bounds(m);
    let head = bda16(m, bda::KBD_HEAD).clamp(start, end - 2);
    if head == bda16(m, bda::KBD_TAIL) {
        return None;
    }
    let key = bda16(m, 0x400 + head as u32);
    if take {
        set_bda16(
            m,
            bda::KBD_HEAD,
            if head + 2 >= end { start } else { head + 2 },
        );
    }
    Some(key)
}

/// Moves bytes waiting in COM1's receiver into the key buffer.
fn drain_serial(m: &mut Machine) {
    const LSR: u16 = 5;
    const LSR_DR: u32 = 0x01;
    let base = bda16(m, bda::COM_PORTS);
    if base == 0 {
        return;
    }
    for _ in 0..16 {
        if m.cpu.io.read(base + LSR, 1) & LSR_DR == 0 {
            break;
        }
        // Leave the byte in the UART while the buffer is full.
        let (start, end) = bounds(m);
        let tail = bda16(m, bda::KBD_TAIL);
        let next = if tail + 2 >= end { start } else { tail + 2 };
        if next == bda16(m, bda::KBD_HEAD) {
            break;
        }
        let b = m.cpu.io.read(base, 1) as u8;
        push_key(m, serial_key(b));
    }
}

/// SVC_KEY from INT 09h: the scan code in AL updates the shift state or queues a key.
pub(super) fn irq_key(m: &mut Machine) -> Outcome {
    let code = lo(&m.cpu, EAX);
    let phys = &mut m.cpu.mmu.phys;
    let mode = phys.read_u8(bda::KBD_MODE);
    if code == 0xe0 {
        phys.write_u8(bda::KBD_MODE, mode | MODE_E0);
        return Outcome::Done;
    }
    let extended = mode & MODE_E0 != 0;
    phys.write_u8(bda::KBD_MODE, mode & !MODE_E0);
    let mut f1 = phys.read_u8(bda::KBD_FLAGS1);
    let mut f2 = phys.read_u8(bda::KBD_FLAGS2);
    let make = code & 0x80 == 0;
    let scan = code & 0x7f;
    let modifier = match scan {
        0x2a if !extended => Some(LSHIFT),
        0x36 if !extended => Some(RSHIFT),
        0x1d => Some(CTRL),
        0x38 => Some(ALT),
        // The E0-prefixed shifts are fake (sent around gray keys).
        0x2a | 0x36 => return Outcome::Done,
        _ => None,
    };
    if let Some(bit) = modifier {
        f1 = if make { f1 | bit } else { f1 & !bit };
        phys.write_u8(bda::KBD_FLAGS1, f1);
        return Outcome::Done;
    }
    let toggle = match scan {
        0x3a => Some((CAPS_ON, CAPS_HELD)),
        0x45 if !extended => Some((NUM_ON, NUM_HELD)),
        0x46 if !extended => Some((SCROLL_ON, SCROLL_HELD)),
        _ => None,
    };
    if let Some((on, held)) = toggle {
        if make && f2 & held == 0 {
            f1 ^= on;
        }
        f2 = if make { f2 | held } else { f2 & !held };
        phys.write_u8(bda::KBD_FLAGS1, f1);
        phys.write_u8(bda::KBD_FLAGS2, f2);
        return Outcome::Done;
    }
    if !make {
        return Outcome::Done;
    }
    let mods = Mods {
        shift: f1 & (LSHIFT | RSHIFT) != 0,
        ctrl: f1 & CTRL != 0,
        alt: f1 & ALT != 0,
        caps: f1 & CAPS_ON != 0,
        num: f1 & NUM_ON != 0,
    };
    if scan == 0x52 && !mods.ctrl && !mods.alt && (extended || mods.num == mods.shift) {
        phys.write_u8(bda::KBD_FLAGS1, f1 ^ INSERT_ON);
    }
    let key = if extended {
        // Gray keys: the cursor block, keypad Enter and '/'. AL = E0h marks them for
        // the extended functions (10h/11h).
        match scan {
            0x1c => Some(0xe00d),
            0x35 => Some(0xe02f),
            0x47..=0x53 => key_code(
                scan,
                Mods {
                    num: false,
                    shift: false,
                    ..mods
                },
            )
            .map(|k| if k & 0xff == 0 { k | 0xe0 } else { k }),
            _ => None,
        }
    } else {
        key_code(scan, mods)
    };
    if let Some(k) = key {
        push_key(m, k);
    }
    Outcome::Done
}

/// A key code as the non-extended functions (00h/01h) return it.
fn classic(key: u16) -> u16 {
    match (key >> 8, key & 0xff) {
        // Keypad Enter and '/' report the main keys' scan codes.
        (0xe0, 0x0d) => 0x1c0d,
        (0xe0, 0x2f) => 0x352f,
        (0xe0, ascii) => ascii,
        // Gray cursor keys: AL = 0 as on the keypad.
        (scan, 0xe0) => scan << 8,
        _ => key,
    }
}

/// INT 16h.
pub(super) fn int16(m: &mut Machine) -> Outcome {
    let ah = hi(&m.cpu, EAX);
    drain_serial(m);
    match ah {
        0x00 | 0x10 => match peek_key(m, true) {
            Some(k) => set_r16(&mut m.cpu, EAX, if ah == 0 { classic(k) } else { k }),
            None => return Outcome::Wait,
        },
        0x01 | 0x11 => {
            let k = peek_key(m, false);
            if let Some(k) = k {
                set_r16(&mut m.cpu, EAX, if ah == 1 { classic(k) } else { k });
            }
            set_caller_flag(&mut m.cpu, flags::ZF, k.is_none());
        }
        0x02 => {
            let f = m.cpu.mmu.phys.read_u8(bda::KBD_FLAGS1);
            set_lo(&mut m.cpu, EAX, f);
        }
        0x12 => {
            let f1 = m.cpu.mmu.phys.read_u8(bda::KBD_FLAGS1);
            let f2 = m.cpu.mmu.phys.read_u8(bda::KBD_FLAGS2);
            set_r16(&mut m.cpu, EAX, ((f2 & 0x73) as u16) << 8 | f1 as u16);
        }
        0x05 => {
            let key = r16(&m.cpu, ECX);
            let full = !push_key(m, key);
            set_lo(&mut m.cpu, EAX, full as u8);
        }
        // Keyboard ID: MF2 keyboard.
        0x0a => set_r16(&mut m.cpu, EBX, 0x41ab),
        _ => tracing::debug!(ah, "INT 16h: function not supported"),
    }
    Outcome::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(shift: bool, ctrl: bool, alt: bool, caps: bool) -> Mods {
        Mods {
            shift,
            ctrl,
            alt,
            caps,
            num: false,
        }
    }

    #[test]
    fn letters_follow_shift_caps_ctrl_alt() {
        let none = Mods::default();
        assert_eq!(key_code(0x1e, none), Some(0x1e61)); // a
        assert_eq!(key_code(0x1e, m(true, false, false, false)), Some(0x1e41)); // A
        assert_eq!(key_code(0x1e, m(false, false, false, true)), Some(0x1e41)); // caps
        assert_eq!(key_code(0x1e, m(true, false, false, true)), Some(0x1e61)); // both
        assert_eq!(key_code(0x2e, m(false, true, false, false)), Some(0x2e03)); // ^C
        assert_eq!(key_code(0x2c, m(false, false, true, false)), Some(0x2c00)); // Alt-Z
        assert_eq!(key_code(0x10, none), Some(0x1071)); // q
        assert_eq!(key_code(0x32, none), Some(0x326d)); // m
    }

    #[test]
    fn other_keys_match_the_at_bios_table() {
        let none = Mods::default();
        let shift = m(true, false, false, false);
        assert_eq!(key_code(0x02, none), Some(0x0231));
        assert_eq!(key_code(0x02, shift), Some(0x0221));
        assert_eq!(key_code(0x03, shift), Some(0x0340));
        assert_eq!(key_code(0x1c, none), Some(0x1c0d));
        assert_eq!(key_code(0x0e, none), Some(0x0e08));
        assert_eq!(key_code(0x39, none), Some(0x3920));
        assert_eq!(key_code(0x01, none), Some(0x011b));
        assert_eq!(key_code(0x3b, none), Some(0x3b00)); // F1
        assert_eq!(key_code(0x3b, shift), Some(0x5400));
        assert_eq!(key_code(0x44, m(false, true, false, false)), Some(0x6700));
        assert_eq!(key_code(0x3b, m(false, false, true, false)), Some(0x6800));
        assert_eq!(key_code(0x58, none), Some(0x8600)); // F12
        assert_eq!(key_code(0x48, none), Some(0x4800)); // Up
        let num = Mods { num: true, ..none };
        assert_eq!(key_code(0x48, num), Some(0x4838));
        assert_eq!(key_code(0x04, m(false, true, false, false)), None);
        assert_eq!(key_code(0x2a, none), None); // a modifier
        assert_eq!(key_code(0x35, shift), Some(0x353f));
    }

    #[test]
    fn serial_bytes_become_key_codes() {
        assert_eq!(serial_key(b'a'), 0x1e61);
        assert_eq!(serial_key(b'A'), 0x1e41);
        assert_eq!(serial_key(b'!'), 0x0221);
        assert_eq!(serial_key(b'\r'), 0x1c0d);
        assert_eq!(serial_key(0x7f), 0x0e08);
        assert_eq!(serial_key(0x03), 0x2e03);
        assert_eq!(serial_key(b' '), 0x3920);
        assert_eq!(serial_key(b'/'), 0x352f);
    }

    #[test]
    fn extended_codes_convert_for_the_classic_functions() {
        assert_eq!(classic(0x48e0), 0x4800);
        assert_eq!(classic(0xe00d), 0x1c0d);
        assert_eq!(classic(0xe02f), 0x352f);
        assert_eq!(classic(0x1e61), 0x1e61);
    }
}
