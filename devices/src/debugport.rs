//! The QEMU/Bochs debug ports: the 0xE9 debug console, the 0x80/0x190 POST-code
//! ports and the 0xF4 exit device (`isa-debug-exit`: a write of v ends the run with
//! exit status (v << 1) | 1).

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;

use crate::bus::BusDevice;

/// Port 0xE9: bytes written appear on the sink; reads return 0xE9 (Bochs' "port e9 hack"
/// signature, so guests can detect the console).
pub struct DebugCon {
    sink: Option<Box<dyn Write>>,
}

impl DebugCon {
    pub fn new(sink: Option<Box<dyn Write>>) -> Self {
        Self { sink }
    }
}

impl BusDevice for DebugCon {
    fn read(&mut self, _offset: u32, _size: u8) -> u32 {
        0xe9
    }

    fn write(&mut self, _offset: u32, _size: u8, value: u32) {
        if let Some(sink) = &mut self.sink {
            // A console that went away (closed pipe) must not stop the guest.
            let _ = sink.write_all(&[value as u8]);
            if value as u8 == b'\n' {
                let _ = sink.flush();
            }
        }
    }

    fn name(&self) -> &str {
        "debugcon"
    }
}

impl Drop for DebugCon {
    fn drop(&mut self) {
        if let Some(sink) = &mut self.sink {
            let _ = sink.flush();
        }
    }
}

/// Ports 0x80 and 0x190: POST codes, recorded and optionally printed to stderr.
pub struct PostCodes {
    pub codes: Vec<u8>,
    pub print: bool,
    port: u16,
}

impl PostCodes {
    pub fn new(port: u16, print: bool) -> Self {
        Self {
            codes: Vec::new(),
            print,
            port,
        }
    }
}

impl BusDevice for PostCodes {
    fn read(&mut self, _offset: u32, _size: u8) -> u32 {
        self.codes.last().copied().unwrap_or(0xff) as u32
    }

    fn write(&mut self, _offset: u32, _size: u8, value: u32) {
        self.codes.push(value as u8);
        if self.print {
            eprintln!("POST {:#x}: {:#04x}", self.port, value as u8);
        }
    }

    fn name(&self) -> &str {
        "post"
    }
}

/// Port 0xF4: the exit device. The machine polls `request` after each I/O write.
pub struct ExitDevice {
    pub request: Rc<Cell<Option<u32>>>,
}

impl BusDevice for ExitDevice {
    fn read(&mut self, _offset: u32, _size: u8) -> u32 {
        0xffff_ffff
    }

    fn write(&mut self, _offset: u32, _size: u8, value: u32) {
        self.request.set(Some((value << 1) | 1));
    }

    fn name(&self) -> &str {
        "isa-debug-exit"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_device_encodes_status() {
        let request = Rc::new(Cell::new(None));
        let mut dev = ExitDevice {
            request: request.clone(),
        };
        dev.write(0, 1, 0x21);
        assert_eq!(request.get(), Some(0x43));
    }

    #[test]
    fn post_codes_are_recorded() {
        let mut dev = PostCodes::new(0x80, false);
        dev.write(0, 1, 0x12);
        dev.write(0, 1, 0x34);
        assert_eq!(dev.codes, vec![0x12, 0x34]);
        assert_eq!(dev.read(0, 1), 0x34);
    }
}
