//! National Semiconductor PC16550D UART with FIFOs (datasheet, June 1995): the register
//! summary (RBR/THR/IER/IIR/FCR/LCR/MCR/LSR/MSR/SCR, DLL/DLM behind LCR.DLAB), the
//! "Interrupt Control Functions" table for IIR priorities and reset rules, "FIFO Interrupt
//! Mode Operation" for trigger levels, the character timeout and the delayed THRE
//! indication, "Modem Control Register" for loopback, and the reset configuration table.
//! Wired as on PCs: COM1 at 0x3F8/IRQ4, COM2 at 0x2F8/IRQ3, a 1.8432 MHz crystal, and
//! MCR.OUT2 gating INTR onto the ISA IRQ line.
//!
//! Modelling choices:
//! - Time is virtual (`Clock`). A character takes `16 * divisor * bits / 1.8432 MHz`, where
//!   bits = start + 5..8 data + parity + 1, 1.5 or 2 stop. A divisor of 0 counts as 65536.
//!   Events (shift register done, delayed THRE, character timeout) are applied at their
//!   own timestamps, so the state is a pure function of the register accesses and the
//!   clock, whether the machine calls `advance` promptly or late.
//! - Transmit: THR/TX FIFO feed the shift register (TSR). A byte is written to the host
//!   output when it enters the TSR (so output is not held back); THRE/TEMT and the THRE
//!   interrupt follow the line rate. The output is flushed at '\n' and whenever the
//!   transmitter goes idle (prompts without a newline appear). Write errors are ignored.
//! - Receive: host input arrives through `receive`, paced to the line rate (one byte per
//!   character time) and refused (returns false, the machine keeps the byte and retries)
//!   when the RX FIFO (or the 16450 RBR) is full or the UART is in loopback, whose SIN is
//!   disconnected. So host input is never lost and never overruns; a pasted line stays
//!   intact and produces the trigger-level and timeout interrupts a real line would.
//!   Overrun does happen for loopback traffic the guest does not read.
//! - The back-end has no modem lines: outside loopback MSR shows CTS, DSR and DCD
//!   asserted, RI off (a connected null-modem peer). Parity, framing and break errors are
//!   never produced; LCR break/parity settings only affect the character time.
//! - OUT2 is the MCR register bit (as in Super I/O parts), so it gates the IRQ in loopback
//!   too. FCR DMA mode is stored but there are no RXRDY/TXRDY pins.
//! - The THRE interrupt is latched on an ETBEI 0->1 write while THRE is set (as 8250
//!   drivers expect), by the THR/TX FIFO emptying, and by a TX FIFO reset; in FIFO mode a
//!   FIFO that never held two bytes delays it by one character time less one stop bit
//!   (the first one after an FCR0 change is immediate). LSR.THRE itself is never delayed.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Write;
use std::rc::Rc;

use crate::bus::{all_ones, BusDevice, PortBus};
use crate::clock::{ticks_to_ns, Clock};
use crate::irq::IrqLine;

/// COM1 base port and ISA IRQ.
pub const COM1_BASE: u16 = 0x3f8;
pub const COM1_IRQ: u8 = 4;
/// COM2 base port and ISA IRQ.
pub const COM2_BASE: u16 = 0x2f8;
pub const COM2_IRQ: u8 = 3;
/// Ports a UART decodes.
pub const PORT_COUNT: u16 = 8;
/// The PC's UART crystal (XIN).
pub const XTAL_HZ: u64 = 1_843_200;

/// Depth of each FIFO.
const FIFO_SIZE: usize = 16;
/// Divisor after power-on: not specified by the datasheet (not affected by MR); 12 gives
/// 9600 baud, as QEMU and most BIOSes leave it.
const POWER_ON_DIVISOR: u16 = 12;

// Register offsets (datasheet register summary). Offsets 0 and 1 are DLL/DLM when DLAB=1.
const RBR: u32 = 0; // read
const THR: u32 = 0; // write
const DLL: u32 = 0;
const IER: u32 = 1;
const DLM: u32 = 1;
const IIR: u32 = 2; // read
const FCR: u32 = 2; // write
const LCR: u32 = 3;
const MCR: u32 = 4;
const LSR: u32 = 5;
const MSR: u32 = 6;
const SCR: u32 = 7;

// Interrupt Enable Register.
const IER_ERBFI: u8 = 0x01; // received data available (and character timeout)
const IER_ETBEI: u8 = 0x02; // transmitter holding register empty
const IER_ELSI: u8 = 0x04; // receiver line status
const IER_EDSSI: u8 = 0x08; // modem status
const IER_MASK: u8 = 0x0f;

// Interrupt Identification Register (bits 3:0) and the FIFO-enabled bits 7:6.
const IIR_NO_INT: u8 = 0x01;
const IIR_RLS: u8 = 0x06;
const IIR_RDA: u8 = 0x04;
const IIR_CTI: u8 = 0x0c;
const IIR_THRE: u8 = 0x02;
const IIR_MS: u8 = 0x00;
const IIR_FIFOS_ENABLED: u8 = 0xc0;

// FIFO Control Register.
const FCR_FIFO_ENABLE: u8 = 0x01;
const FCR_RCVR_RESET: u8 = 0x02;
const FCR_XMIT_RESET: u8 = 0x04;
const FCR_DMA_MODE: u8 = 0x08;
const FCR_TRIGGER: u8 = 0xc0;
const RX_TRIGGER_LEVELS: [usize; 4] = [1, 4, 8, 14];

// Line Control Register.
const LCR_WLS: u8 = 0x03;
const LCR_STB: u8 = 0x04;
const LCR_PEN: u8 = 0x08;
const LCR_DLAB: u8 = 0x80;

// Modem Control Register.
const MCR_DTR: u8 = 0x01;
const MCR_RTS: u8 = 0x02;
const MCR_OUT1: u8 = 0x04;
const MCR_OUT2: u8 = 0x08;
const MCR_LOOP: u8 = 0x10;
const MCR_MASK: u8 = 0x1f;

// Line Status Register.
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_PE: u8 = 0x04;
const LSR_FE: u8 = 0x08;
const LSR_BI: u8 = 0x10;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
/// Bits cleared by reading LSR (and the receiver line status interrupt sources).
const LSR_ERRORS: u8 = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

// Modem Status Register.
const MSR_DCTS: u8 = 0x01;
const MSR_DDSR: u8 = 0x02;
const MSR_TERI: u8 = 0x04;
const MSR_DDCD: u8 = 0x08;
const MSR_DELTAS: u8 = 0x0f;
const MSR_CTS: u8 = 0x10;
const MSR_DSR: u8 = 0x20;
const MSR_RI: u8 = 0x40;
const MSR_DCD: u8 = 0x80;
/// Modem inputs outside loopback: the host end is a connected peer.
const HOST_MODEM_INPUTS: u8 = MSR_CTS | MSR_DSR | MSR_DCD;

/// The character in the transmitter shift register.
struct Shifting {
    byte: u8,
    /// Virtual time its last stop bit ends.
    end: u64,
    /// Sent in loopback: it arrives in the receiver at `end` instead of on SOUT.
    looped: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Event {
    TxDone,
    DelayedThre,
    RxTimeout,
}

/// One PC16550D. Register it on the port bus with `register` (8 ports) and keep a typed
/// handle to feed host input through `receive`.
pub struct Uart16550 {
    clock: Clock,
    irq: IrqLine,
    out: Box<dyn Write>,
    /// Level last driven on `irq`.
    irq_level: bool,

    divisor: u16,
    /// Time the line at 115,200 baud regardless of `divisor` (see `set_fast_line`).
    fast_line: bool,
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    /// FIFO enable, DMA mode and trigger bits as programmed (0 when FIFOs are off).
    fcr: u8,
    /// LSR OE/PE/FE/BI (`LSR_ERRORS`), cleared by reading LSR. Only OE is ever set.
    lsr_errors: u8,
    /// MSR: input lines in 7:4, delta bits in 3:0.
    msr: u8,
    /// The last character read from RBR (what reading an empty RBR returns).
    rbr: u8,

    /// RX FIFO; in 16450 mode it holds at most one byte (RBR).
    rx: VecDeque<u8>,
    /// TX FIFO; in 16450 mode it holds at most one byte (THR).
    tx: VecDeque<u8>,
    tsr: Option<Shifting>,

    /// THRE interrupt latched (cleared by reading IIR when it is the source, or THR write).
    thr_ipending: bool,
    /// Delayed THRE interrupt (FIFO mode, FIFO never held two bytes since THRE was last 1).
    thre_delayed_until: Option<u64>,
    /// The TX FIFO held two bytes at once since THRE was last 1.
    tx_had_two: bool,
    /// FCR0 changed and no transmitter interrupt has been latched since.
    fcr0_changed: bool,
    /// Character timeout interrupt pending (cleared by reading RBR).
    timeout_pending: bool,
    /// Start of the timeout timer: last character stored in, or read from, the RX FIFO.
    rx_timer_from: u64,
    /// When the last character arrived on SIN (or from loopback): input pacing.
    last_rx_at: Option<u64>,
}

impl Uart16550 {
    /// A UART after power-on (MR asserted), 9600 baud, driving `irq` (gated by MCR.OUT2),
    /// sending transmitted bytes to `out`.
    pub fn new(clock: Clock, irq: IrqLine, out: Box<dyn Write>) -> Self {
        Self {
            clock,
            irq,
            out,
            irq_level: false,
            divisor: POWER_ON_DIVISOR,
            fast_line: false,
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            fcr: 0,
            lsr_errors: 0,
            msr: HOST_MODEM_INPUTS,
            rbr: 0,
            rx: VecDeque::with_capacity(FIFO_SIZE),
            tx: VecDeque::with_capacity(FIFO_SIZE),
            tsr: None,
            thr_ipending: false,
            thre_delayed_until: None,
            tx_had_two: false,
            fcr0_changed: false,
            timeout_pending: false,
            rx_timer_from: 0,
            last_rx_at: None,
        }
    }

    /// Master reset (datasheet reset configuration table): IER, FCR, LCR, MCR cleared,
    /// FIFOs and shift registers emptied, LSR = THRE|TEMT, MSR deltas cleared, INTR low.
    /// The divisor latch, RBR and SCR are not affected.
    pub fn reset(&mut self) {
        self.ier = 0;
        self.lcr = 0;
        self.mcr = 0;
        self.fcr = 0;
        self.lsr_errors = 0;
        self.msr = HOST_MODEM_INPUTS;
        self.rx.clear();
        self.tx.clear();
        self.tsr = None;
        self.thr_ipending = false;
        self.thre_delayed_until = None;
        self.tx_had_two = false;
        self.fcr0_changed = false;
        self.timeout_pending = false;
        self.last_rx_at = None;
        let _ = self.out.flush();
        self.update_irq();
    }

    /// Offers one host byte to the receiver. Returns false (the caller keeps the byte and
    /// retries later) if the RX FIFO/RBR is full, the UART is in loopback, or less than
    /// one character time has passed since the previous character (`rx_ready_at`).
    pub fn receive(&mut self, byte: u8) -> bool {
        let now = self.clock.now();
        self.catch_up(now);
        if self.mcr & MCR_LOOP != 0 || self.rx.len() >= self.capacity() || now < self.rx_ready_at()
        {
            return false;
        }
        self.rx_char(byte, now);
        self.update_irq();
        true
    }

    /// Writes `bytes` straight to the console output, bypassing the transmitter, its
    /// FIFO and line timing: the built-in BIOS mirrors its screen output here so a
    /// headless user sees it. No register the guest can read changes.
    pub fn mirror(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
        let _ = self.out.flush();
    }

    /// The guest asserts DTR (MCR bit 0): it is ready for data. A console holds host
    /// input until then, as a terminal honouring DTR/DSR flow control would, so bytes
    /// typed before the guest set the port up are not lost to its FIFO reset.
    pub fn dtr(&self) -> bool {
        self.mcr & 0x01 != 0
    }

    /// Free room in the RX FIFO (1 byte RBR in 16450 mode); 0 in loopback. `receive`
    /// additionally paces input to one byte per character time.
    pub fn rx_space(&mut self) -> usize {
        let now = self.clock.now();
        self.catch_up(now);
        if self.mcr & MCR_LOOP != 0 {
            0
        } else {
            self.capacity().saturating_sub(self.rx.len())
        }
    }

    /// The earliest virtual time the line can deliver the next host byte (one character
    /// time after the previous one). A machine holding input while the guest idles should
    /// let the clock reach this.
    pub fn rx_ready_at(&self) -> u64 {
        self.last_rx_at
            .map_or(0, |t| t.saturating_add(self.char_ns()))
    }

    /// Duration of one bit at the programmed divisor, in ns.
    fn bit_ns(&self) -> u64 {
        ticks_to_ns(16 * self.divisor_value(), XTAL_HZ)
    }

    /// Duration of one character (start, data, parity, stop bits) in ns.
    fn char_ns(&self) -> u64 {
        let data = 5 + (self.lcr & LCR_WLS) as u64;
        let parity = (self.lcr & LCR_PEN != 0) as u64;
        let stop_halves = match (self.lcr & LCR_STB != 0, data) {
            (false, _) => 2,
            (true, 5) => 3,
            (true, _) => 4,
        };
        let half_bits = 2 * (1 + data + parity) + stop_halves;
        // 16 clocks per bit, half bits: 8 clocks per half bit.
        ticks_to_ns(8 * half_bits * self.divisor_value(), XTAL_HZ)
    }

    /// The divisor the line is timed by: the programmed one, or 1 (115,200 baud) on a
    /// fast line.
    fn divisor_value(&self) -> u64 {
        match (self.fast_line, self.divisor) {
            (true, _) => 1,
            (false, 0) => 0x1_0000,
            (false, d) => d as u64,
        }
    }

    /// Times characters as at 115,200 baud whatever divisor the guest programs (the
    /// divisor is still stored and read back). The host end of an emulated console is
    /// not a modem: a kernel that logs at 9600 baud would otherwise spend most of its
    /// boot waiting for the transmitter, as it would on real hardware. Off by default.
    pub fn set_fast_line(&mut self, on: bool) {
        self.fast_line = on;
    }

    fn word_mask(&self) -> u8 {
        0xff >> (3 - (self.lcr & LCR_WLS))
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_FIFO_ENABLE != 0
    }

    /// Bytes the RX/TX holding side can take: the FIFO, or RBR/THR in 16450 mode.
    fn capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_SIZE
        } else {
            1
        }
    }

    fn rx_trigger(&self) -> usize {
        if self.fifo_enabled() {
            RX_TRIGGER_LEVELS[(self.fcr >> 6) as usize & 3]
        } else {
            1
        }
    }

    fn timeout_at(&self) -> Option<u64> {
        if self.fifo_enabled() && !self.rx.is_empty() && !self.timeout_pending {
            Some(
                self.rx_timer_from
                    .saturating_add(self.char_ns().saturating_mul(4)),
            )
        } else {
            None
        }
    }

    /// The earliest pending timed event; ties go to the shift register first (a character
    /// arriving at the timeout instant restarts the timer).
    fn next_event(&self) -> Option<(u64, Event)> {
        let candidates = [
            (self.tsr.as_ref().map(|s| s.end), Event::TxDone),
            (self.thre_delayed_until, Event::DelayedThre),
            (self.timeout_at(), Event::RxTimeout),
        ];
        let mut best: Option<(u64, Event)> = None;
        for (t, ev) in candidates {
            if let Some(t) = t {
                if best.is_none_or(|(b, _)| t < b) {
                    best = Some((t, ev));
                }
            }
        }
        best
    }

    /// Applies every event due at or before `now`, in time order, then drives INTR.
    fn catch_up(&mut self, now: u64) {
        while let Some((t, ev)) = self.next_event() {
            if t > now {
                break;
            }
            match ev {
                Event::TxDone => self.finish_char(t),
                Event::DelayedThre => {
                    self.thre_delayed_until = None;
                    self.thr_ipending = true;
                }
                Event::RxTimeout => self.timeout_pending = true,
            }
        }
        self.update_irq();
    }

    /// The TSR finished its character at `t`.
    fn finish_char(&mut self, t: u64) {
        let Some(done) = self.tsr.take() else {
            return;
        };
        if done.looped {
            self.rx_char(done.byte, t);
        }
        self.start_char(t);
        if self.tsr.is_none() {
            // Transmitter idle (TEMT): push out partial lines such as shell prompts.
            let _ = self.out.flush();
        }
    }

    /// Moves the next byte from THR/TX FIFO into an idle TSR at time `t`.
    fn start_char(&mut self, t: u64) {
        if self.tsr.is_some() {
            return;
        }
        let Some(byte) = self.tx.pop_front() else {
            return;
        };
        let byte = byte & self.word_mask();
        let looped = self.mcr & MCR_LOOP != 0;
        if !looped {
            // A console that went away (closed pipe) must not stop the guest.
            let _ = self.out.write_all(&[byte]);
            if byte == b'\n' {
                let _ = self.out.flush();
            }
        }
        self.tsr = Some(Shifting {
            byte,
            end: t.saturating_add(self.char_ns()),
            looped,
        });
        if self.tx.is_empty() {
            self.thr_emptied(t);
        }
    }

    /// THR / TX FIFO became empty at `t` (LSR.THRE 0 -> 1): latch the THRE interrupt,
    /// delayed in FIFO mode unless two bytes were queued at once or FCR0 just changed.
    fn thr_emptied(&mut self, t: u64) {
        if self.fifo_enabled() && !self.tx_had_two && !self.fcr0_changed {
            let delay = self.char_ns().saturating_sub(self.bit_ns());
            self.thre_delayed_until = Some(t.saturating_add(delay));
        } else {
            self.thr_ipending = true;
        }
        self.tx_had_two = false;
        self.fcr0_changed = false;
    }

    /// A character completes in the receiver at `t`.
    fn rx_char(&mut self, byte: u8, t: u64) {
        let byte = byte & self.word_mask();
        if self.rx.len() >= self.capacity() {
            // Overrun: in FIFO mode the character in the shift register is lost; in 16450
            // mode it overwrites RBR.
            self.lsr_errors |= LSR_OE;
            if !self.fifo_enabled() {
                if let Some(last) = self.rx.back_mut() {
                    *last = byte;
                }
            }
        } else {
            self.rx.push_back(byte);
            self.rx_timer_from = t;
        }
        self.last_rx_at = Some(t);
    }

    fn reset_rx_fifo(&mut self) {
        self.rx.clear();
        self.timeout_pending = false;
    }

    fn reset_tx_fifo(&mut self) {
        if !self.tx.is_empty() {
            self.tx.clear();
            self.thr_ipending = true;
            self.thre_delayed_until = None;
            self.tx_had_two = false;
            self.fcr0_changed = false;
        }
    }

    /// The highest-priority enabled interrupt source (IIR bits 3:0), if any.
    fn interrupt_id(&self) -> Option<u8> {
        if self.ier & IER_ELSI != 0 && self.lsr_errors & LSR_ERRORS != 0 {
            return Some(IIR_RLS);
        }
        if self.ier & IER_ERBFI != 0 {
            if !self.rx.is_empty() && self.rx.len() >= self.rx_trigger() {
                return Some(IIR_RDA);
            }
            if self.timeout_pending {
                return Some(IIR_CTI);
            }
        }
        if self.ier & IER_ETBEI != 0 && self.thr_ipending {
            return Some(IIR_THRE);
        }
        if self.ier & IER_EDSSI != 0 && self.msr & MSR_DELTAS != 0 {
            return Some(IIR_MS);
        }
        None
    }

    fn update_irq(&mut self) {
        let level = self.interrupt_id().is_some() && self.mcr & MCR_OUT2 != 0;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set(level);
        }
    }

    /// Modem status inputs (MSR 7:4): the MCR outputs in loopback, else the host's lines.
    fn modem_inputs(&self) -> u8 {
        if self.mcr & MCR_LOOP != 0 {
            let m = self.mcr;
            (if m & MCR_RTS != 0 { MSR_CTS } else { 0 })
                | (if m & MCR_DTR != 0 { MSR_DSR } else { 0 })
                | (if m & MCR_OUT1 != 0 { MSR_RI } else { 0 })
                | (if m & MCR_OUT2 != 0 { MSR_DCD } else { 0 })
        } else {
            HOST_MODEM_INPUTS
        }
    }

    fn update_modem_inputs(&mut self) {
        let old = self.msr & !MSR_DELTAS;
        let new = self.modem_inputs();
        let changed = old ^ new;
        let mut delta = self.msr & MSR_DELTAS;
        if changed & MSR_CTS != 0 {
            delta |= MSR_DCTS;
        }
        if changed & MSR_DSR != 0 {
            delta |= MSR_DDSR;
        }
        // Trailing edge of ring: RI (the complement of the pin) going 1 -> 0.
        if old & MSR_RI != 0 && new & MSR_RI == 0 {
            delta |= MSR_TERI;
        }
        if changed & MSR_DCD != 0 {
            delta |= MSR_DDCD;
        }
        self.msr = new | delta;
    }

    fn lsr(&self) -> u8 {
        let mut v = self.lsr_errors;
        if !self.rx.is_empty() {
            v |= LSR_DR;
        }
        if self.tx.is_empty() {
            v |= LSR_THRE;
            if self.tsr.is_none() {
                v |= LSR_TEMT;
            }
        }
        // Bit 7 (error in RCVR FIFO) needs PE/FE/BI, which the back-ends never produce.
        v
    }

    fn read_reg(&mut self, offset: u32, now: u64) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            DLL if dlab => self.divisor as u8,
            DLM if dlab => (self.divisor >> 8) as u8,
            RBR => {
                if let Some(byte) = self.rx.pop_front() {
                    self.rbr = byte;
                    self.timeout_pending = false;
                    self.rx_timer_from = now;
                }
                self.rbr
            }
            IER => self.ier,
            IIR => {
                let id = self.interrupt_id();
                if id == Some(IIR_THRE) {
                    self.thr_ipending = false;
                }
                let fifos = if self.fifo_enabled() {
                    IIR_FIFOS_ENABLED
                } else {
                    0
                };
                fifos | id.unwrap_or(IIR_NO_INT)
            }
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => {
                let v = self.lsr();
                self.lsr_errors &= !LSR_ERRORS;
                v
            }
            MSR => {
                let v = self.msr;
                self.msr &= !MSR_DELTAS;
                v
            }
            SCR => self.scr,
            _ => {
                tracing::debug!(offset, "uart16550: read of unknown register");
                0xff
            }
        }
    }

    fn write_reg(&mut self, offset: u32, value: u8, now: u64) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            DLL if dlab => self.divisor = (self.divisor & 0xff00) | value as u16,
            DLM if dlab => self.divisor = (self.divisor & 0x00ff) | (value as u16) << 8,
            THR => {
                if self.tx.len() < self.capacity() {
                    self.tx.push_back(value);
                } else if self.fifo_enabled() {
                    tracing::debug!(value, "uart16550: write to a full TX FIFO, byte lost");
                } else if let Some(held) = self.tx.back_mut() {
                    // 16450: THR is overwritten.
                    *held = value;
                }
                if self.tx.len() >= 2 {
                    self.tx_had_two = true;
                }
                self.thr_ipending = false;
                self.thre_delayed_until = None;
                self.start_char(now);
            }
            IER => {
                let old = self.ier;
                self.ier = value & IER_MASK;
                if self.ier & IER_ETBEI == 0 {
                    self.thr_ipending = false;
                    self.thre_delayed_until = None;
                } else if old & IER_ETBEI == 0 && self.tx.is_empty() {
                    self.thr_ipending = true;
                    self.thre_delayed_until = None;
                }
            }
            FCR => {
                let was_enabled = self.fifo_enabled();
                let enable = value & FCR_FIFO_ENABLE != 0;
                // FCR0 must be 1 for the other bits to be programmed.
                self.fcr = if enable {
                    value & (FCR_FIFO_ENABLE | FCR_DMA_MODE | FCR_TRIGGER)
                } else {
                    0
                };
                if enable != was_enabled {
                    // Changing FCR0 clears both FIFOs.
                    self.fcr0_changed = true;
                    self.reset_rx_fifo();
                    self.reset_tx_fifo();
                }
                if enable {
                    if value & FCR_RCVR_RESET != 0 {
                        self.reset_rx_fifo();
                    }
                    if value & FCR_XMIT_RESET != 0 {
                        self.reset_tx_fifo();
                    }
                }
            }
            LCR => self.lcr = value,
            MCR => {
                self.mcr = value & MCR_MASK;
                self.update_modem_inputs();
            }
            SCR => self.scr = value,
            _ => tracing::debug!(
                offset,
                value,
                "uart16550: write to read-only or unknown register"
            ),
        }
    }
}

/// Registers `uart` on ports `base .. base + 8` (`COM1_BASE` or `COM2_BASE`).
pub fn register(ports: &mut PortBus, base: u16, uart: &Rc<RefCell<Uart16550>>) {
    ports.register(base, PORT_COUNT, uart.clone());
}

impl BusDevice for Uart16550 {
    /// Byte registers; a wider access reads consecutive registers (as the ISA bus splits
    /// it), little-endian.
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        let now = self.clock.now();
        self.catch_up(now);
        let mut value = 0;
        for i in 0..size.clamp(1, 4) as u32 {
            let reg = offset.wrapping_add(i);
            let byte = if reg < PORT_COUNT as u32 {
                self.read_reg(reg, now)
            } else {
                tracing::debug!(offset = reg, "uart16550: read beyond the register block");
                all_ones(1) as u8
            };
            value |= (byte as u32) << (8 * i);
        }
        self.update_irq();
        value
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        let now = self.clock.now();
        self.catch_up(now);
        for i in 0..size.clamp(1, 4) as u32 {
            let reg = offset.wrapping_add(i);
            let byte = (value >> (8 * i)) as u8;
            if reg < PORT_COUNT as u32 {
                self.write_reg(reg, byte, now);
            } else {
                tracing::debug!(offset = reg, "uart16550: write beyond the register block");
            }
        }
        self.update_irq();
    }

    fn name(&self) -> &str {
        "uart16550"
    }

    fn next_deadline(&self) -> Option<u64> {
        self.next_event().map(|(t, _)| t)
    }

    fn advance(&mut self, now: u64) {
        self.catch_up(now);
    }
}

impl Drop for Uart16550 {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::FakeIrqSink;

    /// 115200 8N1: 10 bits of 16 clocks at 1.8432 MHz = 86805.55 ns.
    const CHAR: u64 = 86_805;

    #[derive(Clone, Default)]
    struct Capture(Rc<RefCell<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    struct Rig {
        clock: Clock,
        sink: Rc<FakeIrqSink>,
        out: Capture,
        uart: Uart16550,
    }

    impl Rig {
        /// COM1 programmed for 115200 8N1, FIFOs off, OUT2 on, no interrupts enabled.
        fn new() -> Self {
            let clock = Clock::new();
            let sink = FakeIrqSink::new();
            let out = Capture::default();
            let uart = Uart16550::new(clock.clone(), sink.line(COM1_IRQ), Box::new(out.clone()));
            let mut rig = Self {
                clock,
                sink,
                out,
                uart,
            };
            rig.wr(LCR, LCR_DLAB);
            rig.wr(DLL, 1);
            rig.wr(DLM, 0);
            rig.wr(LCR, 0x03);
            rig.wr(MCR, MCR_OUT2);
            rig
        }

        fn wr(&mut self, reg: u32, v: u8) {
            self.uart.write(reg, 1, v as u32);
        }

        fn rd(&mut self, reg: u32) -> u8 {
            self.uart.read(reg, 1) as u8
        }

        /// Moves virtual time forward as the machine does: advance once a deadline is due.
        fn tick(&mut self, ns: u64) {
            self.clock.advance(ns);
            let now = self.clock.now();
            if self.uart.next_deadline().is_some_and(|d| d <= now) {
                self.uart.advance(now);
            }
        }

        fn irq(&self) -> bool {
            self.sink.level(COM1_IRQ)
        }

        fn output(&self) -> Vec<u8> {
            self.out.0.borrow().clone()
        }
    }

    #[test]
    fn dlab_selects_divisor_latch_and_round_trips() {
        let mut r = Rig::new();
        r.wr(IER, 0x05);
        r.wr(LCR, 0x83);
        assert_eq!(r.rd(DLL), 0x01);
        assert_eq!(r.rd(DLM), 0x00);
        r.wr(DLL, 0x34);
        r.wr(DLM, 0x12);
        assert_eq!(r.rd(DLL), 0x34);
        assert_eq!(r.rd(DLM), 0x12);
        assert_eq!(
            r.uart.read(DLL, 2),
            0x1234,
            "16-bit read covers DLL and DLM"
        );
        r.wr(LCR, 0x03);
        assert_eq!(r.rd(IER), 0x05, "IER untouched by DLM writes");
        r.wr(IER, 0xff);
        assert_eq!(r.rd(IER), 0x0f, "IER bits 7:4 read as zero");
        r.wr(LCR, 0x83);
        assert_eq!(r.rd(DLM), 0x12, "DLM untouched by IER writes");
        assert_eq!(r.uart.divisor, 0x1234);
    }

    #[test]
    fn character_time_follows_divisor_and_line_control() {
        let mut r = Rig::new();
        assert_eq!(r.uart.char_ns(), CHAR);
        assert_eq!(r.uart.bit_ns(), 8_680);
        r.wr(LCR, 0x0f); // 8 data, parity, 2 stop: 12 bits
        assert_eq!(r.uart.char_ns(), 104_166);
        r.wr(LCR, 0x04); // 5 data, 1.5 stop: 7.5 bits
        assert_eq!(r.uart.char_ns(), 65_104);
        r.wr(LCR, 0x83);
        r.wr(DLL, 12); // 9600 8N1
        assert_eq!(r.uart.char_ns(), 1_041_666);
        r.wr(DLL, 0);
        r.wr(DLM, 0); // 0 counts as 65536
        assert_eq!(r.uart.char_ns(), 5_688_888_888);
    }

    #[test]
    fn fast_line_times_characters_at_115200_baud_but_keeps_the_divisor() {
        let mut r = Rig::new();
        r.uart.set_fast_line(true);
        r.wr(LCR, 0x83);
        r.wr(DLL, 12); // 9600 8N1 as programmed...
        assert_eq!(r.uart.char_ns(), 86_805, "...timed as 115200 8N1");
        assert_eq!(r.rd(DLL), 12);
        r.uart.set_fast_line(false);
        assert_eq!(r.uart.char_ns(), 1_041_666);
    }

    #[test]
    fn fifo_enable_shows_in_iir_bits_7_6() {
        let mut r = Rig::new();
        assert_eq!(r.rd(IIR), 0x01);
        r.wr(FCR, 0xc6); // trigger and resets without FCR0: not programmed
        assert_eq!(r.rd(IIR), 0x01);
        assert_eq!(r.uart.rx_trigger(), 1);
        r.wr(FCR, 0x01);
        assert_eq!(r.rd(IIR), 0xc1);
        r.wr(FCR, 0x00);
        assert_eq!(r.rd(IIR), 0x01);
    }

    #[test]
    fn rx_trigger_levels_raise_received_data_available() {
        for (bits, level) in [(0x00u8, 1usize), (0x40, 4), (0x80, 8), (0xc0, 14)] {
            let mut r = Rig::new();
            r.wr(FCR, FCR_FIFO_ENABLE | bits);
            r.wr(IER, IER_ERBFI);
            for i in 0..level - 1 {
                assert!(r.uart.receive(b'a' + i as u8), "level {level} byte {i}");
                assert_eq!(r.rd(IIR), 0xc1, "level {level}: below trigger after {i}");
                assert!(!r.irq());
                r.tick(CHAR);
            }
            assert_eq!(r.rd(LSR) & LSR_DR, if level > 1 { LSR_DR } else { 0 });
            assert!(r.uart.receive(b'z'));
            assert_eq!(r.rd(IIR), 0xc4, "level {level} reached");
            assert!(r.irq());
            // Reading one byte drops the FIFO below the trigger level.
            assert_eq!(r.rd(RBR), if level == 1 { b'z' } else { b'a' });
            assert_eq!(r.rd(IIR), 0xc1, "level {level}: below trigger after a read");
            assert!(!r.irq());
        }
    }

    #[test]
    fn character_timeout_after_four_character_times() {
        let mut r = Rig::new();
        r.wr(FCR, 0xc1); // trigger 14
        r.wr(IER, IER_ERBFI);
        for b in *b"abc" {
            assert!(r.uart.receive(b));
            r.tick(CHAR);
        }
        // Last character arrived at 2*CHAR; the timer runs from there.
        assert_eq!(r.uart.next_deadline(), Some(2 * CHAR + 4 * CHAR));
        r.tick(3 * CHAR - 1); // now 6*CHAR - 1
        assert_eq!(r.rd(IIR), 0xc1);
        assert!(!r.irq());
        r.tick(1);
        assert_eq!(r.rd(IIR), 0xcc);
        assert!(r.irq());
        assert_eq!(r.rd(IIR), 0xcc, "IIR read does not clear the timeout");
        assert_eq!(r.rd(RBR), b'a');
        assert_eq!(r.rd(IIR), 0xc1, "RBR read clears the timeout");
        assert!(!r.irq());
        // The read restarted the timer; two bytes are left.
        r.tick(4 * CHAR - 1);
        assert_eq!(r.rd(IIR), 0xc1);
        r.tick(1);
        assert_eq!(r.rd(IIR), 0xcc);
        assert_eq!(r.rd(RBR), b'b');
        assert_eq!(r.rd(RBR), b'c');
        assert_eq!(r.rd(LSR) & LSR_DR, 0);
        assert_eq!(r.uart.next_deadline(), None);
        r.tick(100 * CHAR);
        assert_eq!(r.rd(IIR), 0xc1);
        assert_eq!(r.sink.rising_edges(COM1_IRQ), 2);
    }

    #[test]
    fn cpu_read_restarts_timeout_timer_and_polled_mode_shows_nothing() {
        let mut r = Rig::new();
        r.wr(FCR, 0xc1);
        assert!(r.uart.receive(b'1'));
        r.tick(CHAR);
        assert!(r.uart.receive(b'2'));
        r.tick(2 * CHAR);
        assert_eq!(r.rd(RBR), b'1'); // at 3*CHAR
        r.tick(4 * CHAR - 1);
        r.wr(IER, IER_ERBFI);
        assert_eq!(r.rd(IIR), 0xc1);
        r.tick(1);
        assert_eq!(r.rd(IIR), 0xcc);
        // With ERBFI off (FIFO polled mode) the pending timeout is not shown.
        r.wr(IER, 0);
        assert_eq!(r.rd(IIR), 0xc1);
        assert_eq!(r.rd(LSR), LSR_DR | LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn host_input_is_paced_and_refused_when_full() {
        let mut r = Rig::new();
        assert_eq!(r.uart.rx_space(), 1, "16450 mode: RBR only");
        assert!(r.uart.receive(b'x'));
        assert_eq!(r.uart.rx_ready_at(), CHAR);
        r.tick(CHAR);
        assert!(!r.uart.receive(b'y'), "RBR full");
        assert_eq!(r.rd(RBR), b'x');
        assert!(r.uart.receive(b'y'));
        assert_eq!(r.rd(LSR) & LSR_OE, 0, "host input never overruns");

        r.wr(FCR, 0x01);
        assert_eq!(r.uart.rx_space(), 16);
        r.tick(CHAR);
        assert!(r.uart.receive(0));
        assert!(
            !r.uart.receive(1),
            "less than a character time since the last byte"
        );
        for i in 1..16 {
            r.tick(CHAR);
            assert!(r.uart.receive(i));
        }
        assert_eq!(r.uart.rx_space(), 0);
        r.tick(CHAR);
        assert!(!r.uart.receive(16), "FIFO full");
        for i in 0..16 {
            assert_eq!(r.rd(RBR), i);
        }
        assert!(r.uart.receive(16));
        assert_eq!(r.rd(RBR), 16);
        assert_eq!(r.rd(LSR), LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn thre_interrupt_16450_mode() {
        let mut r = Rig::new();
        r.wr(IER, IER_ETBEI);
        assert!(r.irq(), "enabling ETBEI with THR empty");
        assert_eq!(r.rd(IIR), 0x02);
        assert_eq!(r.rd(IIR), 0x01, "IIR read cleared THRE");
        assert!(!r.irq());
        r.wr(IER, IER_ETBEI);
        assert_eq!(r.rd(IIR), 0x01, "rewriting the same IER does not re-raise");

        r.wr(THR, b'A');
        // THR moved straight into the idle shift register: THR empty again.
        assert_eq!(r.rd(LSR), LSR_THRE);
        assert_eq!(r.rd(IIR), 0x02);
        r.wr(THR, b'B');
        assert_eq!(r.rd(LSR), 0x00);
        assert_eq!(r.rd(IIR), 0x01, "THR write cleared THRE");
        assert_eq!(r.output(), b"A");
        assert_eq!(r.uart.next_deadline(), Some(CHAR));

        r.tick(CHAR - 1);
        assert_eq!(r.rd(LSR), 0x00);
        assert!(!r.irq());
        r.tick(1);
        assert_eq!(r.output(), b"AB");
        assert_eq!(r.rd(LSR), LSR_THRE, "B in the shift register");
        assert!(r.irq(), "re-raised when THR emptied");
        r.tick(CHAR - 1);
        assert_eq!(r.rd(LSR), LSR_THRE);
        r.tick(1);
        assert_eq!(r.rd(LSR), LSR_THRE | LSR_TEMT);
        assert_eq!(r.rd(IIR), 0x02);
        assert_eq!(r.rd(IIR), 0x01);
        assert_eq!(r.uart.next_deadline(), None);
    }

    #[test]
    fn thre_interrupt_fifo_mode_after_fifo_drains() {
        let mut r = Rig::new();
        r.wr(FCR, 0x07);
        r.wr(IER, IER_ETBEI);
        assert_eq!(r.rd(IIR), 0xc2);
        assert_eq!(r.rd(IIR), 0xc1);
        for b in *b"abcd" {
            r.wr(THR, b);
        }
        assert_eq!(r.output(), b"a");
        assert_eq!(r.rd(LSR), 0x00);
        r.tick(3 * CHAR - 1);
        assert_eq!(r.output(), b"abc");
        assert_eq!(r.rd(LSR), 0x00);
        assert!(!r.irq());
        r.tick(1);
        assert_eq!(r.output(), b"abcd");
        assert_eq!(r.rd(LSR), LSR_THRE, "FIFO empty, d shifting");
        assert!(r.irq());
        r.tick(CHAR);
        assert_eq!(r.rd(LSR), LSR_THRE | LSR_TEMT);
        assert_eq!(r.rd(IIR), 0xc2);
        assert_eq!(r.rd(IIR), 0xc1);
    }

    #[test]
    fn single_byte_thre_interrupt_is_delayed_in_fifo_mode() {
        let mut r = Rig::new();
        r.wr(FCR, 0x01);
        r.wr(IER, IER_ETBEI);
        assert_eq!(r.rd(IIR), 0xc2);
        // First transmitter interrupt after changing FCR0 is immediate.
        r.wr(THR, b'x');
        assert_eq!(r.rd(IIR), 0xc2);
        r.tick(CHAR);
        assert_eq!(r.rd(IIR), 0xc1);
        // Now a lone byte: LSR.THRE at once, the interrupt one character less a stop bit
        // later.
        r.wr(THR, b'y');
        assert_eq!(r.rd(LSR), LSR_THRE);
        assert_eq!(r.rd(IIR), 0xc1);
        let bit = r.uart.bit_ns();
        assert_eq!(r.uart.next_deadline(), Some(2 * CHAR - bit));
        r.tick(CHAR - bit - 1);
        assert!(!r.irq());
        r.tick(1);
        assert!(r.irq());
        assert_eq!(r.rd(IIR), 0xc2);
        r.tick(bit);
        assert_eq!(r.rd(LSR), LSR_THRE | LSR_TEMT);
        assert_eq!(r.output(), b"xy");
    }

    #[test]
    fn loopback_data_and_modem_lines() {
        let mut r = Rig::new();
        r.wr(MCR, MCR_LOOP);
        // Inputs switch from the host's CTS/DSR/DCD to the (inactive) MCR outputs.
        assert_eq!(r.rd(MSR), MSR_DCTS | MSR_DDSR | MSR_DDCD);
        assert_eq!(r.rd(MSR), 0x00, "deltas cleared by reading");
        r.wr(MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
        assert_eq!(r.rd(MSR), MSR_CTS | MSR_DSR | MSR_DCTS | MSR_DDSR);
        r.wr(MCR, MCR_LOOP | MCR_OUT1);
        assert_eq!(r.rd(MSR), MSR_RI | MSR_DCTS | MSR_DDSR);
        r.wr(MCR, MCR_LOOP);
        assert_eq!(r.rd(MSR), MSR_TERI, "trailing edge of RI");
        r.wr(MCR, MCR_LOOP | MCR_OUT1);
        assert_eq!(r.rd(MSR), MSR_RI, "leading edge of RI sets no delta");
        r.wr(MCR, MCR_LOOP | MCR_OUT2);
        assert_eq!(r.rd(MSR), MSR_DCD | MSR_DDCD | MSR_TERI);

        // Modem status interrupt.
        r.wr(MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR);
        r.wr(IER, IER_EDSSI);
        assert_eq!(r.rd(IIR), 0x00);
        assert!(r.irq());
        assert_eq!(r.rd(MSR), MSR_DCD | MSR_DSR | MSR_DDSR);
        assert_eq!(r.rd(IIR), 0x01);
        assert!(!r.irq());

        // Data: TX goes to RX after one character time, not to the host.
        assert!(!r.uart.receive(b'h'), "SIN disconnected in loopback");
        r.wr(THR, 0x55);
        assert_eq!(r.rd(LSR), LSR_THRE);
        r.tick(CHAR);
        assert_eq!(r.rd(LSR), LSR_DR | LSR_THRE | LSR_TEMT);
        assert_eq!(r.rd(RBR), 0x55);
        assert!(r.output().is_empty());

        // Leaving loopback restores the host's lines and transmission.
        r.wr(MCR, MCR_OUT2);
        assert_eq!(r.rd(MSR), HOST_MODEM_INPUTS | MSR_DCTS);
        r.wr(THR, b'o');
        assert_eq!(r.output(), b"o");
    }

    #[test]
    fn overrun_16450_overwrites_rbr() {
        let mut r = Rig::new();
        r.wr(MCR, MCR_LOOP | MCR_OUT2);
        r.wr(IER, IER_ELSI);
        r.wr(THR, b'x');
        r.wr(THR, b'y');
        r.tick(CHAR);
        assert_eq!(r.rd(IIR), 0x01);
        r.tick(CHAR);
        assert_eq!(r.rd(IIR), 0x06);
        assert!(r.irq());
        assert_eq!(r.rd(LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
        assert_eq!(
            r.rd(LSR),
            LSR_DR | LSR_THRE | LSR_TEMT,
            "OE cleared by LSR read"
        );
        assert_eq!(r.rd(IIR), 0x01);
        assert!(!r.irq());
        assert_eq!(r.rd(RBR), b'y');
    }

    #[test]
    fn overrun_fifo_mode_loses_the_new_character() {
        let mut r = Rig::new();
        r.wr(FCR, 0x01);
        r.wr(MCR, MCR_LOOP);
        for i in 0..17u8 {
            r.wr(THR, i);
        }
        assert_eq!(r.rd(LSR), 0x00, "16 in the FIFO, 1 shifting");
        r.tick(16 * CHAR);
        assert_eq!(r.rd(LSR) & LSR_OE, 0);
        r.tick(CHAR);
        assert_eq!(r.rd(LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
        for i in 0..16u8 {
            assert_eq!(r.rd(RBR), i);
        }
        assert_eq!(r.rd(LSR), LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn out2_gates_the_irq_line() {
        let mut r = Rig::new();
        r.wr(MCR, 0);
        r.wr(IER, IER_ETBEI);
        assert_eq!(r.rd(IER), IER_ETBEI);
        // The UART has the interrupt pending but the line stays low.
        r.wr(IER, IER_ETBEI | IER_EDSSI);
        assert!(!r.irq());
        r.wr(MCR, MCR_OUT2);
        assert!(r.irq());
        r.wr(MCR, 0);
        assert!(!r.irq());
        r.wr(MCR, MCR_OUT2);
        assert!(r.irq());
        assert_eq!(r.rd(IIR), 0x02);
        assert!(!r.irq());
        assert_eq!(r.sink.rising_edges(COM1_IRQ), 2);
    }

    #[test]
    fn scratch_register_and_master_reset() {
        let mut r = Rig::new();
        r.wr(SCR, 0xa5);
        assert_eq!(r.rd(SCR), 0xa5);
        r.wr(FCR, 0xc1);
        r.wr(IER, 0x0f);
        r.wr(LCR, 0x1b);
        r.wr(THR, b'q');
        r.uart.reset();
        assert_eq!(r.rd(SCR), 0xa5, "SCR survives reset");
        assert_eq!(r.rd(IER), 0);
        assert_eq!(r.rd(IIR), 0x01);
        assert_eq!(r.rd(LCR), 0);
        assert_eq!(r.rd(MCR), 0);
        assert_eq!(r.rd(LSR), LSR_THRE | LSR_TEMT);
        assert_eq!(r.rd(MSR), HOST_MODEM_INPUTS);
        assert!(!r.irq());
        r.wr(LCR, LCR_DLAB);
        assert_eq!(r.rd(DLL), 1, "divisor survives reset");
    }

    #[test]
    fn interrupt_priority_order() {
        let mut r = Rig::new();
        // Loopback 16450: two bytes overrun RBR, the transmitter goes idle (THRE) and
        // raising DTR sets DDSR.
        r.wr(MCR, MCR_LOOP | MCR_OUT2);
        r.wr(THR, b'1');
        r.wr(THR, b'2');
        r.tick(2 * CHAR);
        r.wr(MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR);
        r.wr(IER, 0x0f);
        assert!(r.irq());
        assert_eq!(r.rd(IIR), 0x06, "receiver line status first");
        assert_eq!(r.rd(IIR), 0x06, "IIR read does not clear line status");
        r.rd(LSR);
        assert_eq!(r.rd(IIR), 0x04, "then received data");
        assert_eq!(r.rd(RBR), b'2');
        assert_eq!(r.rd(IIR), 0x02, "then THRE");
        assert_eq!(
            r.rd(IIR),
            0x00,
            "THRE cleared by the IIR read; modem status last"
        );
        r.rd(MSR);
        assert_eq!(r.rd(IIR), 0x01);
        assert!(!r.irq());
    }

    #[test]
    fn timeout_ranks_with_received_data_above_thre() {
        let mut r = Rig::new();
        r.wr(FCR, 0xc1);
        r.wr(IER, IER_ERBFI | IER_ETBEI);
        assert!(r.uart.receive(b'k'));
        r.tick(4 * CHAR);
        assert_eq!(r.rd(IIR), 0xcc);
        assert_eq!(r.rd(RBR), b'k');
        assert_eq!(r.rd(IIR), 0xc2);
        assert_eq!(r.rd(IIR), 0xc1);
    }

    #[test]
    fn fifo_resets_and_mode_changes_clear_fifos() {
        let mut r = Rig::new();
        r.wr(FCR, 0x01);
        for b in *b"12" {
            assert!(r.uart.receive(b));
            r.tick(CHAR);
        }
        r.wr(FCR, 0x03);
        assert_eq!(r.rd(LSR) & LSR_DR, 0, "RCVR FIFO reset");
        r.wr(IER, IER_ETBEI);
        r.rd(IIR);
        for b in *b"abc" {
            r.wr(THR, b);
        }
        r.wr(FCR, 0x05);
        assert_eq!(
            r.rd(LSR),
            LSR_THRE,
            "XMIT FIFO reset; the shift register keeps going"
        );
        assert_eq!(r.rd(IIR), 0xc2);
        r.tick(CHAR);
        assert_eq!(r.output(), b"a");
        assert!(r.uart.receive(b'z'));
        r.wr(FCR, 0x00);
        assert_eq!(
            r.rd(LSR),
            LSR_THRE | LSR_TEMT,
            "FCR0 change clears the RX FIFO"
        );
    }

    #[test]
    fn wide_and_out_of_range_accesses() {
        let mut r = Rig::new();
        r.wr(SCR, 0x5a);
        assert_eq!(r.uart.read(8, 1), 0xff);
        assert_eq!(r.uart.read(6, 2), 0x5a00 | HOST_MODEM_INPUTS as u32);
        assert_eq!(r.uart.read(7, 2), 0xff5a);
        r.uart.write(3, 2, 0x0883); // LCR = DLAB|8 bits, MCR = OUT2
        assert_eq!(r.rd(MCR), MCR_OUT2);
        r.uart.write(200, 4, 0xffff_ffff);
        assert_eq!(r.rd(LCR), 0x83);
    }

    #[test]
    fn short_words_are_masked() {
        let mut r = Rig::new();
        r.wr(LCR, 0x02); // 7 bits
        r.wr(THR, 0xc1);
        assert_eq!(r.output(), [0x41]);
        r.tick(10 * CHAR);
        assert!(r.uart.receive(0xff));
        assert_eq!(r.rd(RBR), 0x7f);
    }

    #[test]
    fn registers_on_the_port_bus() {
        let clock = Clock::new();
        let sink = FakeIrqSink::new();
        let uart = Rc::new(RefCell::new(Uart16550::new(
            clock,
            sink.line(COM2_IRQ),
            Box::new(Capture::default()),
        )));
        let mut ports = PortBus::new();
        register(&mut ports, COM2_BASE, &uart);
        // Power-on LCR = 0: 5-bit words would mask the input.
        ports.write(COM2_BASE + 3, 1, 0x03);
        ports.write(COM2_BASE + 7, 1, 0x42);
        assert_eq!(ports.read(COM2_BASE + 7, 1), 0x42);
        assert_eq!(ports.read(COM2_BASE + 5, 1), 0x60);
        assert_eq!(ports.read(COM2_BASE + 8, 1), 0xff);
        assert!(uart.borrow_mut().receive(b'!'));
        assert_eq!(ports.read(COM2_BASE, 1), b'!' as u32);
    }
}
