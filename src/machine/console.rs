//! The host side of the serial console: a reader thread turns stdin into bytes on a
//! crossbeam channel, and a terminal on stdin is switched to raw mode for as long as
//! the console is attached (restored on drop, including on a panic's unwinding).
//! Ctrl-A x ends the run, as in QEMU; Ctrl-A Ctrl-A sends one Ctrl-A to the guest.

use std::io::{IsTerminal, Read};
use std::process::{Command, Stdio};

use crossbeam_channel::{Receiver, Sender};

/// What the reader thread sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Byte(u8),
    /// Ctrl-A x: the user ends the run.
    Quit,
    /// stdin closed: no more input will come.
    Eof,
}

const CTRL_A: u8 = 0x01;

/// Splits a host byte stream into guest bytes and the Ctrl-A escape commands.
#[derive(Default)]
pub struct Escapes {
    armed: bool,
}

impl Escapes {
    /// The input event a host byte gives, if any.
    pub fn feed(&mut self, b: u8) -> Option<Input> {
        if self.armed {
            self.armed = false;
            return match b {
                b'x' | b'X' => Some(Input::Quit),
                CTRL_A => Some(Input::Byte(CTRL_A)),
                _ => None,
            };
        }
        if b == CTRL_A {
            self.armed = true;
            return None;
        }
        Some(Input::Byte(b))
    }
}

/// Starts the stdin reader thread.
pub fn spawn_stdin_reader() -> Receiver<Input> {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || read_loop(std::io::stdin(), tx));
    rx
}

fn read_loop(mut input: impl Read, tx: Sender<Input>) {
    let mut esc = Escapes::default();
    let mut buf = [0u8; 256];
    loop {
        match input.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = tx.send(Input::Eof);
                return;
            }
            Ok(n) => {
                for &b in &buf[..n] {
                    if let Some(ev) = esc.feed(b) {
                        if tx.send(ev).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// A terminal on stdin in raw mode; the saved settings come back on drop.
pub struct RawTerminal {
    saved: String,
}

impl RawTerminal {
    /// Switches stdin to raw mode if it is a terminal (with `stty`, which every Unix
    /// host has); `None` when it is not a terminal or `stty` is unavailable.
    pub fn enter() -> Option<Self> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let out = Command::new("stty")
            .arg("-g")
            .stdin(Stdio::inherit())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let saved = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ok = Command::new("stty")
            .args(["raw", "-echo"])
            .stdin(Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = Command::new("stty")
            .arg(&self.saved)
            .stdin(Stdio::inherit())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_a_escapes() {
        let mut e = Escapes::default();
        let got: Vec<_> = b"ab\x01\x01c\x01zd\x01x"
            .iter()
            .filter_map(|&b| e.feed(b))
            .collect();
        assert_eq!(
            got,
            vec![
                Input::Byte(b'a'),
                Input::Byte(b'b'),
                Input::Byte(CTRL_A),
                Input::Byte(b'c'),
                Input::Byte(b'd'),
                Input::Quit
            ]
        );
    }

    #[test]
    fn reader_thread_forwards_bytes_then_eof() {
        let (tx, rx) = crossbeam_channel::unbounded();
        read_loop(&b"hi\x01x"[..], tx);
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(
            got,
            vec![
                Input::Byte(b'h'),
                Input::Byte(b'i'),
                Input::Quit,
                Input::Eof
            ]
        );
    }
}
