//! The PC keyboard controller (Intel 8042/8742 UPI as programmed by IBM for the PC/AT
//! and PS/2) with a PS/2 keyboard and a PS/2 mouse behind it.
//!
//! Sources: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device
//! Controller" (status register, command byte, controller commands 0x20-0xFF, input and
//! output ports); IBM PC/AT Technical Reference, "Keyboard Controller" (output port bit 0
//! = system reset, bit 1 = gate A20, the 0xF0-0xFF pulse commands); IBM 101/102-Key
//! Keyboard Technical Reference, "Commands from the System" and scan code set 2; IBM
//! PS/2 Mouse Technical Reference, "Commands" and "Data Report" (3-byte packet format).
//! The set 2 → set 1 translation table is the one the 8042 firmware applies when the
//! command byte's XLATE bit is set.
//!
//! Model: the guest sees one output-buffer byte at a time (`STAT_OBF`, with `STAT_AUXB`
//! when it came from the mouse). Behind it wait three queues, drained in priority order
//! whenever the buffer empties: controller replies, keyboard bytes (held while the
//! keyboard interface is disabled), mouse bytes (held while the aux interface is
//! disabled). IRQ 1 / IRQ 12 follow the output buffer: high while it holds a keyboard /
//! mouse byte and the command byte's INT / INT2 bit is set, lowered by the read of port
//! 0x60. Transfers are instantaneous (no serial-line timing), so the device needs no
//! clock and never reports a deadline.
//!
//! Wiring: ports 0x60 (data) and 0x64 (status / command) — `register` maps both without
//! claiming 0x61-0x63; IRQ 1 and IRQ 12; the shared `Signals` for CPU reset (output port
//! bit 0, the 0xFE pulse) and the A20 gate (output port bit 1, `Signals::a20`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::bus::{BusDevice, PortBus};
use crate::irq::IrqLine;
use crate::signals::Signals;

/// Data port: output buffer (read), input buffer for data (write).
pub const DATA_PORT: u16 = 0x60;
/// Status register (read), input buffer for commands (write).
pub const STATUS_PORT: u16 = 0x64;
/// Keyboard interrupt.
pub const KBD_IRQ: u8 = 1;
/// Auxiliary device (mouse) interrupt.
pub const AUX_IRQ: u8 = 12;

// Status register (port 0x64, read).
/// Output buffer full: a byte waits at port 0x60.
pub const STAT_OBF: u8 = 0x01;
/// Input buffer full: the controller has not taken the last write yet (never, here).
pub const STAT_IBF: u8 = 0x02;
/// System flag: set by a successful self-test or by command byte bit 2.
pub const STAT_SYS: u8 = 0x04;
/// A2: the last write went to port 0x64 (a command), not to port 0x60 (data).
pub const STAT_A2: u8 = 0x08;
/// Inhibit switch: 1 = keyboard not inhibited (no key lock here).
pub const STAT_INH: u8 = 0x10;
/// Auxiliary output buffer full: the byte in the output buffer came from the mouse.
pub const STAT_AUXB: u8 = 0x20;
/// General time-out.
pub const STAT_TIMEOUT: u8 = 0x40;
/// Parity error.
pub const STAT_PARITY: u8 = 0x80;

// Command byte (controller RAM byte 0; commands 0x20 / 0x60).
/// Raise IRQ 1 when a keyboard byte is in the output buffer.
pub const CMD_INT: u8 = 0x01;
/// Raise IRQ 12 when a mouse byte is in the output buffer.
pub const CMD_INT2: u8 = 0x02;
/// System flag, copied to `STAT_SYS`.
pub const CMD_SYS: u8 = 0x04;
/// Disable the keyboard interface (clock held low).
pub const CMD_DISABLE_KBD: u8 = 0x10;
/// Disable the auxiliary interface.
pub const CMD_DISABLE_AUX: u8 = 0x20;
/// Translate keyboard scan codes to set 1 (PC/XT compatible codes).
pub const CMD_XLATE: u8 = 0x40;

// Output port (commands 0xD0 / 0xD1).
/// System reset, active low.
pub const OUT_RESET: u8 = 0x01;
/// Gate A20.
pub const OUT_A20: u8 = 0x02;
/// Output buffer full with keyboard data (IRQ 1 line).
pub const OUT_OBF_KBD: u8 = 0x10;
/// Output buffer full with mouse data (IRQ 12 line).
pub const OUT_OBF_AUX: u8 = 0x20;
/// Bits that idle high: the unused quasi-bidirectional pins 2-3 and the keyboard
/// clock / data lines 6-7.
const OUT_ONES: u8 = 0xcc;

/// Input port (command 0xC0): keyboard not inhibited, no manufacturing jumper,
/// colour display, 512 KiB+ on the system board.
const INPUT_PORT: u8 = 0xb0;

// Controller commands (port 0x64, write).
const CCMD_READ_RAM: u8 = 0x20; // 0x20-0x3F
const CCMD_WRITE_RAM: u8 = 0x60; // 0x60-0x7F
const CCMD_PASSWORD_CHECK: u8 = 0xa4;
const CCMD_DISABLE_AUX: u8 = 0xa7;
const CCMD_ENABLE_AUX: u8 = 0xa8;
const CCMD_AUX_TEST: u8 = 0xa9;
const CCMD_SELF_TEST: u8 = 0xaa;
const CCMD_KBD_TEST: u8 = 0xab;
const CCMD_DISABLE_KBD: u8 = 0xad;
const CCMD_ENABLE_KBD: u8 = 0xae;
const CCMD_READ_INPUT: u8 = 0xc0;
const CCMD_READ_OUTPUT: u8 = 0xd0;
const CCMD_WRITE_OUTPUT: u8 = 0xd1;
const CCMD_WRITE_KBD_OBUF: u8 = 0xd2;
const CCMD_WRITE_AUX_OBUF: u8 = 0xd3;
const CCMD_WRITE_AUX: u8 = 0xd4;
const CCMD_DISABLE_A20: u8 = 0xdd;
const CCMD_ENABLE_A20: u8 = 0xdf;
const CCMD_READ_TEST_INPUTS: u8 = 0xe0;
// 0xF0-0xFF: pulse output port bits 0-3 low where the command's bit is 0.

// Controller replies.
const SELF_TEST_OK: u8 = 0x55;
const INTERFACE_TEST_OK: u8 = 0x00;
const NO_PASSWORD: u8 = 0xf1;

// Replies common to the keyboard and the mouse.
const ACK: u8 = 0xfa;
const RESEND: u8 = 0xfe;
const BAT_OK: u8 = 0xaa;

// Keyboard commands and replies.
const KBD_SET_LEDS: u8 = 0xed;
const KBD_ECHO: u8 = 0xee;
const KBD_SCANCODE_SET: u8 = 0xf0;
const KBD_IDENTIFY: u8 = 0xf2;
const KBD_TYPEMATIC: u8 = 0xf3;
const KBD_ENABLE: u8 = 0xf4;
const KBD_DISABLE: u8 = 0xf5;
const KBD_DEFAULTS: u8 = 0xf6;
const KBD_RESEND: u8 = 0xfe;
const KBD_RESET: u8 = 0xff;
/// MF2 keyboard identification.
const KBD_ID: [u8; 2] = [0xab, 0x83];
/// Key detection error / buffer overrun, in scan code set 2.
const KBD_OVERRUN: u8 = 0x00;
/// Power-on typematic rate/delay: 10.9 characters/s, 500 ms.
const KBD_TYPEMATIC_DEFAULT: u8 = 0x2b;
/// Set 2 break prefix: `[0xf0, code]` releases the key `[code]` pressed.
pub const SET2_BREAK: u8 = 0xf0;
/// Set 2 extended-key prefix (`[0xe0, 0x75]` is the Up arrow).
pub const SET2_EXTENDED: u8 = 0xe0;
/// Bytes the keyboard holds before reporting an overrun. The real 101-key keyboard holds
/// 16; host injection comes in bursts (a pasted line) with no typist's pace, so more
/// room is left here.
const KBD_BUFFER: usize = 256;

// Mouse commands and replies.
const AUX_SET_SCALING_1_1: u8 = 0xe6;
const AUX_SET_SCALING_2_1: u8 = 0xe7;
const AUX_SET_RESOLUTION: u8 = 0xe8;
const AUX_STATUS_REQUEST: u8 = 0xe9;
const AUX_SET_STREAM: u8 = 0xea;
const AUX_READ_DATA: u8 = 0xeb;
const AUX_RESET_WRAP: u8 = 0xec;
const AUX_SET_WRAP: u8 = 0xee;
const AUX_SET_REMOTE: u8 = 0xf0;
const AUX_GET_ID: u8 = 0xf2;
const AUX_SET_SAMPLE_RATE: u8 = 0xf3;
const AUX_ENABLE: u8 = 0xf4;
const AUX_DISABLE: u8 = 0xf5;
const AUX_DEFAULTS: u8 = 0xf6;
const AUX_RESEND: u8 = 0xfe;
const AUX_RESET: u8 = 0xff;
/// Standard PS/2 mouse (no wheel).
const AUX_ID: u8 = 0x00;
const AUX_SAMPLE_RATES: [u8; 7] = [10, 20, 40, 60, 80, 100, 200];
/// Mouse bytes held (whole packets only); further packets are dropped.
const AUX_BUFFER: usize = 48;

// Mouse data packet, byte 0.
/// Left button.
pub const BTN_LEFT: u8 = 0x01;
/// Right button.
pub const BTN_RIGHT: u8 = 0x02;
/// Middle button.
pub const BTN_MIDDLE: u8 = 0x04;
const PKT_ALWAYS1: u8 = 0x08;
const PKT_X_SIGN: u8 = 0x10;
const PKT_Y_SIGN: u8 = 0x20;
const PKT_X_OVERFLOW: u8 = 0x40;
const PKT_Y_OVERFLOW: u8 = 0x80;

// Mouse status byte 0 (status request 0xE9).
const AUX_STAT_SCALING_2_1: u8 = 0x10;
const AUX_STAT_ENABLED: u8 = 0x20;
const AUX_STAT_REMOTE: u8 = 0x40;

/// The 8042's set 2 → set 1 translation for codes 0x00-0x7F; codes 0x80 and above pass
/// unchanged except 0x83 (F7) and 0x84 (Alt+SysRq).
#[rustfmt::skip]
const XLATE_TABLE: [u8; 128] = [
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
];

/// Translates one set 2 byte (not the 0xF0 prefix) to set 1.
fn xlate(code: u8) -> u8 {
    match code {
        0x00..=0x7f => XLATE_TABLE[code as usize],
        0x83 => 0x41,
        0x84 => 0x54,
        _ => code,
    }
}

/// Set 2 make code of the left Shift key.
pub const SET2_LSHIFT: u8 = 0x12;

/// The set 2 make code of the key that types `ch` on a US keyboard, and whether Shift
/// must be held. Letters, digits, space, Enter, Tab, Backspace, Escape and the US
/// punctuation keys.
pub fn ascii_to_set2(ch: u8) -> Option<(u8, bool)> {
    const LETTERS: [u8; 26] = [
        0x1c, 0x32, 0x21, 0x23, 0x24, 0x2b, 0x34, 0x33, 0x43, 0x3b, 0x42, 0x4b, 0x3a, 0x31, 0x44,
        0x4d, 0x15, 0x2d, 0x1b, 0x2c, 0x3c, 0x2a, 0x1d, 0x22, 0x35, 0x1a,
    ];
    const DIGITS: [u8; 10] = [0x45, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, 0x3d, 0x3e, 0x46];
    let plain = |c| Some((c, false));
    let shifted = |c| Some((c, true));
    match ch {
        b'a'..=b'z' => plain(LETTERS[(ch - b'a') as usize]),
        b'A'..=b'Z' => shifted(LETTERS[(ch - b'A') as usize]),
        b'0'..=b'9' => plain(DIGITS[(ch - b'0') as usize]),
        b' ' => plain(0x29),
        b'\n' | b'\r' => plain(0x5a),
        b'\t' => plain(0x0d),
        0x08 | 0x7f => plain(0x66),
        0x1b => plain(0x76),
        b'`' => plain(0x0e),
        b'-' => plain(0x4e),
        b'=' => plain(0x55),
        b'[' => plain(0x54),
        b']' => plain(0x5b),
        b'\\' => plain(0x5d),
        b';' => plain(0x4c),
        b'\'' => plain(0x52),
        b',' => plain(0x41),
        b'.' => plain(0x49),
        b'/' => plain(0x4a),
        b'~' => shifted(0x0e),
        b'!' => shifted(0x16),
        b'@' => shifted(0x1e),
        b'#' => shifted(0x26),
        b'$' => shifted(0x25),
        b'%' => shifted(0x2e),
        b'^' => shifted(0x36),
        b'&' => shifted(0x3d),
        b'*' => shifted(0x3e),
        b'(' => shifted(0x46),
        b')' => shifted(0x45),
        b'_' => shifted(0x4e),
        b'+' => shifted(0x55),
        b'{' => shifted(0x54),
        b'}' => shifted(0x5b),
        b'|' => shifted(0x5d),
        b':' => shifted(0x4c),
        b'"' => shifted(0x52),
        b'<' => shifted(0x41),
        b'>' => shifted(0x49),
        b'?' => shifted(0x4a),
        _ => None,
    }
}

/// Who put a byte in the output buffer: decides `STAT_AUXB` and which IRQ it raises.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    Kbd,
    Aux,
}

/// A PS/2 keyboard (101/102-key, scan code set 2).
struct Keyboard {
    /// Bytes waiting to be clocked to the controller.
    queue: VecDeque<u8>,
    /// Scanning enabled (0xF4 / 0xF5).
    scanning: bool,
    /// Command awaiting its option byte (0xED, 0xF0, 0xF3).
    expecting: Option<u8>,
    leds: u8,
    typematic: u8,
    /// Last byte sent to the controller, for 0xFE.
    last_sent: u8,
}

impl Keyboard {
    fn new() -> Self {
        Self {
            queue: VecDeque::new(),
            scanning: true,
            expecting: None,
            leds: 0,
            typematic: KBD_TYPEMATIC_DEFAULT,
            last_sent: 0,
        }
    }

    fn defaults(&mut self) {
        self.typematic = KBD_TYPEMATIC_DEFAULT;
        self.expecting = None;
    }

    /// A reply to a command: the keyboard answers before sending more key data.
    fn reply(&mut self, bytes: &[u8]) {
        self.queue.extend(bytes);
    }

    /// A byte from the system (written to port 0x60).
    fn write(&mut self, byte: u8) {
        // "If the keyboard receives a command instead of an option byte, it executes
        // the new command": options are all below 0xED.
        if let Some(cmd) = self.expecting.take() {
            if byte < KBD_SET_LEDS {
                self.option(cmd, byte);
                return;
            }
        }
        match byte {
            KBD_SET_LEDS | KBD_TYPEMATIC | KBD_SCANCODE_SET => {
                self.expecting = Some(byte);
                self.reply(&[ACK]);
            }
            KBD_ECHO => self.reply(&[KBD_ECHO]),
            KBD_IDENTIFY => {
                self.reply(&[ACK]);
                self.reply(&KBD_ID);
            }
            KBD_ENABLE => {
                self.queue.clear();
                self.scanning = true;
                self.reply(&[ACK]);
            }
            KBD_DISABLE => {
                self.queue.clear();
                self.defaults();
                self.scanning = false;
                self.reply(&[ACK]);
            }
            KBD_DEFAULTS => {
                self.queue.clear();
                self.defaults();
                self.reply(&[ACK]);
            }
            KBD_RESEND => {
                let last = self.last_sent;
                self.reply(&[last]);
            }
            KBD_RESET => {
                self.queue.clear();
                self.defaults();
                self.leds = 0;
                self.scanning = true;
                // Basic assurance test passes at once.
                self.reply(&[ACK, BAT_OK]);
            }
            _ => {
                tracing::debug!(byte, "ps/2 keyboard: unknown command");
                self.reply(&[RESEND]);
            }
        }
    }

    fn option(&mut self, cmd: u8, value: u8) {
        match cmd {
            KBD_SET_LEDS => {
                self.leds = value & 7;
                self.reply(&[ACK]);
            }
            KBD_TYPEMATIC => {
                self.typematic = value & 0x7f;
                self.reply(&[ACK]);
            }
            // KBD_SCANCODE_SET: 0 asks for the current set; only set 2 is kept.
            _ => match value {
                0 => self.reply(&[ACK, 0x02]),
                2 => self.reply(&[ACK]),
                _ => {
                    tracing::debug!(value, "ps/2 keyboard: scan code set not supported");
                    self.reply(&[RESEND]);
                }
            },
        }
    }

    /// Key data from the keyboard matrix: dropped while scanning is disabled; an
    /// overrun code replaces what no longer fits.
    fn key_data(&mut self, bytes: &[u8]) {
        if !self.scanning {
            return;
        }
        for &b in bytes {
            if self.queue.len() + 1 < KBD_BUFFER {
                self.queue.push_back(b);
            } else {
                if self.queue.back() != Some(&KBD_OVERRUN) {
                    self.queue.push_back(KBD_OVERRUN);
                }
                tracing::debug!("ps/2 keyboard: buffer overrun");
                return;
            }
        }
    }

    fn pop(&mut self) -> Option<u8> {
        let b = self.queue.pop_front()?;
        self.last_sent = b;
        Some(b)
    }
}

/// A PS/2 mouse (two or three buttons, no wheel).
struct Mouse {
    queue: VecDeque<u8>,
    expecting: Option<u8>,
    reporting: bool,
    remote: bool,
    wrap: bool,
    scaling_2_1: bool,
    resolution: u8,
    sample_rate: u8,
    buttons: u8,
    /// Movement not yet reported (remote mode, or reporting disabled).
    dx: i32,
    dy: i32,
    last_sent: u8,
}

impl Mouse {
    fn new() -> Self {
        Self {
            queue: VecDeque::new(),
            expecting: None,
            reporting: false,
            remote: false,
            wrap: false,
            scaling_2_1: false,
            resolution: 2,
            sample_rate: 100,
            buttons: 0,
            dx: 0,
            dy: 0,
            last_sent: 0,
        }
    }

    /// "Set Default": 100 reports/s, 4 counts/mm, 1:1 scaling, stream mode, disabled.
    fn defaults(&mut self) {
        self.expecting = None;
        self.reporting = false;
        self.remote = false;
        self.scaling_2_1 = false;
        self.resolution = 2;
        self.sample_rate = 100;
        self.dx = 0;
        self.dy = 0;
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.queue.extend(bytes);
    }

    fn write(&mut self, byte: u8) {
        if self.wrap && byte != AUX_RESET_WRAP && byte != AUX_RESET {
            self.reply(&[byte]);
            return;
        }
        if let Some(cmd) = self.expecting.take() {
            let valid = if cmd == AUX_SET_RESOLUTION {
                byte <= 3
            } else {
                AUX_SAMPLE_RATES.contains(&byte)
            };
            if valid {
                if cmd == AUX_SET_RESOLUTION {
                    self.resolution = byte;
                } else {
                    self.sample_rate = byte;
                }
                self.reply(&[ACK]);
            } else {
                tracing::debug!(cmd, byte, "ps/2 mouse: invalid option");
                self.reply(&[RESEND]);
            }
            return;
        }
        match byte {
            AUX_SET_SCALING_1_1 | AUX_SET_SCALING_2_1 => {
                self.scaling_2_1 = byte == AUX_SET_SCALING_2_1;
                self.reply(&[ACK]);
            }
            AUX_SET_RESOLUTION | AUX_SET_SAMPLE_RATE => {
                self.expecting = Some(byte);
                self.reply(&[ACK]);
            }
            AUX_STATUS_REQUEST => {
                let mut s = 0;
                if self.remote {
                    s |= AUX_STAT_REMOTE;
                }
                if self.reporting {
                    s |= AUX_STAT_ENABLED;
                }
                if self.scaling_2_1 {
                    s |= AUX_STAT_SCALING_2_1;
                }
                // Buttons in the status byte: bit 2 left, bit 1 middle, bit 0 right.
                if self.buttons & BTN_LEFT != 0 {
                    s |= 0x04;
                }
                if self.buttons & BTN_MIDDLE != 0 {
                    s |= 0x02;
                }
                if self.buttons & BTN_RIGHT != 0 {
                    s |= 0x01;
                }
                let (res, rate) = (self.resolution, self.sample_rate);
                self.reply(&[ACK, s, res, rate]);
            }
            AUX_SET_STREAM | AUX_SET_REMOTE => {
                self.remote = byte == AUX_SET_REMOTE;
                self.dx = 0;
                self.dy = 0;
                self.reply(&[ACK]);
            }
            AUX_READ_DATA => {
                self.reply(&[ACK]);
                // A read-data packet is never scaled.
                let pkt = self.packet(false);
                self.reply(&pkt);
            }
            AUX_RESET_WRAP => {
                self.wrap = false;
                self.reply(&[ACK]);
            }
            AUX_SET_WRAP => {
                self.wrap = true;
                self.reply(&[ACK]);
            }
            AUX_GET_ID => self.reply(&[ACK, AUX_ID]),
            AUX_ENABLE => {
                self.reporting = true;
                self.dx = 0;
                self.dy = 0;
                self.reply(&[ACK]);
            }
            AUX_DISABLE => {
                self.reporting = false;
                self.reply(&[ACK]);
            }
            AUX_DEFAULTS => {
                self.defaults();
                self.reply(&[ACK]);
            }
            AUX_RESEND => {
                let last = self.last_sent;
                self.reply(&[last]);
            }
            AUX_RESET => {
                self.queue.clear();
                self.defaults();
                self.wrap = false;
                self.reply(&[ACK, BAT_OK, AUX_ID]);
            }
            _ => {
                tracing::debug!(byte, "ps/2 mouse: unknown command");
                self.reply(&[RESEND]);
            }
        }
    }

    /// Builds a data packet from the pending movement and clears it. Movement beyond
    /// the 9-bit two's-complement range saturates and sets the overflow bit.
    fn packet(&mut self, scale: bool) -> [u8; 3] {
        fn scale_2_1(v: i32) -> i32 {
            // PS/2 Mouse Technical Reference, "Scaling": 1→1, 2→1, 3→3, 4→6, 5→9,
            // otherwise twice the count.
            let m = match v.unsigned_abs() {
                0 => 0,
                1 | 2 => 1,
                3 => 3,
                4 => 6,
                5 => 9,
                n => n.saturating_mul(2).min(i32::MAX as u32) as i32,
            };
            if v < 0 {
                -m
            } else {
                m
            }
        }
        let (mut dx, mut dy) = (self.dx, self.dy);
        self.dx = 0;
        self.dy = 0;
        if scale {
            dx = scale_2_1(dx);
            dy = scale_2_1(dy);
        }
        let mut b0 = PKT_ALWAYS1 | (self.buttons & (BTN_LEFT | BTN_RIGHT | BTN_MIDDLE));
        if !(-256..=255).contains(&dx) {
            b0 |= PKT_X_OVERFLOW;
            dx = dx.clamp(-256, 255);
        }
        if !(-256..=255).contains(&dy) {
            b0 |= PKT_Y_OVERFLOW;
            dy = dy.clamp(-256, 255);
        }
        if dx < 0 {
            b0 |= PKT_X_SIGN;
        }
        if dy < 0 {
            b0 |= PKT_Y_SIGN;
        }
        [b0, dx as u8, dy as u8]
    }

    fn movement(&mut self, dx: i32, dy: i32, buttons: u8) {
        self.dx = self.dx.saturating_add(dx);
        self.dy = self.dy.saturating_add(dy);
        self.buttons = buttons & (BTN_LEFT | BTN_RIGHT | BTN_MIDDLE);
        if self.remote || self.wrap || !self.reporting {
            if !self.remote {
                // Stream mode with reporting off: nothing accumulates.
                self.dx = 0;
                self.dy = 0;
            }
            return;
        }
        if self.queue.len() + 3 > AUX_BUFFER {
            tracing::debug!("ps/2 mouse: buffer full, packet dropped");
            self.dx = 0;
            self.dy = 0;
            return;
        }
        let pkt = self.packet(self.scaling_2_1);
        self.queue.extend(pkt);
    }

    fn pop(&mut self) -> Option<u8> {
        let b = self.queue.pop_front()?;
        self.last_sent = b;
        Some(b)
    }
}

/// The keyboard controller with its keyboard and mouse.
pub struct I8042 {
    signals: Rc<Signals>,
    irq1: IrqLine,
    irq12: IrqLine,
    irq1_level: bool,
    irq12_level: bool,
    /// Controller RAM; byte 0 is the command byte.
    ram: [u8; 32],
    /// Output port (P2) as last written; bits 4-5 are computed on read.
    output_port: u8,
    /// `STAT_A2`: last write was a command.
    last_was_command: bool,
    /// A controller command waiting for its data byte at port 0x60.
    pending: Option<u8>,
    /// The output buffer.
    obuf: Option<(u8, Source)>,
    /// Value port 0x60 reads when the buffer is empty (the last byte read).
    last_read: u8,
    /// Controller replies waiting for the output buffer.
    replies: VecDeque<(u8, Source)>,
    /// The translator saw 0xF0: the next translated code gets bit 7.
    xlate_break: bool,
    kbd: Keyboard,
    mouse: Mouse,
}

impl I8042 {
    /// A controller at power-on: command byte INT | XLATE (SYS clear until the
    /// self-test), output port all ones (reset released, A20 enabled — the 8042's port
    /// pins come out of reset high), keyboard scanning in set 2, mouse in stream mode
    /// with reporting disabled.
    pub fn new(signals: Rc<Signals>, irq1: IrqLine, irq12: IrqLine) -> Self {
        let mut kbc = Self {
            signals,
            irq1,
            irq12,
            irq1_level: false,
            irq12_level: false,
            ram: [0; 32],
            output_port: 0,
            last_was_command: false,
            pending: None,
            obuf: None,
            last_read: 0,
            replies: VecDeque::new(),
            xlate_break: false,
            kbd: Keyboard::new(),
            mouse: Mouse::new(),
        };
        kbc.reset();
        kbc
    }

    /// Power-on reset of the controller and both devices. The machine does not call
    /// this for a CPU reset the controller itself requested (the SYS flag must survive
    /// that: it is how a BIOS tells a return from protected mode from a cold boot).
    pub fn reset(&mut self) {
        self.ram = [0; 32];
        self.ram[0] = CMD_INT | CMD_XLATE;
        self.last_was_command = false;
        self.pending = None;
        self.obuf = None;
        self.last_read = 0;
        self.replies.clear();
        self.xlate_break = false;
        self.kbd = Keyboard::new();
        self.mouse = Mouse::new();
        self.set_output_port(OUT_ONES | OUT_A20 | OUT_RESET);
        self.update_irqs();
    }

    /// Wires the controller to ports 0x60 and 0x64 (each one byte wide, so ports
    /// 0x61-0x63 stay free for the system control port B).
    pub fn register(kbc: &Rc<RefCell<I8042>>, bus: &mut PortBus) {
        bus.register(
            DATA_PORT,
            1,
            Rc::new(RefCell::new(I8042Port {
                kbc: kbc.clone(),
                offset: 0,
            })),
        );
        bus.register(
            STATUS_PORT,
            1,
            Rc::new(RefCell::new(I8042Port {
                kbc: kbc.clone(),
                offset: (STATUS_PORT - DATA_PORT) as u32,
            })),
        );
    }

    fn command_byte(&self) -> u8 {
        self.ram[0]
    }

    /// Port 0x64 read.
    pub fn read_status(&self) -> u8 {
        let mut s = STAT_INH;
        match self.obuf {
            Some((_, Source::Kbd)) => s |= STAT_OBF,
            Some((_, Source::Aux)) => s |= STAT_OBF | STAT_AUXB,
            None => {}
        }
        if self.command_byte() & CMD_SYS != 0 {
            s |= STAT_SYS;
        }
        if self.last_was_command {
            s |= STAT_A2;
        }
        s
    }

    /// Port 0x60 read: takes the output buffer (lowering its IRQ), then lets the next
    /// waiting byte in.
    pub fn read_data(&mut self) -> u8 {
        if let Some((b, _)) = self.obuf.take() {
            self.last_read = b;
        }
        self.update_irqs();
        self.fill();
        self.last_read
    }

    /// Port 0x60 write: the data byte of a pending controller command, else a byte
    /// for the keyboard.
    pub fn write_data(&mut self, value: u8) {
        self.last_was_command = false;
        match self.pending.take() {
            Some(cmd @ CCMD_WRITE_RAM..=0x7f) => {
                self.ram[(cmd & 0x1f) as usize] = value;
            }
            Some(CCMD_WRITE_OUTPUT) => self.set_output_port(value),
            Some(CCMD_WRITE_KBD_OBUF) => self.replies.push_back((value, Source::Kbd)),
            Some(CCMD_WRITE_AUX_OBUF) => self.replies.push_back((value, Source::Aux)),
            Some(CCMD_WRITE_AUX) => {
                // Talking to the mouse enables its interface, as on common controllers.
                self.ram[0] &= !CMD_DISABLE_AUX;
                self.mouse.write(value);
            }
            Some(cmd) => tracing::debug!(cmd, value, "i8042: data for no command"),
            None => {
                // Likewise sending to the keyboard re-enables its interface.
                self.ram[0] &= !CMD_DISABLE_KBD;
                self.kbd.write(value);
            }
        }
        self.update_irqs();
        self.fill();
    }

    /// Port 0x64 write: a controller command.
    pub fn write_command(&mut self, cmd: u8) {
        self.last_was_command = true;
        self.pending = None;
        match cmd {
            CCMD_READ_RAM..=0x3f => self.reply(self.ram[(cmd & 0x1f) as usize]),
            CCMD_WRITE_RAM..=0x7f
            | CCMD_WRITE_OUTPUT
            | CCMD_WRITE_KBD_OBUF
            | CCMD_WRITE_AUX_OBUF
            | CCMD_WRITE_AUX => self.pending = Some(cmd),
            CCMD_PASSWORD_CHECK => self.reply(NO_PASSWORD),
            CCMD_DISABLE_AUX => self.ram[0] |= CMD_DISABLE_AUX,
            CCMD_ENABLE_AUX => self.ram[0] &= !CMD_DISABLE_AUX,
            CCMD_AUX_TEST | CCMD_KBD_TEST => self.reply(INTERFACE_TEST_OK),
            CCMD_SELF_TEST => {
                self.ram[0] |= CMD_SYS;
                self.reply(SELF_TEST_OK);
            }
            CCMD_DISABLE_KBD => self.ram[0] |= CMD_DISABLE_KBD,
            CCMD_ENABLE_KBD => self.ram[0] &= !CMD_DISABLE_KBD,
            CCMD_READ_INPUT => self.reply(INPUT_PORT),
            CCMD_READ_OUTPUT => {
                let v = self.read_output_port();
                self.reply(v);
            }
            CCMD_DISABLE_A20 => self.set_output_port(self.output_port & !OUT_A20),
            CCMD_ENABLE_A20 => self.set_output_port(self.output_port | OUT_A20),
            CCMD_READ_TEST_INPUTS => self.reply(0),
            0xf0..=0xff => {
                // Pulse output port bits 0-3 low for ~6 µs where the command bit is 0;
                // only bit 0 (reset) has a lasting effect.
                if cmd & OUT_RESET == 0 {
                    tracing::debug!(cmd, "i8042: CPU reset pulse");
                    self.signals.reset.set(true);
                }
            }
            _ => tracing::debug!(cmd, "i8042: unknown controller command"),
        }
        self.update_irqs();
        self.fill();
    }

    fn reply(&mut self, b: u8) {
        self.replies.push_back((b, Source::Kbd));
    }

    fn read_output_port(&self) -> u8 {
        let mut v = self.output_port & !(OUT_OBF_KBD | OUT_OBF_AUX);
        match self.obuf {
            Some((_, Source::Kbd)) => v |= OUT_OBF_KBD,
            Some((_, Source::Aux)) => v |= OUT_OBF_AUX,
            None => {}
        }
        v
    }

    /// Writes the output port: bit 1 gates A20; bit 0 low resets the CPU. Reset is
    /// taken as a pulse (bit 0 is stored as 1 again): a controller holding RESET low
    /// would keep the CPU in reset for good.
    fn set_output_port(&mut self, value: u8) {
        if value & OUT_RESET == 0 {
            tracing::debug!(value, "i8042: CPU reset through the output port");
            self.signals.reset.set(true);
        }
        self.output_port = value | OUT_RESET;
        self.signals.a20.set(value & OUT_A20 != 0);
    }

    /// Moves the next waiting byte into an empty output buffer: controller replies
    /// first, then keyboard data (translated when XLATE is set), then mouse data.
    fn fill(&mut self) {
        if self.obuf.is_some() {
            return;
        }
        if let Some(r) = self.replies.pop_front() {
            self.obuf = Some(r);
        } else if self.command_byte() & CMD_DISABLE_KBD == 0 && !self.kbd.queue.is_empty() {
            while let Some(b) = self.kbd.pop() {
                if self.command_byte() & CMD_XLATE == 0 {
                    self.obuf = Some((b, Source::Kbd));
                    break;
                }
                if b == SET2_BREAK {
                    self.xlate_break = true;
                    continue;
                }
                let mut t = xlate(b);
                if std::mem::take(&mut self.xlate_break) {
                    t |= 0x80;
                }
                self.obuf = Some((t, Source::Kbd));
                break;
            }
        }
        if self.obuf.is_none() && self.command_byte() & CMD_DISABLE_AUX == 0 {
            if let Some(b) = self.mouse.pop() {
                self.obuf = Some((b, Source::Aux));
            }
        }
        self.update_irqs();
    }

    fn update_irqs(&mut self) {
        let cb = self.command_byte();
        let irq1 = matches!(self.obuf, Some((_, Source::Kbd))) && cb & CMD_INT != 0;
        let irq12 = matches!(self.obuf, Some((_, Source::Aux))) && cb & CMD_INT2 != 0;
        if irq1 != self.irq1_level {
            self.irq1_level = irq1;
            self.irq1.set(irq1);
        }
        if irq12 != self.irq12_level {
            self.irq12_level = irq12;
            self.irq12.set(irq12);
        }
    }

    /// Key data from the host, as scan code set 2 bytes from the keyboard (e.g.
    /// `[0x1c]` for 'a' pressed, `[0xf0, 0x1c]` released, `[0xe0, 0x75]` Up arrow).
    /// Dropped while the keyboard has scanning disabled; held while the controller's
    /// keyboard interface is disabled.
    pub fn key_event(&mut self, set2: &[u8]) {
        self.kbd.key_data(set2);
        self.fill();
    }

    /// Presses and releases the key for `ch` (US layout), with Shift around it when
    /// needed. Returns false, sending nothing, for a character no key types.
    pub fn type_char(&mut self, ch: u8) -> bool {
        let Some((code, shift)) = ascii_to_set2(ch) else {
            return false;
        };
        if shift {
            self.key_event(&[SET2_LSHIFT, code, SET2_BREAK, code, SET2_BREAK, SET2_LSHIFT]);
        } else {
            self.key_event(&[code, SET2_BREAK, code]);
        }
        true
    }

    /// Types each character of `text` that a key types; returns how many were sent.
    pub fn type_str(&mut self, text: &str) -> usize {
        text.bytes().filter(|&b| self.type_char(b)).count()
    }

    /// Mouse movement from the host: `dx` right, `dy` up (the PS/2 convention; a host
    /// with screen coordinates negates its y), `buttons` from `BTN_LEFT`, `BTN_RIGHT`,
    /// `BTN_MIDDLE`. In stream mode with reporting enabled this queues one 3-byte packet;
    /// in remote mode the movement waits for a Read Data command.
    pub fn mouse_move(&mut self, dx: i32, dy: i32, buttons: u8) {
        self.mouse.movement(dx, dy, buttons);
        self.fill();
    }

    /// Keyboard LED state last set by the guest (bit 0 Scroll, 1 Num, 2 Caps Lock).
    pub fn leds(&self) -> u8 {
        self.kbd.leds
    }
}

impl BusDevice for I8042 {
    /// Offset 0 is port 0x60, offset 4 port 0x64 (a registration at 0x60 of length 5;
    /// `I8042::register` avoids claiming 0x61-0x63).
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        if size != 1 {
            tracing::debug!(offset, size, "i8042: wide read");
        }
        match offset {
            0 => self.read_data() as u32,
            4 => self.read_status() as u32,
            _ => {
                tracing::debug!(offset, "i8042: read of an unassigned offset");
                0xff
            }
        }
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        if size != 1 {
            tracing::debug!(offset, size, value, "i8042: wide write");
        }
        match offset {
            0 => self.write_data(value as u8),
            4 => self.write_command(value as u8),
            _ => tracing::debug!(offset, value, "i8042: write to an unassigned offset"),
        }
    }

    fn name(&self) -> &str {
        "i8042"
    }
}

/// One of the controller's two ports on the bus, sharing the controller.
pub struct I8042Port {
    kbc: Rc<RefCell<I8042>>,
    /// 0 for the data port, 4 for the status/command port.
    offset: u32,
}

impl BusDevice for I8042Port {
    fn read(&mut self, _offset: u32, size: u8) -> u32 {
        self.kbc.borrow_mut().read(self.offset, size)
    }

    fn write(&mut self, _offset: u32, size: u8, value: u32) {
        self.kbc.borrow_mut().write(self.offset, size, value)
    }

    fn name(&self) -> &str {
        "i8042"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::FakeIrqSink;

    struct Rig {
        kbc: I8042,
        sink: Rc<FakeIrqSink>,
        signals: Rc<Signals>,
    }

    fn rig() -> Rig {
        let sink = FakeIrqSink::new();
        let signals = Signals::new();
        let kbc = I8042::new(signals.clone(), sink.line(KBD_IRQ), sink.line(AUX_IRQ));
        Rig { kbc, sink, signals }
    }

    impl Rig {
        fn cmd(&mut self, c: u8) {
            self.kbc.write(4, 1, c as u32);
        }
        fn data(&mut self, d: u8) {
            self.kbc.write(0, 1, d as u32);
        }
        fn status(&mut self) -> u8 {
            self.kbc.read(4, 1) as u8
        }
        fn read(&mut self) -> u8 {
            self.kbc.read(0, 1) as u8
        }
        /// Reads every byte the guest can see, asserting OBF before each.
        fn drain(&mut self) -> Vec<u8> {
            let mut v = Vec::new();
            while self.status() & STAT_OBF != 0 {
                v.push(self.read());
                assert!(v.len() < 1000);
            }
            v
        }
        fn set_command_byte(&mut self, v: u8) {
            self.cmd(0x60);
            self.data(v);
        }
    }

    #[test]
    fn self_test_replies_55_and_sets_sys() {
        let mut r = rig();
        assert_eq!(r.status(), STAT_INH, "power-on: empty, SYS clear");
        r.cmd(0xaa);
        assert_eq!(r.status(), STAT_OBF | STAT_SYS | STAT_A2 | STAT_INH);
        assert_eq!(r.read(), 0x55);
        assert_eq!(r.status() & (STAT_OBF | STAT_SYS), STAT_SYS);
        r.cmd(0x20);
        assert_eq!(r.read() & CMD_SYS, CMD_SYS);
        r.cmd(0xab);
        assert_eq!(r.drain(), vec![0x00]);
        r.cmd(0xa9);
        assert_eq!(r.drain(), vec![0x00]);
    }

    #[test]
    fn command_byte_reads_back_and_drives_sys_and_a2() {
        let mut r = rig();
        r.cmd(0x20);
        assert_eq!(r.drain(), vec![CMD_INT | CMD_XLATE]);
        r.set_command_byte(0x47);
        assert_eq!(
            r.status() & (STAT_A2 | STAT_SYS),
            STAT_SYS,
            "data write clears A2"
        );
        r.cmd(0x20);
        assert_eq!(r.drain(), vec![0x47]);
        r.set_command_byte(0x00);
        assert_eq!(r.status() & STAT_SYS, 0);
        // 0xA7/0xA8 and 0xAD/0xAE toggle the disable bits.
        r.cmd(0xa7);
        r.cmd(0xad);
        r.cmd(0x20);
        assert_eq!(r.drain(), vec![CMD_DISABLE_AUX | CMD_DISABLE_KBD]);
        r.cmd(0xa8);
        r.cmd(0xae);
        r.cmd(0x20);
        assert_eq!(r.drain(), vec![0x00]);
        // Other RAM bytes through 0x61-0x7F / 0x21-0x3F.
        r.cmd(0x65);
        r.data(0x5a);
        r.cmd(0x25);
        assert_eq!(r.drain(), vec![0x5a]);
    }

    #[test]
    fn a20_through_the_output_port() {
        let mut r = rig();
        assert!(r.signals.a20.get(), "pins come out of reset high");
        r.cmd(0xd1);
        r.data(0xdd);
        assert!(!r.signals.a20.get());
        assert!(!r.signals.reset.get(), "bit 0 set: no reset");
        r.cmd(0xd0);
        assert_eq!(r.drain(), vec![0xcd]);
        r.cmd(0xd1);
        r.data(0xdf);
        assert!(r.signals.a20.get());
        r.cmd(0xd0);
        assert_eq!(r.drain(), vec![0xcf]);
        assert!(!r.signals.reset.get());
        // 0x02 alone also has bit 0 (reset) low: A20 on and a reset pulse.
        r.cmd(0xd1);
        r.data(0x02);
        assert!(r.signals.a20.get());
        assert!(r.signals.reset.get());
        r.signals.reset.set(false);
        r.cmd(0xd1);
        r.data(0x00);
        assert!(!r.signals.a20.get());
        assert!(r.signals.reset.get());
    }

    #[test]
    fn a20_through_dd_and_df() {
        let mut r = rig();
        r.cmd(0xdd);
        assert!(!r.signals.a20.get());
        r.cmd(0xd0);
        assert_eq!(r.drain()[0] & OUT_A20, 0);
        r.cmd(0xdf);
        assert!(r.signals.a20.get());
        r.cmd(0xd0);
        assert_eq!(r.drain()[0] & OUT_A20, OUT_A20);
        assert!(!r.signals.reset.get());
    }

    #[test]
    fn reset_by_pulse_commands() {
        let mut r = rig();
        r.cmd(0xfe);
        assert!(r.signals.reset.get());
        r.signals.reset.set(false);
        r.cmd(0xff);
        assert!(!r.signals.reset.get(), "0xFF pulses nothing");
        r.cmd(0xf0);
        assert!(
            r.signals.reset.get(),
            "0xF0 pulses every line, reset included"
        );
        r.signals.reset.set(false);
        r.cmd(0xfd);
        assert!(!r.signals.reset.get(), "0xFD leaves bit 0 alone");
        r.cmd(0xfc);
        assert!(r.signals.reset.get());
        // The controller itself survives: SYS stays as it was.
        r.cmd(0xaa);
        r.drain();
        r.cmd(0xfe);
        assert_eq!(r.status() & STAT_SYS, STAT_SYS);
    }

    #[test]
    fn reset_by_port92_with_the_same_signals() {
        // Port 0x92 and the controller share one reset line and one A20 gate.
        let r = rig();
        let mut p92 = crate::port92::Port92::new(r.signals.clone());
        p92.write(0, 1, 0x01);
        assert!(r.signals.reset.get());
        assert!(
            !r.signals.a20.get(),
            "port 0x92 wrote A20 last: its clear bit wins"
        );
    }

    #[test]
    fn keyboard_reset_and_identify_in_order() {
        let mut r = rig();
        r.data(0xff);
        assert_eq!(r.drain(), vec![0xfa, 0xaa]);
        // Untranslated and translated identification.
        r.set_command_byte(CMD_INT);
        r.data(0xf2);
        assert_eq!(r.drain(), vec![0xfa, 0xab, 0x83]);
        r.set_command_byte(CMD_INT | CMD_XLATE);
        r.data(0xf2);
        assert_eq!(r.drain(), vec![0xfa, 0xab, 0x41]);
    }

    #[test]
    fn keyboard_commands() {
        let mut r = rig();
        r.set_command_byte(CMD_INT);
        r.data(0xed);
        r.data(0x05);
        assert_eq!(r.drain(), vec![0xfa, 0xfa]);
        assert_eq!(r.kbc.leds(), 0x05);
        r.data(0xf3);
        r.data(0x20);
        assert_eq!(r.drain(), vec![0xfa, 0xfa]);
        r.data(0xf0);
        r.data(0x00);
        assert_eq!(r.drain(), vec![0xfa, 0xfa, 0x02]);
        r.data(0xf0);
        r.data(0x02);
        assert_eq!(r.drain(), vec![0xfa, 0xfa]);
        r.data(0xf0);
        r.data(0x03);
        assert_eq!(r.drain(), vec![0xfa, 0xfe]);
        r.data(0xee);
        assert_eq!(r.drain(), vec![0xee]);
        r.data(0xfe);
        assert_eq!(r.drain(), vec![0xee], "resend repeats the last byte");
        r.data(0xf6);
        r.data(0xf4);
        assert_eq!(r.drain(), vec![0xfa, 0xfa]);
        r.data(0x42);
        r.data(0xf1);
        assert_eq!(r.drain(), vec![0xfe, 0xfe], "unknown commands");
        // A command in place of an option byte runs as a command.
        r.data(0xed);
        r.data(0xf2);
        assert_eq!(r.drain(), vec![0xfa, 0xfa, 0xab, 0x83]);
        // Disabled keyboard drops keys; enabling brings them back.
        r.data(0xf5);
        assert_eq!(r.drain(), vec![0xfa]);
        r.kbc.key_event(&[0x1c]);
        assert_eq!(r.drain(), Vec::<u8>::new());
        r.data(0xf4);
        r.kbc.key_event(&[0x1c]);
        assert_eq!(r.drain(), vec![0xfa, 0x1c]);
    }

    #[test]
    fn keys_translated_to_set1() {
        let mut r = rig();
        assert!(r.kbc.type_char(b'a'));
        assert_eq!(r.drain(), vec![0x1e, 0x9e]);
        assert!(r.kbc.type_char(b'A'));
        assert_eq!(r.drain(), vec![0x2a, 0x1e, 0x9e, 0xaa]);
        assert_eq!(r.kbc.type_str("1 \n\x08/"), 5);
        assert_eq!(
            r.drain(),
            vec![0x02, 0x82, 0x39, 0xb9, 0x1c, 0x9c, 0x0e, 0x8e, 0x35, 0xb5]
        );
        // Extended keys keep their E0 prefix: Up arrow make/break.
        r.kbc.key_event(&[0xe0, 0x75, 0xe0, 0xf0, 0x75]);
        assert_eq!(r.drain(), vec![0xe0, 0x48, 0xe0, 0xc8]);
        // F7 is 0x83 in set 2, 0x41 in set 1.
        r.kbc.key_event(&[0x83, 0xf0, 0x83]);
        assert_eq!(r.drain(), vec![0x41, 0xc1]);
        assert!(!r.kbc.type_char(0x80));
    }

    #[test]
    fn keys_untranslated_are_set2() {
        let mut r = rig();
        r.set_command_byte(CMD_INT);
        r.kbc.type_char(b'a');
        assert_eq!(r.drain(), vec![0x1c, 0xf0, 0x1c]);
        r.kbc.type_char(b'?');
        assert_eq!(r.drain(), vec![0x12, 0x4a, 0xf0, 0x4a, 0xf0, 0x12]);
    }

    #[test]
    fn irq1_follows_the_output_buffer() {
        let mut r = rig();
        r.kbc.type_char(b'a');
        assert!(r.sink.level(KBD_IRQ));
        assert_eq!(r.status() & (STAT_OBF | STAT_AUXB), STAT_OBF);
        assert_eq!(r.read(), 0x1e);
        // The read lowers the line, the next byte raises it again: a fresh edge.
        assert!(r.sink.level(KBD_IRQ));
        assert_eq!(r.sink.rising_edges(KBD_IRQ), 2);
        assert_eq!(r.read(), 0x9e);
        assert!(!r.sink.level(KBD_IRQ));
        assert_eq!(r.status() & STAT_OBF, 0);
        assert_eq!(r.read(), 0x9e, "an empty buffer reads the last byte");
        assert_eq!(r.sink.rising_edges(KBD_IRQ), 2);
        // INT clear: OBF without IRQ 1.
        r.set_command_byte(CMD_XLATE);
        r.kbc.type_char(b'a');
        assert_eq!(r.status() & STAT_OBF, STAT_OBF);
        assert!(!r.sink.level(KBD_IRQ));
        // Setting INT with a byte waiting raises it.
        r.set_command_byte(CMD_XLATE | CMD_INT);
        assert!(r.sink.level(KBD_IRQ));
        assert_eq!(r.drain(), vec![0x1e, 0x9e]);
        assert!(!r.sink.level(KBD_IRQ));
        assert!(!r.sink.level(AUX_IRQ));
    }

    #[test]
    fn disabled_keyboard_holds_data() {
        let mut r = rig();
        r.cmd(0xad);
        r.kbc.type_char(b'a');
        assert_eq!(r.status() & STAT_OBF, 0);
        assert!(!r.sink.level(KBD_IRQ));
        // Controller replies still come through.
        r.cmd(0x20);
        assert_eq!(r.drain(), vec![CMD_INT | CMD_XLATE | CMD_DISABLE_KBD]);
        r.cmd(0xae);
        assert!(r.sink.level(KBD_IRQ));
        assert_eq!(r.drain(), vec![0x1e, 0x9e]);
        // Through the command byte too.
        r.set_command_byte(CMD_INT | CMD_XLATE | CMD_DISABLE_KBD);
        r.kbc.type_char(b'b');
        assert_eq!(r.status() & STAT_OBF, 0);
        r.set_command_byte(CMD_INT | CMD_XLATE);
        assert_eq!(r.drain(), vec![0x30, 0xb0]);
    }

    #[test]
    fn replies_wait_behind_a_full_buffer() {
        let mut r = rig();
        r.kbc.key_event(&[0x1c]);
        r.cmd(0x20);
        assert_eq!(r.drain(), vec![0x1e, CMD_INT | CMD_XLATE]);
    }

    #[test]
    fn write_output_buffers_d2_d3() {
        let mut r = rig();
        r.set_command_byte(CMD_INT | CMD_INT2);
        r.cmd(0xd2);
        r.data(0x12);
        assert_eq!(r.status() & (STAT_OBF | STAT_AUXB), STAT_OBF);
        assert!(r.sink.level(KBD_IRQ));
        assert_eq!(r.read(), 0x12);
        r.cmd(0xd3);
        r.data(0x34);
        assert_eq!(r.status() & (STAT_OBF | STAT_AUXB), STAT_OBF | STAT_AUXB);
        assert!(r.sink.level(AUX_IRQ) && !r.sink.level(KBD_IRQ));
        assert_eq!(r.read(), 0x34);
        assert!(!r.sink.level(AUX_IRQ));
    }

    fn to_mouse(r: &mut Rig, b: u8) {
        r.cmd(0xd4);
        r.data(b);
    }

    #[test]
    fn mouse_commands() {
        let mut r = rig();
        r.set_command_byte(CMD_INT | CMD_INT2 | CMD_XLATE);
        to_mouse(&mut r, 0xff);
        assert_eq!(r.status() & STAT_AUXB, STAT_AUXB);
        assert_eq!(r.drain(), vec![0xfa, 0xaa, 0x00]);
        to_mouse(&mut r, 0xf2);
        assert_eq!(r.drain(), vec![0xfa, 0x00]);
        to_mouse(&mut r, 0xf3);
        to_mouse(&mut r, 40);
        to_mouse(&mut r, 0xe8);
        to_mouse(&mut r, 3);
        to_mouse(&mut r, 0xe7);
        assert_eq!(r.drain(), vec![0xfa; 5]);
        to_mouse(&mut r, 0xe9);
        assert_eq!(r.drain(), vec![0xfa, 0x10, 3, 40]);
        to_mouse(&mut r, 0xe6);
        to_mouse(&mut r, 0xf4);
        to_mouse(&mut r, 0xf0);
        to_mouse(&mut r, 0xe9);
        assert_eq!(r.drain(), vec![0xfa, 0xfa, 0xfa, 0xfa, 0x60, 3, 40]);
        to_mouse(&mut r, 0xf3);
        to_mouse(&mut r, 41);
        to_mouse(&mut r, 0x00);
        assert_eq!(
            r.drain(),
            vec![0xfa, 0xfe, 0xfe],
            "bad rate, unknown command"
        );
        // Remote mode: movement waits for Read Data.
        r.kbc.mouse_move(5, -3, BTN_LEFT);
        assert_eq!(r.drain(), Vec::<u8>::new());
        to_mouse(&mut r, 0xeb);
        assert_eq!(r.drain(), vec![0xfa, 0x29, 5, 0xfd]);
        // Wrap mode echoes until 0xEC.
        to_mouse(&mut r, 0xee);
        to_mouse(&mut r, 0x55);
        to_mouse(&mut r, 0xec);
        to_mouse(&mut r, 0xea);
        assert_eq!(r.drain(), vec![0xfa, 0x55, 0xfa, 0xfa]);
        to_mouse(&mut r, 0xf5);
        to_mouse(&mut r, 0xe9);
        assert_eq!(r.drain(), vec![0xfa, 0xfa, 0x04, 3, 40]);
    }

    #[test]
    fn mouse_packets_raise_irq12_with_auxb() {
        let mut r = rig();
        r.set_command_byte(CMD_INT | CMD_INT2 | CMD_XLATE);
        r.kbc.mouse_move(10, 10, 0);
        assert_eq!(
            r.status() & STAT_OBF,
            0,
            "reporting disabled after power-on"
        );
        to_mouse(&mut r, 0xf4);
        assert_eq!(r.drain(), vec![0xfa]);
        r.sink.log.borrow_mut().clear();
        r.kbc.mouse_move(10, -20, BTN_LEFT | BTN_RIGHT);
        assert_eq!(
            r.status(),
            STAT_OBF | STAT_AUXB | STAT_INH,
            "A2 clear after data"
        );
        assert!(r.sink.level(AUX_IRQ));
        assert!(!r.sink.level(KBD_IRQ));
        assert_eq!(r.read(), 0x2b);
        assert_eq!(r.read(), 10);
        assert_eq!(r.read(), 0xec);
        assert!(!r.sink.level(AUX_IRQ));
        assert_eq!(r.sink.rising_edges(AUX_IRQ), 3, "one edge per byte");
        assert_eq!(r.status() & (STAT_OBF | STAT_AUXB), 0);
        // Overflow saturates and flags.
        r.kbc.mouse_move(300, -300, 0);
        assert_eq!(r.drain(), vec![0xe8, 0xff, 0x00]);
        // 2:1 scaling: 3 → 3, 4 → 6, 7 → 14.
        to_mouse(&mut r, 0xe7);
        r.drain();
        r.kbc.mouse_move(4, 7, 0);
        assert_eq!(r.drain(), vec![0x08, 6, 14]);
        // Aux interface disabled: packets wait; keyboard bytes still pass.
        r.cmd(0xa7);
        r.kbc.mouse_move(1, 1, 0);
        r.kbc.key_event(&[0x1c]);
        assert_eq!(r.drain(), vec![0x1e]);
        r.cmd(0xa8);
        assert_eq!(r.drain(), vec![0x08, 1, 1]);
        // INT2 clear: AUXB without IRQ 12.
        r.set_command_byte(CMD_INT | CMD_XLATE);
        r.kbc.mouse_move(1, 0, 0);
        assert_eq!(r.status() & STAT_AUXB, STAT_AUXB);
        assert!(!r.sink.level(AUX_IRQ));
    }

    #[test]
    fn keyboard_overrun_is_reported_not_panicked() {
        let mut r = rig();
        r.set_command_byte(CMD_INT | CMD_DISABLE_KBD);
        for _ in 0..200 {
            r.kbc.type_char(b'a');
        }
        r.set_command_byte(CMD_INT);
        let got = r.drain();
        assert_eq!(got.len(), KBD_BUFFER);
        assert_eq!(got.last(), Some(&KBD_OVERRUN));
        assert_eq!(&got[..3], &[0x1c, 0xf0, 0x1c]);
    }

    #[test]
    fn every_write_is_survivable() {
        let mut r = rig();
        for c in 0..=255u8 {
            for d in [0x00, 0x5a, 0xff] {
                r.cmd(c);
                r.data(d);
                r.kbc.write(1, 2, 0xffff);
                r.kbc.read(2, 4);
                r.drain();
            }
        }
        r.kbc.mouse_move(i32::MAX, i32::MIN, 0xff);
        r.kbc.mouse_move(i32::MAX, i32::MIN, 0xff);
        r.drain();
    }

    #[test]
    fn registers_on_two_single_ports() {
        let r = rig();
        let kbc = Rc::new(RefCell::new(r.kbc));
        let mut bus = PortBus::new();
        I8042::register(&kbc, &mut bus);
        bus.write(0x64, 1, 0xaa);
        assert_eq!(bus.read(0x64, 1) as u8 & STAT_OBF, STAT_OBF);
        assert_eq!(bus.read(0x60, 1), 0x55);
        assert_eq!(bus.read(0x61, 1), 0xff, "0x61 is not claimed");
        kbc.borrow_mut().type_char(b'a');
        assert_eq!(bus.read(0x60, 1), 0x1e);
    }
}
