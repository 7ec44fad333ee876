//! One IDE (ATA) channel with a master and a slave device, as the PIIX3 IDE function
//! presents it in legacy mode: primary at ports 0x1F0-0x1F7 + 0x3F6 on IRQ14, secondary at
//! 0x170-0x177 + 0x376 on IRQ15.
//!
//! Sources:
//! - T13 1410D, "AT Attachment with Packet Interface - 6" (ATA/ATAPI-6): §7 register
//!   definitions (status, error, device control with nIEN/SRST/HOB), §8 command
//!   descriptions, §9 protocols (PIO data-in/out, non-data, DMA, PACKET, software reset,
//!   signatures: ATA 01 01 00 00, ATAPI 01 01 14 EB), §8.15/8.16 IDENTIFY (PACKET) DEVICE
//!   word layout.
//! - SFF INF-8020i (ATAPI for CD-ROMs) and SFF-8090 / MMC-3 for the packet commands:
//!   interrupt reason (CoD/IO) in the sector count register, byte count limit in LBA
//!   mid/high, sense data (key/ASC/ASCQ), READ TOC, MODE SENSE page 2Ah, GET CONFIGURATION
//!   (profile 0008h CD-ROM).
//! - SFF-8038i, "Bus Master Programming Interface for IDE ATA Controllers" (as in the
//!   Intel 82371SB PIIX3 datasheet §2.7): command/status/PRD-table registers and the
//!   physical region descriptor format.
//!
//! Devices never touch guest memory: a DMA command waits until the machine sees
//! `dma_pending()` and calls `run_dma` with a `DmaMemory`. Command execution takes a few
//! microseconds of virtual time (BSY visible) via `next_deadline`/`advance`; any register
//! access also catches up with deadlines the clock has already passed.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bus::{all_ones, BusDevice};
use crate::clock::Clock;
use crate::disk::DiskImage;
use crate::irq::IrqLine;

// Command block registers (ATA-6 §7), offsets from 0x1F0 / 0x170.
const REG_DATA: u32 = 0;
/// Error on read, Features on write.
const REG_ERROR: u32 = 1;
const REG_SECTOR_COUNT: u32 = 2;
const REG_LBA_LOW: u32 = 3;
const REG_LBA_MID: u32 = 4;
const REG_LBA_HIGH: u32 = 5;
const REG_DEVICE: u32 = 6;
/// Status on read, Command on write.
const REG_STATUS: u32 = 7;

// Status register (ATA-6 §7.15).
pub const ST_ERR: u8 = 0x01;
pub const ST_DRQ: u8 = 0x08;
/// DSC (seek complete) for ATA, SERV for ATAPI.
pub const ST_DSC: u8 = 0x10;
pub const ST_DF: u8 = 0x20;
pub const ST_DRDY: u8 = 0x40;
pub const ST_BSY: u8 = 0x80;

// Error register (ATA-6 §7.9).
pub const ERR_ABRT: u8 = 0x04;
pub const ERR_IDNF: u8 = 0x10;
pub const ERR_UNC: u8 = 0x40;
/// Diagnostic code "device 0 passed, device 1 passed or not present" (ATA-6 §8.11).
const DIAG_PASSED: u8 = 0x01;

// Device register (ATA-6 §7.7).
const DEV_LBA: u8 = 0x40;
const DEV_DEV: u8 = 0x10;

// Device control register (ATA-6 §7.8).
pub const CTL_NIEN: u8 = 0x02;
pub const CTL_SRST: u8 = 0x04;
pub const CTL_HOB: u8 = 0x80;

// ATAPI interrupt reason, in the sector count register (ATA-6 §9.10).
pub const IR_COD: u8 = 0x01;
pub const IR_IO: u8 = 0x02;

// ATA commands (ATA-6 §8).
const CMD_NOP: u8 = 0x00;
const CMD_DEVICE_RESET: u8 = 0x08;
const CMD_READ_SECTORS: u8 = 0x20;
const CMD_READ_SECTORS_NORETRY: u8 = 0x21;
const CMD_READ_SECTORS_EXT: u8 = 0x24;
const CMD_READ_DMA_EXT: u8 = 0x25;
const CMD_READ_MULTIPLE_EXT: u8 = 0x29;
const CMD_WRITE_SECTORS: u8 = 0x30;
const CMD_WRITE_SECTORS_NORETRY: u8 = 0x31;
const CMD_WRITE_SECTORS_EXT: u8 = 0x34;
const CMD_WRITE_DMA_EXT: u8 = 0x35;
const CMD_WRITE_MULTIPLE_EXT: u8 = 0x39;
const CMD_READ_VERIFY: u8 = 0x40;
const CMD_READ_VERIFY_NORETRY: u8 = 0x41;
const CMD_READ_VERIFY_EXT: u8 = 0x42;
const CMD_EXECUTE_DEVICE_DIAGNOSTIC: u8 = 0x90;
const CMD_INITIALIZE_DEVICE_PARAMETERS: u8 = 0x91;
const CMD_PACKET: u8 = 0xA0;
const CMD_IDENTIFY_PACKET_DEVICE: u8 = 0xA1;
const CMD_READ_MULTIPLE: u8 = 0xC4;
const CMD_WRITE_MULTIPLE: u8 = 0xC5;
const CMD_SET_MULTIPLE_MODE: u8 = 0xC6;
const CMD_READ_DMA: u8 = 0xC8;
const CMD_READ_DMA_NORETRY: u8 = 0xC9;
const CMD_WRITE_DMA: u8 = 0xCA;
const CMD_WRITE_DMA_NORETRY: u8 = 0xCB;
const CMD_CHECK_POWER_MODE: u8 = 0xE5;
const CMD_CHECK_POWER_MODE_OLD: u8 = 0x98;
const CMD_FLUSH_CACHE: u8 = 0xE7;
const CMD_FLUSH_CACHE_EXT: u8 = 0xEA;
const CMD_IDENTIFY_DEVICE: u8 = 0xEC;
const CMD_SET_FEATURES: u8 = 0xEF;

// SET FEATURES subcommands (ATA-6 §8.37).
const SF_ENABLE_WRITE_CACHE: u8 = 0x02;
const SF_SET_TRANSFER_MODE: u8 = 0x03;
const SF_DISABLE_WRITE_CACHE: u8 = 0x82;

// ATAPI / MMC packet commands.
const SCSI_TEST_UNIT_READY: u8 = 0x00;
const SCSI_REQUEST_SENSE: u8 = 0x03;
const SCSI_INQUIRY: u8 = 0x12;
const SCSI_START_STOP_UNIT: u8 = 0x1B;
const SCSI_PREVENT_ALLOW: u8 = 0x1E;
const SCSI_READ_CAPACITY: u8 = 0x25;
const SCSI_READ_10: u8 = 0x28;
const SCSI_WRITE_10: u8 = 0x2A;
const SCSI_SEEK_10: u8 = 0x2B;
const SCSI_WRITE_AND_VERIFY_10: u8 = 0x2E;
const SCSI_SYNCHRONIZE_CACHE: u8 = 0x35;
const SCSI_READ_TOC: u8 = 0x43;
const SCSI_GET_CONFIGURATION: u8 = 0x46;
const SCSI_GET_EVENT_STATUS: u8 = 0x4A;
const SCSI_READ_DISC_INFORMATION: u8 = 0x51;
const SCSI_MODE_SENSE_10: u8 = 0x5A;
const SCSI_READ_12: u8 = 0xA8;
const SCSI_WRITE_12: u8 = 0xAA;
const SCSI_SET_CD_SPEED: u8 = 0xBB;
const SCSI_MECHANISM_STATUS: u8 = 0xBD;

// Sense keys (SPC / INF-8020 table 140).
pub const SENSE_NONE: u8 = 0x00;
pub const SENSE_NOT_READY: u8 = 0x02;
pub const SENSE_MEDIUM_ERROR: u8 = 0x03;
pub const SENSE_ILLEGAL_REQUEST: u8 = 0x05;
pub const SENSE_UNIT_ATTENTION: u8 = 0x06;
pub const SENSE_DATA_PROTECT: u8 = 0x07;

// Additional sense codes.
const ASC_UNRECOVERED_READ_ERROR: u8 = 0x11;
const ASC_INVALID_OPCODE: u8 = 0x20;
const ASC_LBA_OUT_OF_RANGE: u8 = 0x21;
const ASC_INVALID_FIELD_IN_CDB: u8 = 0x24;
const ASC_WRITE_PROTECTED: u8 = 0x27;
const ASC_MEDIUM_CHANGED: u8 = 0x28;
const ASC_POWER_ON_RESET: u8 = 0x29;
const ASC_SAVING_NOT_SUPPORTED: u8 = 0x39;
const ASC_MEDIUM_NOT_PRESENT: u8 = 0x3A;
const ASC_REMOVAL_PREVENTED: u8 = 0x53;

// Bus master IDE registers (SFF-8038i §2; PIIX3 BMICX/BMISX/BMIDTPX), per channel.
const BM_COMMAND: u32 = 0;
const BM_STATUS: u32 = 2;
const BM_PRDT: u32 = 4;
pub const BM_CMD_START: u8 = 0x01;
/// Read/write control: 1 = the bus master writes memory (a device-to-memory transfer).
pub const BM_CMD_WRITE: u8 = 0x08;
pub const BM_ST_ACTIVE: u8 = 0x01;
pub const BM_ST_ERROR: u8 = 0x02;
pub const BM_ST_INTR: u8 = 0x04;
pub const BM_ST_DMA0_CAPABLE: u8 = 0x20;
pub const BM_ST_DMA1_CAPABLE: u8 = 0x40;
/// PRD flags word: end of table.
const PRD_EOT: u32 = 0x8000_0000;

/// How long a device stays BSY before a command (or the next data block) is ready.
pub const BSY_NS: u64 = 2_000;
/// How long a device stays BSY after SRST is released.
pub const RESET_NS: u64 = 10_000;

const ATA_SECTOR: usize = 512;
/// Largest READ/WRITE MULTIPLE block (IDENTIFY word 47).
const MAX_MULTIPLE: u16 = 16;
/// Sectors staged per disk read while streaming a long transfer.
const STAGE_SECTORS: u64 = 128;

/// Guest physical memory as the bus master sees it.
pub trait DmaMemory {
    fn read(&mut self, addr: u32, buf: &mut [u8]);
    fn write(&mut self, addr: u32, data: &[u8]);
}

/// What hangs off one end of the cable.
pub enum Drive {
    /// An ATA hard disk (512-byte sectors).
    Disk(DiskImage),
    /// An ATAPI CD-ROM drive, with or without a disc (2048-byte sectors).
    Cdrom(Option<DiskImage>),
}

/// A command block register: the value written last and the one before it (read back
/// with HOB=1, the high-order bytes of a 48-bit command).
#[derive(Clone, Copy, Default)]
struct Reg {
    cur: u8,
    prev: u8,
}

impl Reg {
    fn write(&mut self, v: u8) {
        self.prev = self.cur;
        self.cur = v;
    }

    fn set(&mut self, v: u8) {
        self.cur = v;
    }
}

#[derive(Clone, Copy, Default)]
struct TaskFile {
    features: Reg,
    count: Reg,
    lba_low: Reg,
    lba_mid: Reg,
    lba_high: Reg,
    device: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sense {
    key: u8,
    asc: u8,
    ascq: u8,
}

const NO_SENSE: Sense = Sense {
    key: SENSE_NONE,
    asc: 0,
    ascq: 0,
};

const fn sense(key: u8, asc: u8, ascq: u8) -> Sense {
    Sense { key, asc, ascq }
}

/// Bytes a command produces: generated bytes first, then sectors read from the medium
/// as they are needed (so a long READ never buffers the whole transfer).
struct SectorStream {
    staged: Vec<u8>,
    pos: usize,
    lba: u64,
    left: u64,
}

impl SectorStream {
    fn bytes(data: Vec<u8>) -> Self {
        Self {
            staged: data,
            pos: 0,
            lba: 0,
            left: 0,
        }
    }

    fn sectors(lba: u64, count: u64) -> Self {
        Self {
            staged: Vec::new(),
            pos: 0,
            lba,
            left: count,
        }
    }

    fn remaining(&self, sector_size: usize) -> u64 {
        (self.staged.len() - self.pos) as u64 + self.left * sector_size as u64
    }

    /// Fills `out` from the stream.
    fn take(&mut self, disk: Option<&DiskImage>, out: &mut [u8]) -> Result<(), ()> {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.staged.len() {
                let disk = disk.ok_or(())?;
                if self.left == 0 {
                    return Err(());
                }
                let ss = disk.sector_size();
                let want = (out.len() - done).div_ceil(ss) as u64;
                let n = want.clamp(1, STAGE_SECTORS).min(self.left);
                self.staged.resize(n as usize * ss, 0);
                disk.read_sectors(self.lba, n as u32, &mut self.staged)
                    .map_err(|e| tracing::warn!(error = %e, "IDE read failed"))?;
                self.pos = 0;
                self.lba += n;
                self.left -= n;
            }
            let n = (out.len() - done).min(self.staged.len() - self.pos);
            out[done..done + n].copy_from_slice(&self.staged[self.pos..self.pos + n]);
            done += n;
            self.pos += n;
        }
        Ok(())
    }
}

/// The data a DMA command moves.
enum DmaJob {
    /// Device to memory (ATA READ DMA, ATAPI data-in).
    In(SectorStream),
    /// Memory to device (ATA WRITE DMA): `count` sectors at `lba`.
    Out { lba: u64, count: u64 },
}

/// A command in progress; `Device::step` carries it on when its deadline comes.
enum Op {
    Idle,
    /// SRST released or DEVICE RESET: post the signature.
    Reset,
    /// EXECUTE DEVICE DIAGNOSTIC: post the signature and interrupt (device 0).
    Diagnostic,
    /// A non-data command whose effect is done: report success.
    Complete,
    /// Report an error with this error register value.
    Fail(u8),
    /// One PIO data-in block already in `buf` (IDENTIFY).
    DataIn,
    PioRead {
        lba: u64,
        left: u32,
        per_block: u32,
    },
    PioWrite {
        lba: u64,
        left: u32,
        per_block: u32,
        started: bool,
    },
    /// PACKET written: ask for the command packet.
    PacketCdb {
        dma: bool,
        limit: u16,
    },
    /// Command packet received in `buf`: execute it.
    PacketExec {
        dma: bool,
        limit: u16,
    },
    /// ATAPI PIO data-in, one DRQ block of at most `limit` bytes at a time.
    AtapiIn {
        stream: SectorStream,
        limit: u16,
    },
    /// ATAPI: all data moved, report completion.
    AtapiDone,
    /// Waiting for the bus master (`ready` once BSY time has passed).
    Dma {
        job: DmaJob,
        ready: bool,
    },
}

struct Device {
    atapi: bool,
    /// The disk, or the disc in the CD-ROM drive.
    media: Option<DiskImage>,
    tf: TaskFile,
    status: u8,
    error: u8,
    /// Interrupt pending (INTRQ asserted while selected and nIEN=0).
    intrq: bool,
    /// The current PIO DRQ block.
    buf: Vec<u8>,
    pos: usize,
    /// DRQ block direction: host to device.
    dir_out: bool,
    op: Op,
    deadline: Option<u64>,
    /// The command in progress uses 48-bit addressing.
    ext: bool,
    serial: String,
    // ATA state.
    cylinders: u16,
    heads: u8,
    spt: u8,
    multiple: u16,
    write_cache: bool,
    /// SET FEATURES transfer mode value (08h+n PIO, 20h+n MWDMA, 40h+n UDMA).
    xfer_mode: u8,
    // ATAPI state.
    sense: Sense,
    unit_attention: Option<Sense>,
    locked: bool,
    /// GET EVENT STATUS NOTIFICATION media event code (2 new media, 3 removal).
    media_event: u8,
}

/// The result of a packet command.
enum Reply {
    NoData,
    Data(SectorStream),
}

fn reply_bytes(mut data: Vec<u8>, alloc: usize) -> Reply {
    data.truncate(alloc);
    Reply::Data(SectorStream::bytes(data))
}

fn be16(b: &[u8]) -> usize {
    (b[0] as usize) << 8 | b[1] as usize
}

fn be32(b: &[u8]) -> u64 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64
}

/// Puts an ATA string (two characters per word, first in the high byte) into words.
fn put_string(words: &mut [u16], first: usize, nwords: usize, s: &str) {
    let mut bytes = s.as_bytes().to_vec();
    bytes.resize(nwords * 2, b' ');
    for i in 0..nwords {
        words[first + i] = (bytes[2 * i] as u16) << 8 | bytes[2 * i + 1] as u16;
    }
}

/// Word 255: signature A5h and a checksum making the 512 bytes sum to zero.
fn finish_identify(words: &mut [u16; 256]) -> Vec<u8> {
    words[255] = 0x00A5;
    let sum = words[..255].iter().fold(0xA5u8, |s, w| {
        s.wrapping_add(*w as u8).wrapping_add((*w >> 8) as u8)
    });
    words[255] |= (sum.wrapping_neg() as u16) << 8;
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl Device {
    fn new(drive: Drive, serial: String) -> Self {
        let (atapi, media) = match drive {
            Drive::Disk(d) => (false, Some(d)),
            Drive::Cdrom(d) => (true, d),
        };
        let sectors = if atapi {
            0
        } else {
            media.as_ref().map_or(0, |d| d.sector_count())
        };
        let mut dev = Self {
            atapi,
            media,
            tf: TaskFile::default(),
            status: 0,
            error: 0,
            intrq: false,
            buf: Vec::new(),
            pos: 0,
            dir_out: false,
            op: Op::Idle,
            deadline: None,
            ext: false,
            serial,
            cylinders: (sectors / (16 * 63)).clamp(1, 16383) as u16,
            heads: 16,
            spt: 63,
            multiple: 0,
            write_cache: true,
            xfer_mode: 0,
            sense: NO_SENSE,
            unit_attention: Some(sense(SENSE_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0)),
            locked: false,
            media_event: 0,
        };
        dev.signature();
        dev
    }

    fn ready_status(&self) -> u8 {
        ST_DRDY | ST_DSC
    }

    fn sectors(&self) -> u64 {
        self.media.as_ref().map_or(0, |d| d.sector_count())
    }

    /// The reset signature (ATA-6 §9.12): count 1, LBA low 1, mid/high 00 00 or 14 EB.
    fn signature(&mut self) {
        self.tf.count.set(1);
        self.tf.lba_low.set(1);
        let (mid, high) = if self.atapi { (0x14, 0xEB) } else { (0, 0) };
        self.tf.lba_mid.set(mid);
        self.tf.lba_high.set(high);
        self.tf.device = 0;
        self.error = DIAG_PASSED;
        self.status = if self.atapi { 0 } else { self.ready_status() };
    }

    fn start_drq(&mut self, data: Vec<u8>, out: bool) {
        self.buf = data;
        self.pos = 0;
        self.dir_out = out;
        self.status = self.ready_status() | ST_DRQ;
    }

    fn fail(&mut self, error: u8) {
        self.op = Op::Idle;
        self.buf.clear();
        self.error = error;
        self.status = self.ready_status() | ST_ERR;
        self.intrq = true;
    }

    fn complete(&mut self) {
        self.op = Op::Idle;
        self.status = self.ready_status();
        self.intrq = true;
    }

    // ---- ATA addressing -------------------------------------------------------------

    /// The starting sector and count of a read/write command (LBA28, LBA48 or CHS), or
    /// None for a CHS address outside the current geometry.
    fn address(&self, ext: bool) -> Option<(u64, u32)> {
        let tf = &self.tf;
        if ext {
            let count = (tf.count.prev as u32) << 8 | tf.count.cur as u32;
            let lba = [
                tf.lba_low.cur,
                tf.lba_mid.cur,
                tf.lba_high.cur,
                tf.lba_low.prev,
                tf.lba_mid.prev,
                tf.lba_high.prev,
            ]
            .iter()
            .enumerate()
            .fold(0u64, |a, (i, b)| a | (*b as u64) << (8 * i));
            return Some((lba, if count == 0 { 65536 } else { count }));
        }
        let count = if tf.count.cur == 0 {
            256
        } else {
            tf.count.cur as u32
        };
        if tf.device & DEV_LBA != 0 {
            let lba = ((tf.device & 0x0F) as u64) << 24
                | (tf.lba_high.cur as u64) << 16
                | (tf.lba_mid.cur as u64) << 8
                | tf.lba_low.cur as u64;
            return Some((lba, count));
        }
        let cyl = (tf.lba_high.cur as u64) << 8 | tf.lba_mid.cur as u64;
        let head = (tf.device & 0x0F) as u64;
        let sector = tf.lba_low.cur as u64;
        let (heads, spt) = (self.heads as u64, self.spt as u64);
        if sector == 0 || sector > spt || head >= heads {
            return None;
        }
        Some(((cyl * heads + head) * spt + sector - 1, count))
    }

    /// Writes an address back into the task file (the last sector transferred, or the
    /// failing one), in the addressing mode of the command.
    fn set_address(&mut self, lba: u64, ext: bool) {
        let tf = &mut self.tf;
        if ext {
            tf.lba_low = Reg {
                cur: lba as u8,
                prev: (lba >> 24) as u8,
            };
            tf.lba_mid = Reg {
                cur: (lba >> 8) as u8,
                prev: (lba >> 32) as u8,
            };
            tf.lba_high = Reg {
                cur: (lba >> 16) as u8,
                prev: (lba >> 40) as u8,
            };
        } else if tf.device & DEV_LBA != 0 {
            tf.lba_low.set(lba as u8);
            tf.lba_mid.set((lba >> 8) as u8);
            tf.lba_high.set((lba >> 16) as u8);
            tf.device = (tf.device & 0xF0) | ((lba >> 24) & 0x0F) as u8;
        } else {
            let (heads, spt) = (self.heads.max(1) as u64, self.spt.max(1) as u64);
            let cyl = lba / (heads * spt);
            let rest = lba % (heads * spt);
            tf.lba_low.set((rest % spt + 1) as u8);
            tf.lba_mid.set(cyl as u8);
            tf.lba_high.set((cyl >> 8) as u8);
            tf.device = (tf.device & 0xF0) | (rest / spt) as u8 & 0x0F;
        }
    }

    /// Checks a transfer against the medium; IDNF with the address otherwise.
    fn range(&mut self, ext: bool) -> Result<(u64, u32), u8> {
        let Some((lba, count)) = self.address(ext) else {
            return Err(ERR_IDNF);
        };
        if lba.saturating_add(count as u64) > self.sectors() {
            self.set_address(lba, ext);
            return Err(ERR_IDNF);
        }
        Ok((lba, count))
    }

    // ---- ATA commands ---------------------------------------------------------------

    /// Decodes an ATA command and returns what to do once BSY time has passed.
    fn ata_command(&mut self, cmd: u8) -> Op {
        let ext = matches!(
            cmd,
            CMD_READ_SECTORS_EXT
                | CMD_READ_MULTIPLE_EXT
                | CMD_READ_DMA_EXT
                | CMD_WRITE_SECTORS_EXT
                | CMD_WRITE_MULTIPLE_EXT
                | CMD_WRITE_DMA_EXT
                | CMD_READ_VERIFY_EXT
        );
        self.ext = ext;
        match cmd {
            CMD_READ_SECTORS
            | CMD_READ_SECTORS_NORETRY
            | CMD_READ_SECTORS_EXT
            | CMD_READ_MULTIPLE
            | CMD_READ_MULTIPLE_EXT
            | CMD_WRITE_SECTORS
            | CMD_WRITE_SECTORS_NORETRY
            | CMD_WRITE_SECTORS_EXT
            | CMD_WRITE_MULTIPLE
            | CMD_WRITE_MULTIPLE_EXT => {
                let multiple = matches!(
                    cmd,
                    CMD_READ_MULTIPLE
                        | CMD_READ_MULTIPLE_EXT
                        | CMD_WRITE_MULTIPLE
                        | CMD_WRITE_MULTIPLE_EXT
                );
                if multiple && self.multiple == 0 {
                    return Op::Fail(ERR_ABRT);
                }
                let per_block = if multiple { self.multiple as u32 } else { 1 };
                let (lba, left) = match self.range(ext) {
                    Ok(r) => r,
                    Err(e) => return Op::Fail(e),
                };
                let write = matches!(
                    cmd,
                    CMD_WRITE_SECTORS
                        | CMD_WRITE_SECTORS_NORETRY
                        | CMD_WRITE_SECTORS_EXT
                        | CMD_WRITE_MULTIPLE
                        | CMD_WRITE_MULTIPLE_EXT
                );
                if write {
                    Op::PioWrite {
                        lba,
                        left,
                        per_block,
                        started: false,
                    }
                } else {
                    Op::PioRead {
                        lba,
                        left,
                        per_block,
                    }
                }
            }
            CMD_READ_DMA
            | CMD_READ_DMA_NORETRY
            | CMD_READ_DMA_EXT
            | CMD_WRITE_DMA
            | CMD_WRITE_DMA_NORETRY
            | CMD_WRITE_DMA_EXT => {
                let (lba, count) = match self.range(ext) {
                    Ok(r) => r,
                    Err(e) => return Op::Fail(e),
                };
                let job = if matches!(cmd, CMD_READ_DMA | CMD_READ_DMA_NORETRY | CMD_READ_DMA_EXT) {
                    DmaJob::In(SectorStream::sectors(lba, count as u64))
                } else {
                    DmaJob::Out {
                        lba,
                        count: count as u64,
                    }
                };
                Op::Dma { job, ready: false }
            }
            CMD_READ_VERIFY | CMD_READ_VERIFY_NORETRY | CMD_READ_VERIFY_EXT => {
                match self.range(ext) {
                    Ok((lba, count)) => {
                        self.set_address(lba + count as u64 - 1, ext);
                        Op::Complete
                    }
                    Err(e) => Op::Fail(e),
                }
            }
            // RECALIBRATE (obsolete, 1xh) and SEEK (7xh).
            0x10..=0x1F | 0x70..=0x7F => Op::Complete,
            CMD_IDENTIFY_DEVICE => {
                self.buf = self.identify_ata();
                Op::DataIn
            }
            CMD_SET_MULTIPLE_MODE => {
                let n = self.tf.count.cur as u16;
                if n == 0 || (n.is_power_of_two() && n <= MAX_MULTIPLE) {
                    self.multiple = n;
                    Op::Complete
                } else {
                    Op::Fail(ERR_ABRT)
                }
            }
            CMD_INITIALIZE_DEVICE_PARAMETERS => {
                self.heads = (self.tf.device & 0x0F) + 1;
                self.spt = self.tf.count.cur;
                if self.spt == 0 {
                    // No usable translation: CHS commands will fail with IDNF.
                    tracing::debug!("INITIALIZE DEVICE PARAMETERS with 0 sectors per track");
                }
                Op::Complete
            }
            CMD_FLUSH_CACHE | CMD_FLUSH_CACHE_EXT => match self.media.as_mut().map(|d| d.flush()) {
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "FLUSH CACHE");
                    Op::Fail(ERR_ABRT)
                }
                _ => Op::Complete,
            },
            CMD_SET_FEATURES => self.set_features(),
            CMD_CHECK_POWER_MODE | CMD_CHECK_POWER_MODE_OLD => {
                self.tf.count.set(0xFF); // active or idle
                Op::Complete
            }
            // STANDBY IMMEDIATE, IDLE IMMEDIATE, STANDBY, IDLE, SLEEP (and their old
            // 94h-99h codes): no spindle to stop.
            0xE0..=0xE3 | 0xE6 | 0x94..=0x97 | 0x99 => Op::Complete,
            // NOP always aborts (ATA-6 §8.22).
            CMD_NOP => Op::Fail(ERR_ABRT),
            _ => {
                tracing::debug!(cmd, "unsupported ATA command");
                Op::Fail(ERR_ABRT)
            }
        }
    }

    fn set_features(&mut self) -> Op {
        match self.tf.features.cur {
            SF_SET_TRANSFER_MODE => {
                let mode = self.tf.count.cur;
                match mode >> 3 {
                    // PIO default (00h/01h) or PIO flow control mode n (08h+n).
                    0 | 1 if mode & 0x07 <= 4 => {}
                    // Multiword DMA 0-2 (20h+n), Ultra DMA 0-5 (40h+n).
                    4 if mode & 0x07 <= 2 => {}
                    8 if mode & 0x07 <= 5 => {}
                    _ => return Op::Fail(ERR_ABRT),
                }
                self.xfer_mode = mode;
                Op::Complete
            }
            SF_ENABLE_WRITE_CACHE => {
                self.write_cache = true;
                Op::Complete
            }
            SF_DISABLE_WRITE_CACHE => {
                self.write_cache = false;
                Op::Complete
            }
            // Read look-ahead on/off, revert to power-on defaults on/off.
            0xAA | 0x55 | 0x66 | 0xCC => Op::Complete,
            f => {
                tracing::debug!(feature = f, "unsupported SET FEATURES subcommand");
                Op::Fail(ERR_ABRT)
            }
        }
    }

    fn dma_mode_words(&self) -> (u16, u16) {
        let mw = if self.xfer_mode >> 3 == 4 {
            0x0100 << (self.xfer_mode & 7)
        } else {
            0
        };
        let udma = if self.xfer_mode >> 3 == 8 {
            0x0100 << (self.xfer_mode & 7)
        } else {
            0
        };
        (0x0007 | mw, 0x003F | udma)
    }

    /// IDENTIFY DEVICE data (ATA-6 §8.15, table 16).
    fn identify_ata(&self) -> Vec<u8> {
        let mut w = [0u16; 256];
        let sectors = self.sectors();
        w[0] = 0x0040; // fixed device
        w[1] = self.cylinders;
        w[3] = 16;
        w[6] = 63;
        put_string(&mut w, 10, 10, &self.serial);
        put_string(&mut w, 23, 4, "1.0");
        put_string(&mut w, 27, 20, "RX86 HARDDISK");
        w[47] = 0x8000 | MAX_MULTIPLE;
        w[49] = 0x0B00; // IORDY, LBA, DMA supported
        w[50] = 0x4000;
        w[51] = 0x0200;
        w[52] = 0x0200;
        w[53] = 0x0007; // words 54-58, 64-70 and 88 valid
        let cur_cyl = if self.heads == 0 || self.spt == 0 {
            0
        } else {
            (sectors / (self.heads as u64 * self.spt as u64)).min(65535)
        };
        w[54] = cur_cyl as u16;
        w[55] = self.heads as u16;
        w[56] = self.spt as u16;
        let cur_cap = cur_cyl * self.heads as u64 * self.spt as u64;
        w[57] = cur_cap as u16;
        w[58] = (cur_cap >> 16) as u16;
        if self.multiple != 0 {
            w[59] = 0x0100 | self.multiple;
        }
        let lba28 = sectors.min(0x0FFF_FFFF);
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        let (mwdma, udma) = self.dma_mode_words();
        w[63] = mwdma;
        w[64] = 0x0003; // PIO modes 3 and 4
        w[65] = 120;
        w[66] = 120;
        w[67] = 120;
        w[68] = 120;
        w[80] = 0x007E; // ATA-1 to ATA-6
        w[82] = 0x4028; // NOP, write cache, power management
        w[83] = 0x7400; // FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
        w[84] = 0x4000;
        w[85] = 0x4008 | if self.write_cache { 0x0020 } else { 0 };
        w[86] = 0x3400;
        w[87] = 0x4000;
        w[88] = udma;
        w[93] = 0x6001; // device 0 by jumper, 80-conductor cable
        for i in 0..4 {
            w[100 + i] = (sectors >> (16 * i)) as u16;
        }
        finish_identify(&mut w)
    }

    /// IDENTIFY PACKET DEVICE data (ATA-6 §8.16, table 19).
    fn identify_atapi(&self) -> Vec<u8> {
        let mut w = [0u16; 256];
        // ATAPI, CD-ROM (05h), removable, DRQ within 50 us, 12-byte packets.
        w[0] = 0x85C0;
        put_string(&mut w, 10, 10, &self.serial);
        put_string(&mut w, 23, 4, "1.0");
        put_string(&mut w, 27, 20, "RX86 CD-ROM");
        w[49] = 0x0B00;
        w[50] = 0x4000;
        w[53] = 0x0006; // words 64-70 and 88 valid
        let (mwdma, udma) = self.dma_mode_words();
        w[63] = mwdma;
        w[64] = 0x0003;
        w[65] = 120;
        w[66] = 120;
        w[67] = 120;
        w[68] = 120;
        w[80] = 0x007E;
        w[82] = 0x4214; // NOP, DEVICE RESET, PACKET, removable media
        w[83] = 0x4000;
        w[84] = 0x4000;
        w[85] = 0x4214;
        w[87] = 0x4000;
        w[88] = udma;
        w[93] = 0x6001;
        finish_identify(&mut w)
    }

    // ---- ATAPI ----------------------------------------------------------------------

    fn atapi_command(&mut self, cmd: u8) -> Op {
        match cmd {
            CMD_PACKET => {
                let dma = self.tf.features.cur & 0x01 != 0;
                let mut limit = (self.tf.lba_high.cur as u16) << 8 | self.tf.lba_mid.cur as u16;
                // 0 is invalid; an odd limit is rounded down to whole words.
                if limit == 0 {
                    limit = 0xFFFE;
                }
                limit = (limit & !1).max(2);
                Op::PacketCdb { dma, limit }
            }
            CMD_IDENTIFY_PACKET_DEVICE => {
                self.buf = self.identify_atapi();
                Op::DataIn
            }
            CMD_DEVICE_RESET => Op::Reset,
            CMD_IDENTIFY_DEVICE => {
                // ATA-6 §8.15: a packet device aborts with its signature in place.
                self.signature();
                Op::Fail(ERR_ABRT)
            }
            CMD_SET_FEATURES => self.set_features(),
            CMD_CHECK_POWER_MODE | CMD_CHECK_POWER_MODE_OLD => {
                self.tf.count.set(0xFF);
                Op::Complete
            }
            0xE0..=0xE3 | 0xE6 | 0x94..=0x97 | 0x99 => Op::Complete,
            _ => {
                tracing::debug!(cmd, "unsupported command for an ATAPI device");
                Op::Fail(ERR_ABRT)
            }
        }
    }

    fn need_medium(&self) -> Result<&DiskImage, Sense> {
        self.media
            .as_ref()
            .ok_or(sense(SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0))
    }

    fn read_range(&self, lba: u64, count: u64) -> Result<Reply, Sense> {
        let disk = self.need_medium()?;
        if lba.saturating_add(count) > disk.sector_count() {
            return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0));
        }
        if count == 0 {
            return Ok(Reply::NoData);
        }
        Ok(Reply::Data(SectorStream::sectors(lba, count)))
    }

    /// Executes one packet command (MMC-3 / INF-8020).
    fn atapi_exec(&mut self, cdb: &[u8]) -> Result<Reply, Sense> {
        let op = cdb[0];
        if op != SCSI_REQUEST_SENSE {
            self.sense = NO_SENSE;
        }
        let reports_attention = !matches!(
            op,
            SCSI_INQUIRY | SCSI_REQUEST_SENSE | SCSI_GET_CONFIGURATION | SCSI_GET_EVENT_STATUS
        );
        if reports_attention {
            if let Some(ua) = self.unit_attention.take() {
                return Err(ua);
            }
        }
        let invalid_field = sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
        match op {
            SCSI_TEST_UNIT_READY => self.need_medium().map(|_| Reply::NoData),
            SCSI_REQUEST_SENSE => {
                let s = self.unit_attention.take().unwrap_or(self.sense);
                self.sense = NO_SENSE;
                let mut d = vec![0u8; 18];
                d[0] = 0x70; // current error, fixed format
                d[2] = s.key;
                d[7] = 10;
                d[12] = s.asc;
                d[13] = s.ascq;
                Ok(reply_bytes(d, cdb[4] as usize))
            }
            SCSI_INQUIRY => {
                if cdb[1] & 0x01 != 0 {
                    return Err(invalid_field); // no vital product data pages
                }
                let mut d = vec![0u8; 36];
                d[0] = 0x05; // CD/DVD device
                d[1] = 0x80; // removable
                d[2] = 0x00;
                d[3] = 0x21; // ATAPI version 2, response data format 1
                d[4] = 31;
                d[8..16].copy_from_slice(b"RX86    ");
                d[16..32].copy_from_slice(b"RX86 CD-ROM     ");
                d[32..36].copy_from_slice(b"1.0 ");
                Ok(reply_bytes(d, be16(&cdb[3..5])))
            }
            SCSI_START_STOP_UNIT => {
                let (loej, start) = (cdb[4] & 0x02 != 0, cdb[4] & 0x01 != 0);
                if loej && !start {
                    if self.locked {
                        return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2));
                    }
                    if self.media.take().is_some() {
                        self.media_event = 3; // media removal
                    }
                }
                Ok(Reply::NoData)
            }
            SCSI_PREVENT_ALLOW => {
                self.locked = cdb[4] & 0x01 != 0;
                Ok(Reply::NoData)
            }
            SCSI_READ_CAPACITY => {
                let disk = self.need_medium()?;
                let last = disk.sector_count().saturating_sub(1).min(u32::MAX as u64) as u32;
                let mut d = last.to_be_bytes().to_vec();
                d.extend_from_slice(&(disk.sector_size() as u32).to_be_bytes());
                Ok(reply_bytes(d, 8))
            }
            SCSI_READ_10 => self.read_range(be32(&cdb[2..6]), be16(&cdb[7..9]) as u64),
            SCSI_READ_12 => self.read_range(be32(&cdb[2..6]), be32(&cdb[6..10])),
            SCSI_SEEK_10 => {
                let lba = be32(&cdb[2..6]);
                if lba >= self.need_medium()?.sector_count() {
                    return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0));
                }
                Ok(Reply::NoData)
            }
            SCSI_READ_TOC => self.read_toc(cdb),
            SCSI_MODE_SENSE_10 => self.mode_sense(cdb),
            SCSI_GET_CONFIGURATION => Ok(self.get_configuration(cdb)),
            SCSI_GET_EVENT_STATUS => {
                if cdb[1] & 0x01 == 0 {
                    return Err(invalid_field); // only polled operation
                }
                let d = if cdb[4] & 0x10 != 0 {
                    let present = if self.media.is_some() { 0x02 } else { 0 };
                    let event = std::mem::take(&mut self.media_event);
                    vec![0, 6, 0x04, 0x10, event, present, 0, 0]
                } else {
                    vec![0, 2, 0x80, 0x10] // no event available for the classes asked
                };
                Ok(reply_bytes(d, be16(&cdb[7..9])))
            }
            SCSI_READ_DISC_INFORMATION => {
                self.need_medium()?;
                let mut d = vec![0u8; 34];
                d[1] = 32;
                d[2] = 0x0E; // complete disc, last session complete
                d[3] = 1; // first track
                d[4] = 1; // sessions
                d[5] = 1; // first track in last session
                d[6] = 1; // last track in last session
                Ok(reply_bytes(d, be16(&cdb[7..9])))
            }
            SCSI_MECHANISM_STATUS => Ok(reply_bytes(vec![0u8; 8], be16(&cdb[8..10]))),
            SCSI_SET_CD_SPEED | SCSI_SYNCHRONIZE_CACHE => Ok(Reply::NoData),
            SCSI_WRITE_10 | SCSI_WRITE_12 | SCSI_WRITE_AND_VERIFY_10 => {
                Err(sense(SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0))
            }
            _ => {
                tracing::debug!(op, "unsupported ATAPI packet command");
                Err(sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0))
            }
        }
    }

    fn read_toc(&self, cdb: &[u8]) -> Result<Reply, Sense> {
        let disk = self.need_medium()?;
        let msf = cdb[1] & 0x02 != 0;
        let format = match cdb[2] & 0x0F {
            0 => cdb[9] >> 6, // the older (SFF-8020) place for the format
            f => f,
        };
        let track = cdb[6];
        let addr = |lba: u64| -> [u8; 4] {
            if msf {
                let l = lba + 150;
                [
                    0,
                    (l / (75 * 60)) as u8,
                    (l / 75 % 60) as u8,
                    (l % 75) as u8,
                ]
            } else {
                (lba as u32).to_be_bytes()
            }
        };
        let mut d = vec![0, 0, 1, 1];
        match format {
            0 => {
                if track > 1 && track != 0xAA {
                    return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0));
                }
                if track <= 1 {
                    d.extend_from_slice(&[0, 0x14, 1, 0]); // data track 1
                    d.extend_from_slice(&addr(0));
                }
                d.extend_from_slice(&[0, 0x14, 0xAA, 0]); // lead-out
                d.extend_from_slice(&addr(disk.sector_count()));
            }
            1 => {
                // Multi-session information: first track of the last session.
                d.extend_from_slice(&[0, 0x14, 1, 0]);
                d.extend_from_slice(&addr(0));
            }
            _ => return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0)),
        }
        let len = (d.len() - 2) as u16;
        d[..2].copy_from_slice(&len.to_be_bytes());
        Ok(reply_bytes(d, be16(&cdb[7..9])))
    }

    fn mode_sense(&self, cdb: &[u8]) -> Result<Reply, Sense> {
        let pc = cdb[2] >> 6;
        let page = cdb[2] & 0x3F;
        if pc == 3 {
            return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0));
        }
        let changeable = pc == 1;
        let error_recovery = |d: &mut Vec<u8>| {
            d.extend_from_slice(&[0x01, 0x06]);
            d.extend_from_slice(if changeable {
                &[0; 6]
            } else {
                &[0, 5, 0, 0, 0, 0]
            });
        };
        let capabilities = |d: &mut Vec<u8>| {
            d.extend_from_slice(&[0x2A, 0x12]);
            if changeable {
                d.extend_from_slice(&[0; 18]);
                return;
            }
            d.extend_from_slice(&[
                0x03,                                      // reads CD-R and CD-RW
                0x00,                                      // writes nothing
                0x71, // audio play, mode 2 form 1/2, multi-session
                0x60, // CD-DA accurate, ... (as QEMU reports)
                0x29 | if self.locked { 0x02 } else { 0 }, // tray, eject, lock, lock state
                0x00,
                0x02,
                0xC0, // maximum speed 704 KB/s (4x)
                0x01,
                0x00, // 256 volume levels
                0x02,
                0x00, // 512 KiB buffer
                0x02,
                0xC0, // current speed 704 KB/s
                0,
                0,
                0,
                0,
            ]);
        };
        let mut d = vec![0u8; 8];
        d[2] = if self.media.is_some() { 0x01 } else { 0x70 }; // medium type
        match page {
            0x01 => error_recovery(&mut d),
            0x2A => capabilities(&mut d),
            0x3F => {
                error_recovery(&mut d);
                capabilities(&mut d);
            }
            _ => return Err(sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0)),
        }
        let len = (d.len() - 2) as u16;
        d[..2].copy_from_slice(&len.to_be_bytes());
        Ok(reply_bytes(d, be16(&cdb[7..9])))
    }

    /// GET CONFIGURATION (MMC-3 §5.5): profile list, core, removable medium, random
    /// readable, CD read.
    fn get_configuration(&self, cdb: &[u8]) -> Reply {
        let rt = cdb[1] & 0x03;
        let start = be16(&cdb[2..4]) as u16;
        let media = self.media.is_some();
        let features: [(u16, bool, u8, &[u8]); 5] = [
            (0x0000, true, 0, &[0x00, 0x08, media as u8, 0]),
            (0x0001, true, 0, &[0, 0, 0, 2, 0, 0, 0, 0]), // ATAPI
            (0x0003, true, 0, &[0x29, 0, 0, 0]),          // tray, eject, lock
            (0x0010, media, 0, &[0, 0, 0x08, 0, 0, 1, 0, 0]), // 2048-byte blocks
            (0x001E, media, 2, &[0, 0, 0, 0]),
        ];
        let mut d = vec![0u8; 8];
        for (code, current, version, data) in features {
            let wanted = match rt {
                0 => code >= start,
                1 => code >= start && current,
                2 => code == start,
                _ => false,
            };
            if !wanted {
                continue;
            }
            d.extend_from_slice(&code.to_be_bytes());
            let persistent = if code <= 0x0003 { 0x02 } else { 0 };
            d.push((version << 2) | persistent | current as u8);
            d.push(data.len() as u8);
            d.extend_from_slice(data);
        }
        let len = (d.len() - 4) as u32;
        d[..4].copy_from_slice(&len.to_be_bytes());
        d[6..8].copy_from_slice(&(if media { 0x0008u16 } else { 0 }).to_be_bytes());
        reply_bytes(d, be16(&cdb[7..9]))
    }

    /// The end of an ATAPI command: status, error and interrupt reason.
    fn atapi_finish(&mut self, result: Result<(), Sense>) {
        self.op = Op::Idle;
        self.tf.count.set(IR_IO | IR_COD);
        match result {
            Ok(()) => {
                self.status = self.ready_status();
                self.error = 0;
            }
            Err(s) => {
                self.sense = s;
                self.status = ST_DRDY | ST_ERR;
                self.error = s.key << 4
                    | if s.key == SENSE_ILLEGAL_REQUEST {
                        ERR_ABRT
                    } else {
                        0
                    };
            }
        }
        self.intrq = true;
    }

    /// Presents the next ATAPI PIO data-in block (INF-8020 §5.1, byte count register).
    fn atapi_block(&mut self, mut stream: SectorStream, limit: u16) {
        let ss = self.media.as_ref().map_or(2048, |d| d.sector_size());
        let remaining = stream.remaining(ss);
        let mut chunk = limit as u64;
        if remaining > chunk && chunk >= ss as u64 {
            chunk -= chunk % ss as u64;
        }
        let n = remaining.min(chunk) as usize;
        let mut data = vec![0u8; n];
        if stream.take(self.media.as_ref(), &mut data).is_err() {
            self.atapi_finish(Err(sense(
                SENSE_MEDIUM_ERROR,
                ASC_UNRECOVERED_READ_ERROR,
                0,
            )));
            return;
        }
        self.tf.lba_mid.set(n as u8);
        self.tf.lba_high.set((n >> 8) as u8);
        self.tf.count.set(IR_IO);
        self.start_drq(data, false);
        self.op = Op::AtapiIn { stream, limit };
        self.intrq = true;
    }

    // ---- protocol steps -------------------------------------------------------------

    /// Carries the command on once its BSY time is over.
    fn step(&mut self, slot: usize) {
        match std::mem::replace(&mut self.op, Op::Idle) {
            Op::Idle => {}
            Op::Reset => self.signature(),
            Op::Diagnostic => {
                self.signature();
                // Device 0 reports the result for both (ATA-6 §9.9).
                self.intrq = slot == 0;
            }
            Op::Complete => self.complete(),
            Op::Fail(e) => self.fail(e),
            Op::DataIn => {
                let data = std::mem::take(&mut self.buf);
                self.start_drq(data, false);
                self.op = Op::DataIn;
                self.intrq = true;
            }
            Op::PioRead {
                lba,
                left,
                per_block,
            } => {
                let n = left.min(per_block);
                let mut data = vec![0u8; n as usize * ATA_SECTOR];
                let Some(disk) = self.media.as_ref() else {
                    return self.fail(ERR_ABRT);
                };
                if let Err(e) = disk.read_sectors(lba, n, &mut data) {
                    tracing::warn!(error = %e, "IDE read failed");
                    self.set_address(lba, self.is_ext());
                    return self.fail(ERR_UNC | ERR_ABRT);
                }
                let ext = self.is_ext();
                self.set_address(lba + n as u64 - 1, ext);
                self.tf.count.set((left - n) as u8);
                self.start_drq(data, false);
                self.op = Op::PioRead {
                    lba: lba + n as u64,
                    left: left - n,
                    per_block,
                };
                self.intrq = true;
            }
            Op::PioWrite {
                mut lba,
                mut left,
                per_block,
                started,
            } => {
                if started {
                    let data = std::mem::take(&mut self.buf);
                    let n = (data.len() / ATA_SECTOR) as u32;
                    let Some(disk) = self.media.as_mut() else {
                        return self.fail(ERR_ABRT);
                    };
                    if let Err(e) = disk.write_sectors(lba, &data) {
                        tracing::warn!(error = %e, "IDE write failed");
                        self.set_address(lba, self.is_ext());
                        return self.fail(ERR_ABRT);
                    }
                    lba += n as u64;
                    left = left.saturating_sub(n);
                    let ext = self.is_ext();
                    self.set_address(lba.saturating_sub(1), ext);
                    self.tf.count.set(left as u8);
                }
                if left == 0 {
                    return self.complete();
                }
                let n = left.min(per_block) as usize;
                self.start_drq(vec![0u8; n * ATA_SECTOR], true);
                self.op = Op::PioWrite {
                    lba,
                    left,
                    per_block,
                    started: true,
                };
                // The first block is requested without an interrupt (ATA-6 §9.8).
                self.intrq = started;
            }
            Op::PacketCdb { dma, limit } => {
                self.tf.count.set(IR_COD);
                self.start_drq(vec![0u8; 12], true);
                self.op = Op::PacketCdb { dma, limit };
            }
            Op::PacketExec { dma, limit } => {
                let mut cdb = std::mem::take(&mut self.buf);
                cdb.resize(12, 0);
                match self.atapi_exec(&cdb) {
                    Err(s) => self.atapi_finish(Err(s)),
                    Ok(Reply::NoData) => self.atapi_finish(Ok(())),
                    Ok(Reply::Data(stream)) => {
                        let ss = self.media.as_ref().map_or(2048, |d| d.sector_size());
                        if stream.remaining(ss) == 0 {
                            self.atapi_finish(Ok(()));
                        } else if dma {
                            self.tf.count.set(IR_IO);
                            self.status = self.ready_status() | ST_DRQ;
                            self.op = Op::Dma {
                                job: DmaJob::In(stream),
                                ready: true,
                            };
                        } else {
                            self.atapi_block(stream, limit);
                        }
                    }
                }
            }
            Op::AtapiIn { stream, limit } => self.atapi_block(stream, limit),
            Op::AtapiDone => self.atapi_finish(Ok(())),
            Op::Dma { job, .. } => {
                self.status = self.ready_status() | ST_DRQ;
                self.op = Op::Dma { job, ready: true };
            }
        }
    }

    /// True if the command being executed is a 48-bit one (recorded at command time).
    fn is_ext(&self) -> bool {
        self.ext
    }

    /// Goes BSY and carries on with `op` once the BSY time has passed.
    fn busy(&mut self, now: u64, op: Op) {
        self.op = op;
        self.status = ST_BSY | (self.status & ST_DRDY);
        self.deadline = Some(now.saturating_add(BSY_NS));
    }

    /// The host has moved the whole DRQ block.
    fn block_done(&mut self, now: u64) {
        self.status &= !ST_DRQ;
        match std::mem::replace(&mut self.op, Op::Idle) {
            Op::PioRead { left: 0, .. } | Op::DataIn => {
                // PIO data-in ends without an interrupt after the last block (ATA-6 §9.7).
                self.buf.clear();
                self.status = self.ready_status();
            }
            op @ (Op::PioRead { .. } | Op::PioWrite { .. }) => self.busy(now, op),
            Op::PacketCdb { dma, limit } => self.busy(now, Op::PacketExec { dma, limit }),
            Op::AtapiIn { stream, limit } => {
                let ss = self.media.as_ref().map_or(2048, |d| d.sector_size());
                self.buf.clear();
                if stream.remaining(ss) > 0 {
                    self.busy(now, Op::AtapiIn { stream, limit });
                } else {
                    self.busy(now, Op::AtapiDone);
                }
            }
            other => {
                self.op = other;
                self.status = self.ready_status();
            }
        }
    }

    fn data_read(&mut self, now: u64) -> u16 {
        if self.status & ST_DRQ == 0 || self.dir_out {
            tracing::debug!("IDE data read without a data-in DRQ");
            return 0;
        }
        let byte = |i: usize| self.buf.get(i).copied().unwrap_or(0);
        let w = u16::from_le_bytes([byte(self.pos), byte(self.pos + 1)]);
        self.pos += 2;
        if self.pos >= self.buf.len() {
            self.block_done(now);
        }
        w
    }

    fn data_write(&mut self, now: u64, w: u16) {
        if self.status & ST_DRQ == 0 || !self.dir_out {
            tracing::debug!(w, "IDE data write without a data-out DRQ");
            return;
        }
        for (i, b) in w.to_le_bytes().into_iter().enumerate() {
            if let Some(slot) = self.buf.get_mut(self.pos + i) {
                *slot = b;
            }
        }
        self.pos += 2;
        if self.pos >= self.buf.len() {
            self.block_done(now);
        }
    }

    /// Power-on / hardware reset state.
    fn power_on(&mut self) {
        self.op = Op::Idle;
        self.deadline = None;
        self.intrq = false;
        self.buf.clear();
        self.multiple = 0;
        self.heads = 16;
        self.spt = 63;
        self.write_cache = true;
        self.xfer_mode = 0;
        self.sense = NO_SENSE;
        self.locked = false;
        if self.atapi {
            self.unit_attention = Some(sense(SENSE_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0));
        }
        self.tf = TaskFile::default();
        self.signature();
    }
}

fn read_prd(mem: &mut dyn DmaMemory, addr: u32) -> (u32, usize, bool) {
    let mut b = [0u8; 8];
    mem.read(addr, &mut b);
    let base = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & !1;
    let flags = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let len = match flags & 0xFFFE {
        0 => 0x1_0000, // a byte count of 0 means 64 KiB
        n => n as usize,
    };
    (base, len, flags & PRD_EOT != 0)
}

/// One IDE channel: two device positions, the shared command and control blocks, and the
/// channel's bus master registers.
pub struct IdeChannel {
    clock: Clock,
    irq: IrqLine,
    irq_level: bool,
    devs: [Option<Device>; 2],
    /// DEV bit of the device register.
    selected: usize,
    /// Device control register.
    devctl: u8,
    bm_cmd: u8,
    bm_status: u8,
    bm_prdt: u32,
}

/// A channel shared by its bus views.
pub type IdeChannelRef = Rc<RefCell<IdeChannel>>;

impl IdeChannel {
    /// An empty channel interrupting on `irq` (IRQ14 primary, IRQ15 secondary).
    pub fn new(clock: Clock, irq: IrqLine) -> Self {
        Self {
            clock,
            irq,
            irq_level: false,
            devs: [None, None],
            selected: 0,
            devctl: 0,
            bm_cmd: 0,
            bm_status: 0,
            bm_prdt: 0,
        }
    }

    /// Wraps the channel for its `IdeCommandBlock`, `IdeControlBlock` and `IdeBusMaster`.
    pub fn into_shared(self) -> IdeChannelRef {
        Rc::new(RefCell::new(self))
    }

    /// Connects `drive` as device 0 (master) or 1 (slave), replacing what was there.
    pub fn attach(&mut self, slot: usize, drive: Drive) {
        let slot = slot & 1;
        let serial = format!("RX86-{}-{}", self.irq.irq(), slot);
        self.devs[slot] = Some(Device::new(drive, serial));
    }

    /// Removes the drive at `slot`.
    pub fn detach(&mut self, slot: usize) {
        self.devs[slot & 1] = None;
        self.update_irq();
    }

    /// The medium of the drive at `slot` and whether the drive is ATAPI; None when no
    /// drive is there or a CD-ROM drive is empty. For a BIOS that serves INT 13h from the
    /// images directly rather than through the ATA registers.
    pub fn media_mut(&mut self, slot: usize) -> Option<(&mut DiskImage, bool)> {
        let dev = self.devs[slot & 1].as_mut()?;
        let atapi = dev.atapi;
        dev.media.as_mut().map(|m| (m, atapi))
    }

    /// Changes the disc in the CD-ROM drive at `slot` (None ejects it). The next packet
    /// command reports UNIT ATTENTION, MEDIUM MAY HAVE CHANGED. Returns false if `slot`
    /// holds no CD-ROM drive.
    pub fn change_media(&mut self, slot: usize, media: Option<DiskImage>) -> bool {
        match self.devs[slot & 1].as_mut() {
            Some(dev) if dev.atapi => {
                dev.media_event = if media.is_some() { 2 } else { 3 };
                dev.media = media;
                dev.unit_attention = Some(sense(SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0));
                true
            }
            _ => false,
        }
    }

    /// Hardware reset (RESET- on the cable, from the machine's reset): every device back
    /// to its power-on state, bus master stopped.
    pub fn reset(&mut self) {
        for dev in self.devs.iter_mut().flatten() {
            dev.power_on();
        }
        self.selected = 0;
        self.devctl = 0;
        self.bm_cmd = 0;
        self.bm_status = 0;
        self.bm_prdt = 0;
        self.update_irq();
    }

    /// The level of the channel's interrupt line.
    pub fn irq_level(&self) -> bool {
        self.irq_level
    }

    /// When a device next needs `advance` (end of a BSY period).
    pub fn next_deadline(&self) -> Option<u64> {
        self.devs.iter().flatten().filter_map(|d| d.deadline).min()
    }

    /// Completes whatever was due by `now`.
    pub fn advance(&mut self, now: u64) {
        self.poll_at(now.max(self.clock.now()));
    }

    fn poll(&mut self) {
        self.poll_at(self.clock.now());
    }

    fn poll_at(&mut self, now: u64) {
        for (slot, dev) in self.devs.iter_mut().enumerate() {
            if let Some(dev) = dev {
                if dev.deadline.is_some_and(|d| d <= now) {
                    dev.deadline = None;
                    dev.step(slot);
                }
            }
        }
        self.update_irq();
    }

    /// INTRQ: driven by the selected device, gated by nIEN (ATA-6 §7.8). A rising edge also
    /// sets the bus master's interrupt bit (SFF-8038i §2.2).
    fn update_irq(&mut self) {
        let level = self.devctl & CTL_NIEN == 0
            && self.devs[self.selected].as_ref().is_some_and(|d| d.intrq);
        if level != self.irq_level {
            self.irq_level = level;
            if level {
                self.bm_status |= BM_ST_INTR;
            }
            self.irq.set(level);
        }
    }

    fn no_devices(&self) -> bool {
        self.devs.iter().all(Option::is_none)
    }

    /// The device whose registers a read shows: the selected one, or device 0 answering
    /// for an absent device 1.
    fn responder(&self) -> Option<&Device> {
        self.devs[self.selected]
            .as_ref()
            .or(self.devs[self.selected ^ 1].as_ref())
    }

    fn data_read(&mut self) -> u16 {
        let now = self.clock.now();
        let w = match self.devs[self.selected].as_mut() {
            Some(dev) => dev.data_read(now),
            None => 0,
        };
        self.update_irq();
        w
    }

    fn data_write(&mut self, w: u16) {
        let now = self.clock.now();
        if let Some(dev) = self.devs[self.selected].as_mut() {
            dev.data_write(now, w);
        }
        self.update_irq();
    }

    /// A read from the command block (offsets 0-7).
    pub fn read_command_block(&mut self, offset: u32, size: u8) -> u32 {
        self.poll();
        if self.no_devices() {
            return all_ones(size); // nothing drives the bus
        }
        match offset {
            REG_DATA => {
                let lo = self.data_read() as u32;
                match size {
                    4 => lo | (self.data_read() as u32) << 16,
                    1 => lo & 0xFF,
                    _ => lo,
                }
            }
            REG_STATUS => {
                let status = match self.devs[self.selected].as_mut() {
                    Some(dev) => {
                        dev.intrq = false;
                        dev.status
                    }
                    // ATA-6 §9.16.1: device 0 answers 00h for an absent device 1.
                    None => 0,
                };
                self.update_irq();
                status as u32
            }
            _ => {
                let hob = self.devctl & CTL_HOB != 0;
                let Some(dev) = self.responder() else {
                    return all_ones(size);
                };
                let r = |reg: Reg| if hob { reg.prev } else { reg.cur };
                let tf = &dev.tf;
                (match offset {
                    REG_ERROR => dev.error,
                    REG_SECTOR_COUNT => r(tf.count),
                    REG_LBA_LOW => r(tf.lba_low),
                    REG_LBA_MID => r(tf.lba_mid),
                    REG_LBA_HIGH => r(tf.lba_high),
                    REG_DEVICE => tf.device | 0xA0,
                    _ => {
                        tracing::debug!(offset, "IDE read beyond the command block");
                        0xFF
                    }
                }) as u32
            }
        }
    }

    /// A write to the command block (offsets 0-7).
    pub fn write_command_block(&mut self, offset: u32, size: u8, value: u32) {
        self.poll();
        match offset {
            REG_DATA => {
                self.data_write(value as u16);
                if size == 4 {
                    self.data_write((value >> 16) as u16);
                }
            }
            REG_STATUS => self.command(value as u8),
            REG_ERROR..=REG_DEVICE => {
                let v = value as u8;
                // Writes reach both devices' registers; HOB is cleared (ATA-6 §7.8).
                self.devctl &= !CTL_HOB;
                for dev in self.devs.iter_mut().flatten() {
                    let tf = &mut dev.tf;
                    match offset {
                        REG_ERROR => tf.features.write(v),
                        REG_SECTOR_COUNT => tf.count.write(v),
                        REG_LBA_LOW => tf.lba_low.write(v),
                        REG_LBA_MID => tf.lba_mid.write(v),
                        REG_LBA_HIGH => tf.lba_high.write(v),
                        _ => tf.device = v,
                    }
                }
                if offset == REG_DEVICE {
                    self.selected = ((v & DEV_DEV) >> 4) as usize;
                    self.update_irq();
                }
            }
            _ => tracing::debug!(offset, value, "IDE write beyond the command block"),
        }
    }

    fn command(&mut self, cmd: u8) {
        let now = self.clock.now();
        if cmd == CMD_EXECUTE_DEVICE_DIAGNOSTIC {
            // Executed by both devices whatever DEV selects (ATA-6 §8.11).
            for dev in self.devs.iter_mut().flatten() {
                dev.intrq = false;
                dev.status &= !ST_DRQ;
                dev.busy(now, Op::Diagnostic);
            }
            self.selected = 0;
            self.update_irq();
            return;
        }
        let Some(dev) = self.devs[self.selected].as_mut() else {
            tracing::debug!(cmd, "IDE command to an absent device");
            return;
        };
        if dev.status & ST_BSY != 0 && !(dev.atapi && cmd == CMD_DEVICE_RESET) {
            tracing::debug!(cmd, "IDE command while BSY ignored");
            return;
        }
        dev.intrq = false;
        dev.status &= !ST_DRQ;
        dev.buf.clear();
        dev.error = 0;
        let op = if dev.atapi {
            dev.atapi_command(cmd)
        } else {
            dev.ata_command(cmd)
        };
        dev.busy(now, op);
        self.update_irq();
    }

    /// Alternate status (control block read): status without clearing the interrupt.
    pub fn read_alt_status(&mut self) -> u8 {
        self.poll();
        if self.no_devices() {
            return 0xFF;
        }
        self.devs[self.selected].as_ref().map_or(0, |d| d.status)
    }

    /// Device control (control block write): nIEN, SRST, HOB.
    pub fn write_device_control(&mut self, v: u8) {
        self.poll();
        let now = self.clock.now();
        let old = self.devctl;
        self.devctl = v;
        if v & CTL_SRST != 0 && old & CTL_SRST == 0 {
            for dev in self.devs.iter_mut().flatten() {
                dev.op = Op::Idle;
                dev.deadline = None;
                dev.intrq = false;
                dev.buf.clear();
                dev.status = ST_BSY;
            }
        } else if v & CTL_SRST == 0 && old & CTL_SRST != 0 {
            // Software reset protocol (ATA-6 §9.12): BSY, then the signature, no interrupt.
            for dev in self.devs.iter_mut().flatten() {
                dev.op = Op::Reset;
                dev.status = ST_BSY;
                dev.deadline = Some(now.saturating_add(RESET_NS));
            }
            self.selected = 0;
        }
        self.update_irq();
    }

    // ---- bus master (SFF-8038i) -----------------------------------------------------

    fn dma_device(&self) -> Option<usize> {
        let now = self.clock.now();
        (0..2).find(|&i| {
            self.devs[i].as_ref().is_some_and(|d| {
                matches!(d.op, Op::Dma { ready, .. }
                    if ready || d.deadline.is_some_and(|t| t <= now))
            })
        })
    }

    /// True when a device is ready for a DMA transfer and the bus master is started: the
    /// machine then calls `run_dma`.
    pub fn dma_pending(&self) -> bool {
        self.bm_cmd & BM_CMD_START != 0 && self.dma_device().is_some()
    }

    /// Moves the pending DMA transfer through the PRD table, completes the command and
    /// raises the interrupt.
    pub fn run_dma(&mut self, mem: &mut dyn DmaMemory) {
        self.poll();
        if self.bm_cmd & BM_CMD_START == 0 {
            return;
        }
        let Some(slot) = self.dma_device() else {
            return;
        };
        let mut prd = self.bm_prdt;
        let Some(dev) = self.devs[slot].as_mut() else {
            return;
        };
        let Op::Dma { job, .. } = std::mem::replace(&mut dev.op, Op::Idle) else {
            return;
        };
        let device_to_memory = matches!(job, DmaJob::In(_));
        if device_to_memory != (self.bm_cmd & BM_CMD_WRITE != 0) {
            tracing::debug!("bus master direction does not match the DMA command");
        }
        let ss = dev.media.as_ref().map_or(ATA_SECTOR, |d| d.sector_size());
        // Whether the descriptor marked EOT was used up exactly.
        let mut exhausted = false;
        let mut io_error = false;
        let mut last_lba = None;
        let short;
        match job {
            DmaJob::In(mut stream) => {
                let mut left = stream.remaining(ss) as usize;
                let mut chunk = Vec::new();
                while left > 0 {
                    let (base, len, eot) = read_prd(mem, prd);
                    let n = len.min(left);
                    chunk.resize(n, 0);
                    if stream.take(dev.media.as_ref(), &mut chunk).is_err() {
                        io_error = true;
                        break;
                    }
                    mem.write(base, &chunk);
                    left -= n;
                    if eot {
                        exhausted = n == len;
                        break;
                    }
                    prd = prd.wrapping_add(8);
                }
                short = left > 0;
                if !dev.atapi && stream.lba > 0 {
                    last_lba = Some(stream.lba - 1);
                }
            }
            DmaJob::Out { lba, count } => {
                let total = count as usize * ATA_SECTOR;
                let mut done = 0;
                let mut staged: Vec<u8> = Vec::new();
                let mut next = lba;
                while done < total {
                    let (base, len, eot) = read_prd(mem, prd);
                    let n = len.min(total - done);
                    let at = staged.len();
                    staged.resize(at + n, 0);
                    mem.read(base, &mut staged[at..]);
                    done += n;
                    if staged.len() >= STAGE_SECTORS as usize * ATA_SECTOR || done == total || eot {
                        let whole = staged.len() / ATA_SECTOR * ATA_SECTOR;
                        let Some(disk) = dev.media.as_mut() else {
                            io_error = true;
                            break;
                        };
                        if let Err(e) = disk.write_sectors(next, &staged[..whole]) {
                            tracing::warn!(error = %e, "IDE DMA write failed");
                            io_error = true;
                            break;
                        }
                        next += (whole / ATA_SECTOR) as u64;
                        staged.drain(..whole);
                    }
                    if eot {
                        exhausted = n == len;
                        break;
                    }
                    prd = prd.wrapping_add(8);
                }
                short = done < total;
                last_lba = next.checked_sub(1);
            }
        }
        if io_error || short || exhausted {
            self.bm_status &= !BM_ST_ACTIVE;
        }
        if short && !io_error {
            tracing::debug!("PRD table smaller than the DMA transfer");
        }
        if dev.atapi {
            let result = if io_error {
                Err(sense(SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR, 0))
            } else if short {
                Err(sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0))
            } else {
                Ok(())
            };
            dev.atapi_finish(result);
        } else {
            if let Some(l) = last_lba {
                let ext = dev.ext;
                dev.set_address(l, ext);
            }
            if io_error || short {
                dev.fail(if io_error && device_to_memory {
                    ERR_UNC | ERR_ABRT
                } else {
                    ERR_ABRT
                });
            } else {
                dev.tf.count.set(0);
                dev.complete();
            }
        }
        self.update_irq();
    }

    fn bm_read_byte(&self, offset: u32) -> u8 {
        match offset {
            BM_COMMAND => self.bm_cmd,
            BM_STATUS => self.bm_status,
            4..=7 => (self.bm_prdt >> (8 * (offset - BM_PRDT))) as u8,
            1 | 3 => 0,
            _ => {
                tracing::debug!(offset, "bus master read beyond its registers");
                0xFF
            }
        }
    }

    fn bm_write_byte(&mut self, offset: u32, v: u8) {
        match offset {
            BM_COMMAND => {
                let v = v & (BM_CMD_START | BM_CMD_WRITE);
                let was = self.bm_cmd & BM_CMD_START != 0;
                let now = v & BM_CMD_START != 0;
                self.bm_cmd = v;
                if now && !was {
                    self.bm_status |= BM_ST_ACTIVE;
                } else if was && !now {
                    self.bm_status &= !BM_ST_ACTIVE;
                }
            }
            BM_STATUS => {
                let cleared = self.bm_status & (BM_ST_ERROR | BM_ST_INTR) & !v;
                self.bm_status = (self.bm_status & BM_ST_ACTIVE)
                    | cleared
                    | (v & (BM_ST_DMA0_CAPABLE | BM_ST_DMA1_CAPABLE));
            }
            4..=7 => {
                let shift = 8 * (offset - BM_PRDT);
                self.bm_prdt = (self.bm_prdt & !(0xFF << shift)) | (v as u32) << shift;
                self.bm_prdt &= !3; // dword aligned
            }
            _ => tracing::debug!(offset, v, "bus master write to a reserved register"),
        }
    }

    /// A read from the channel's 8-byte bus master block.
    pub fn read_bus_master(&mut self, offset: u32, size: u8) -> u32 {
        (0..size as u32).fold(0, |v, i| {
            v | (self.bm_read_byte(offset.wrapping_add(i)) as u32) << (8 * i)
        })
    }

    /// A write to the channel's 8-byte bus master block.
    pub fn write_bus_master(&mut self, offset: u32, size: u8, value: u32) {
        for i in 0..size as u32 {
            self.bm_write_byte(offset.wrapping_add(i), (value >> (8 * i)) as u8);
        }
    }
}

/// The command block (8 ports: 0x1F0 or 0x170). Reports the channel's deadlines.
pub struct IdeCommandBlock(IdeChannelRef);

/// The control block (1 port: 0x3F6 or 0x376): alternate status / device control.
pub struct IdeControlBlock(IdeChannelRef);

/// The channel's bus master registers (8 bytes at PIIX3 BAR4 + 0 or + 8).
pub struct IdeBusMaster(IdeChannelRef);

impl IdeCommandBlock {
    pub fn new(ch: IdeChannelRef) -> Self {
        Self(ch)
    }
}

impl IdeControlBlock {
    pub fn new(ch: IdeChannelRef) -> Self {
        Self(ch)
    }
}

impl IdeBusMaster {
    pub fn new(ch: IdeChannelRef) -> Self {
        Self(ch)
    }
}

impl BusDevice for IdeCommandBlock {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        self.0.borrow_mut().read_command_block(offset, size)
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        self.0.borrow_mut().write_command_block(offset, size, value)
    }

    fn name(&self) -> &str {
        "ide"
    }

    fn next_deadline(&self) -> Option<u64> {
        self.0.borrow().next_deadline()
    }

    fn advance(&mut self, now: u64) {
        self.0.borrow_mut().advance(now)
    }
}

impl BusDevice for IdeControlBlock {
    fn read(&mut self, _offset: u32, _size: u8) -> u32 {
        self.0.borrow_mut().read_alt_status() as u32
    }

    fn write(&mut self, _offset: u32, _size: u8, value: u32) {
        self.0.borrow_mut().write_device_control(value as u8)
    }

    fn name(&self) -> &str {
        "ide-ctl"
    }
}

impl BusDevice for IdeBusMaster {
    fn read(&mut self, offset: u32, size: u8) -> u32 {
        self.0.borrow_mut().read_bus_master(offset, size)
    }

    fn write(&mut self, offset: u32, size: u8, value: u32) {
        self.0.borrow_mut().write_bus_master(offset, size, value)
    }

    fn name(&self) -> &str {
        "ide-bm"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::tests::{pattern, TempFile};
    use crate::disk::OpenMode;
    use crate::irq::FakeIrqSink;

    const IRQ: u8 = 14;

    /// Guest memory for DMA tests.
    struct Mem(Vec<u8>);

    impl DmaMemory for Mem {
        fn read(&mut self, addr: u32, buf: &mut [u8]) {
            let a = addr as usize;
            buf.copy_from_slice(&self.0[a..a + buf.len()]);
        }
        fn write(&mut self, addr: u32, data: &[u8]) {
            let a = addr as usize;
            self.0[a..a + data.len()].copy_from_slice(data);
        }
    }

    struct Rig {
        clock: Clock,
        sink: Rc<FakeIrqSink>,
        ch: IdeChannelRef,
        cmd: IdeCommandBlock,
        ctl: IdeControlBlock,
        bm: IdeBusMaster,
    }

    impl Rig {
        fn new(drives: Vec<(usize, Drive)>) -> Self {
            let clock = Clock::new();
            let sink = FakeIrqSink::new();
            let mut ch = IdeChannel::new(clock.clone(), sink.line(IRQ));
            for (slot, d) in drives {
                ch.attach(slot, d);
            }
            let ch = ch.into_shared();
            Rig {
                clock,
                sink,
                cmd: IdeCommandBlock::new(ch.clone()),
                ctl: IdeControlBlock::new(ch.clone()),
                bm: IdeBusMaster::new(ch.clone()),
                ch,
            }
        }

        fn disk(file: &TempFile) -> Self {
            let d = DiskImage::open(&file.0, OpenMode::ReadWrite).unwrap();
            Rig::new(vec![(0, Drive::Disk(d))])
        }

        fn outb(&mut self, reg: u32, v: u8) {
            self.cmd.write(reg, 1, v as u32);
        }
        fn inb(&mut self, reg: u32) -> u8 {
            self.cmd.read(reg, 1) as u8
        }
        fn alt(&mut self) -> u8 {
            self.ctl.read(0, 1) as u8
        }
        fn status(&mut self) -> u8 {
            self.inb(REG_STATUS)
        }
        fn edges(&self) -> usize {
            self.sink.rising_edges(IRQ)
        }
        /// Runs virtual time to the next deadline, as the machine does.
        fn settle(&mut self) {
            let t = self.cmd.next_deadline().expect("a deadline is pending");
            assert!(t > self.clock.now());
            self.clock.set(t);
            self.cmd.advance(t);
        }
        fn read_words(&mut self, n: usize) -> Vec<u8> {
            (0..n)
                .flat_map(|_| (self.cmd.read(REG_DATA, 2) as u16).to_le_bytes())
                .collect()
        }
        fn write_words(&mut self, data: &[u8]) {
            for w in data.chunks(2) {
                self.cmd
                    .write(REG_DATA, 2, u16::from_le_bytes([w[0], w[1]]) as u32);
            }
        }
        fn lba28(&mut self, lba: u32, count: u8) {
            self.outb(REG_SECTOR_COUNT, count);
            self.outb(REG_LBA_LOW, lba as u8);
            self.outb(REG_LBA_MID, (lba >> 8) as u8);
            self.outb(REG_LBA_HIGH, (lba >> 16) as u8);
            self.outb(REG_DEVICE, 0xE0 | (lba >> 24) as u8 & 0x0F);
        }
        fn identify(&mut self) -> Vec<u16> {
            self.outb(REG_COMMAND, CMD_IDENTIFY_DEVICE);
            self.settle();
            assert_eq!(self.status(), ST_DRDY | ST_DSC | ST_DRQ);
            self.read_words(256)
                .chunks(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect()
        }
        /// Sends a packet command and reads its data-in, checking the PACKET protocol.
        fn packet(&mut self, cdb: &[u8], limit: u16) -> Result<Vec<u8>, (u8, u8)> {
            let mut full = [0u8; 12];
            full[..cdb.len()].copy_from_slice(cdb);
            self.outb(REG_FEATURES, 0);
            self.outb(REG_LBA_MID, limit as u8);
            self.outb(REG_LBA_HIGH, (limit >> 8) as u8);
            self.outb(REG_COMMAND, CMD_PACKET);
            assert_eq!(self.alt() & ST_BSY, ST_BSY);
            self.settle();
            let edges = self.edges();
            assert_eq!(self.alt() & (ST_BSY | ST_DRQ), ST_DRQ);
            assert_eq!(
                self.inb(REG_SECTOR_COUNT) & 3,
                IR_COD,
                "CoD=1 IO=0 for the packet"
            );
            self.write_words(&full);
            assert_eq!(self.alt() & ST_BSY, ST_BSY);
            self.settle();
            let mut data = Vec::new();
            while self.alt() & ST_DRQ != 0 {
                assert_eq!(self.inb(REG_SECTOR_COUNT) & 3, IR_IO, "IO=1 CoD=0 for data");
                let n = self.inb(REG_LBA_MID) as usize | (self.inb(REG_LBA_HIGH) as usize) << 8;
                assert!(n <= limit as usize && n > 0);
                self.status();
                let mut block = self.read_words(n.div_ceil(2));
                block.truncate(n);
                data.extend(block);
                self.settle();
            }
            assert_eq!(self.inb(REG_SECTOR_COUNT) & 3, IR_IO | IR_COD, "completion");
            assert!(self.edges() > edges, "completion interrupts");
            let st = self.status();
            if st & ST_ERR != 0 {
                return Err((st, self.inb(REG_ERROR)));
            }
            assert_eq!(st, ST_DRDY | ST_DSC);
            Ok(data)
        }
    }

    const REG_FEATURES: u32 = REG_ERROR;
    const REG_COMMAND: u32 = REG_STATUS;

    fn sparse(tag: &str, sectors: u64) -> TempFile {
        let t = TempFile::new(tag, &[]);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&t.0)
            .unwrap()
            .set_len(sectors * 512)
            .unwrap();
        t
    }

    fn cd_rig(sectors: usize) -> (TempFile, Rig) {
        let t = TempFile::new("cd", &pattern(sectors, 2048));
        let cd = DiskImage::open_cdrom(&t.0).unwrap();
        let mut rig = Rig::new(vec![(0, Drive::Cdrom(Some(cd)))]);
        // Consume the power-on unit attention.
        assert_eq!(
            rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE),
            Err((0x41, 0x60))
        );
        (t, rig)
    }

    #[test]
    fn signatures_after_power_on_and_soft_reset() {
        let disk = TempFile::new("ide-sig", &pattern(64, 512));
        let cd = TempFile::new("ide-sig-cd", &pattern(2, 2048));
        let mut rig = Rig::new(vec![
            (
                0,
                Drive::Disk(DiskImage::open(&disk.0, OpenMode::ReadWrite).unwrap()),
            ),
            (1, Drive::Cdrom(Some(DiskImage::open_cdrom(&cd.0).unwrap()))),
        ]);
        let regs = |rig: &mut Rig| {
            [
                REG_ERROR,
                REG_SECTOR_COUNT,
                REG_LBA_LOW,
                REG_LBA_MID,
                REG_LBA_HIGH,
            ]
            .map(|r| rig.inb(r))
        };
        assert_eq!(regs(&mut rig), [0x01, 0x01, 0x01, 0x00, 0x00]);
        assert_eq!(rig.status(), 0x50);
        rig.outb(REG_DEVICE, 0xB0);
        assert_eq!(regs(&mut rig), [0x01, 0x01, 0x01, 0x14, 0xEB]);
        assert_eq!(rig.status(), 0x00, "ATAPI: DRDY clear after reset");

        // Scribble over the task file, then SRST.
        rig.lba28(0x0123456, 9);
        rig.ctl.write(0, 1, CTL_SRST as u32);
        assert_eq!(rig.alt(), ST_BSY);
        rig.clock.advance(RESET_NS * 5);
        assert_eq!(rig.alt(), ST_BSY, "BSY while SRST is held");
        rig.ctl.write(0, 1, 0);
        assert_eq!(rig.alt(), ST_BSY);
        rig.settle();
        assert_eq!(rig.inb(REG_DEVICE) & DEV_DEV, 0, "device 0 selected");
        assert_eq!(regs(&mut rig), [0x01, 0x01, 0x01, 0x00, 0x00]);
        assert_eq!(rig.status(), 0x50);
        rig.outb(REG_DEVICE, 0xA0 | DEV_DEV);
        assert_eq!(regs(&mut rig), [0x01, 0x01, 0x01, 0x14, 0xEB]);
        assert_eq!(rig.edges(), 0, "reset does not interrupt");
    }

    #[test]
    fn absent_device_1_reads_zero_status_and_empty_channel_floats() {
        let disk = TempFile::new("ide-absent", &pattern(64, 512));
        let mut rig = Rig::disk(&disk);
        rig.outb(REG_DEVICE, 0xB0);
        assert_eq!(rig.status(), 0x00);
        assert_eq!(rig.alt(), 0x00);
        rig.outb(REG_SECTOR_COUNT, 0x55);
        assert_eq!(rig.inb(REG_SECTOR_COUNT), 0x55, "device 0 answers");
        rig.outb(REG_COMMAND, CMD_IDENTIFY_DEVICE);
        assert_eq!(rig.cmd.next_deadline(), None, "nobody executes it");

        let mut empty = Rig::new(vec![]);
        assert_eq!(empty.status(), 0xFF);
        assert_eq!(empty.alt(), 0xFF);
        assert_eq!(empty.cmd.read(REG_DATA, 2), 0xFFFF);
    }

    #[test]
    fn identify_device_words() {
        let disk = sparse("ide-ident", 20_000);
        let mut rig = Rig::disk(&disk);
        let w = rig.identify();
        assert_eq!(rig.status(), 0x50, "no DRQ after the block");
        assert_eq!(w[0], 0x0040);
        assert_eq!((w[1], w[3], w[6]), (19, 16, 63));
        assert_eq!(w[47], 0x8010);
        assert_eq!(w[49] & 0x0300, 0x0300);
        assert_eq!(w[53], 0x0007);
        assert_eq!((w[60], w[61]), (20_000, 0));
        assert_eq!(w[63] & 0x07, 0x07);
        assert_eq!(w[83] & 0x0400, 0x0400, "48-bit supported");
        assert_eq!(w[86] & 0x0400, 0x0400, "48-bit enabled");
        assert_eq!(w[88] & 0x3F, 0x3F);
        assert_eq!(&w[100..104], &[20_000, 0, 0, 0]);
        assert_eq!(w[255] & 0xFF, 0xA5);
        let sum = w.iter().fold(0u8, |s, x| {
            s.wrapping_add(*x as u8).wrapping_add((*x >> 8) as u8)
        });
        assert_eq!(sum, 0, "checksum");
        let model: Vec<u8> = w[27..47].iter().flat_map(|x| x.to_be_bytes()).collect();
        assert_eq!(&model[..], format!("{:<40}", "RX86 HARDDISK").as_bytes());
        assert_eq!(rig.edges(), 1);
    }

    #[test]
    fn read_sectors_pio_interrupts_per_sector() {
        let disk = TempFile::new("ide-read", &pattern(64, 512));
        let mut rig = Rig::disk(&disk);
        rig.lba28(10, 2);
        rig.outb(REG_COMMAND, CMD_READ_SECTORS);
        assert_eq!(rig.alt(), ST_BSY | ST_DRDY, "BSY first");
        assert_eq!(rig.cmd.read(REG_DATA, 2), 0, "no data while BSY");
        assert_eq!(rig.edges(), 0);
        rig.clock.advance(BSY_NS - 1);
        assert_eq!(
            rig.alt() & ST_BSY,
            ST_BSY,
            "still busy just before the deadline"
        );
        rig.settle();
        assert_eq!(rig.alt(), ST_DRDY | ST_DSC | ST_DRQ);
        assert!(rig.sink.level(IRQ));
        assert_eq!(rig.edges(), 1);
        assert_eq!(rig.status(), 0x58);
        assert!(!rig.sink.level(IRQ), "status read clears INTRQ");
        assert_eq!(rig.read_words(256), pattern(64, 512)[10 * 512..11 * 512]);
        assert_eq!(rig.alt(), ST_BSY | ST_DRDY, "BSY between sectors");
        assert_eq!(rig.edges(), 1);
        rig.settle();
        assert_eq!(rig.edges(), 2);
        assert_eq!(rig.status(), 0x58);
        // The second sector with 32-bit reads.
        let data: Vec<u8> = (0..128)
            .flat_map(|_| rig.cmd.read(REG_DATA, 4).to_le_bytes())
            .collect();
        assert_eq!(data, pattern(64, 512)[11 * 512..12 * 512]);
        assert_eq!(rig.status(), 0x50);
        assert_eq!(rig.edges(), 2, "no interrupt after the last data-in block");
        assert_eq!(rig.cmd.next_deadline(), None);
        assert_eq!(rig.inb(REG_LBA_LOW), 11, "address of the last sector");
        assert_eq!(rig.inb(REG_SECTOR_COUNT), 0);
    }

    #[test]
    fn write_sectors_pio_lands_in_the_file() {
        let disk = TempFile::new("ide-write", &pattern(64, 512));
        let mut rig = Rig::disk(&disk);
        let data: Vec<u8> = (0..1024).map(|i| (i * 13 + 1) as u8).collect();
        rig.lba28(5, 2);
        rig.outb(REG_COMMAND, CMD_WRITE_SECTORS);
        assert_eq!(rig.alt() & ST_BSY, ST_BSY);
        rig.settle();
        assert_eq!(rig.alt(), 0x58);
        assert_eq!(rig.edges(), 0, "first data-out block without interrupt");
        rig.write_words(&data[..512]);
        assert_eq!(rig.alt() & (ST_BSY | ST_DRQ), ST_BSY);
        rig.settle();
        assert_eq!(rig.edges(), 1);
        assert_eq!(rig.status(), 0x58);
        rig.write_words(&data[512..]);
        assert_eq!(rig.alt() & ST_BSY, ST_BSY);
        rig.settle();
        assert_eq!(rig.edges(), 2, "interrupt at completion");
        assert_eq!(rig.status(), 0x50);
        let file = disk.contents();
        assert_eq!(file[5 * 512..7 * 512], data[..]);
        assert_eq!(file[..5 * 512], pattern(64, 512)[..5 * 512]);
        assert_eq!(file[7 * 512..], pattern(64, 512)[7 * 512..]);
    }

    #[test]
    fn read_write_multiple() {
        let disk = TempFile::new("ide-mult", &pattern(64, 512));
        let mut rig = Rig::disk(&disk);
        rig.lba28(0, 6);
        rig.outb(REG_COMMAND, CMD_READ_MULTIPLE);
        rig.settle();
        assert_eq!(
            rig.status(),
            ST_DRDY | ST_DSC | ST_ERR,
            "multiple mode not set"
        );
        assert_eq!(rig.inb(REG_ERROR), ERR_ABRT);

        rig.outb(REG_SECTOR_COUNT, 3);
        rig.outb(REG_COMMAND, CMD_SET_MULTIPLE_MODE);
        rig.settle();
        assert_eq!(rig.status() & ST_ERR, ST_ERR, "3 is not a power of two");
        rig.outb(REG_SECTOR_COUNT, 4);
        rig.outb(REG_COMMAND, CMD_SET_MULTIPLE_MODE);
        rig.settle();
        assert_eq!(rig.status(), 0x50);
        assert_eq!(rig.identify()[59], 0x0104);

        let before = rig.edges();
        rig.lba28(20, 6);
        rig.outb(REG_COMMAND, CMD_READ_MULTIPLE);
        rig.settle();
        assert_eq!(rig.status(), 0x58);
        assert_eq!(
            rig.read_words(4 * 256),
            pattern(64, 512)[20 * 512..24 * 512]
        );
        rig.settle();
        assert_eq!(rig.status(), 0x58);
        assert_eq!(
            rig.read_words(2 * 256),
            pattern(64, 512)[24 * 512..26 * 512]
        );
        assert_eq!(rig.status(), 0x50);
        assert_eq!(rig.edges() - before, 2, "one interrupt per block");

        let data: Vec<u8> = (0..5 * 512).map(|i| (i % 251) as u8).collect();
        let before = rig.edges();
        rig.lba28(40, 5);
        rig.outb(REG_COMMAND, CMD_WRITE_MULTIPLE);
        rig.settle();
        assert_eq!(rig.edges(), before);
        rig.write_words(&data[..4 * 512]);
        rig.settle();
        assert_eq!(rig.edges(), before + 1);
        assert_eq!(rig.status(), 0x58);
        rig.write_words(&data[4 * 512..]);
        rig.settle();
        assert_eq!(rig.edges(), before + 2);
        assert_eq!(rig.status(), 0x50);
        assert_eq!(disk.contents()[40 * 512..45 * 512], data[..]);
    }

    #[test]
    fn out_of_range_lba_is_idnf() {
        let disk = TempFile::new("ide-idnf", &pattern(64, 512));
        let mut rig = Rig::disk(&disk);
        rig.lba28(63, 2);
        rig.outb(REG_COMMAND, CMD_READ_SECTORS);
        rig.settle();
        assert_eq!(rig.status(), ST_DRDY | ST_DSC | ST_ERR);
        assert_eq!(rig.inb(REG_ERROR), ERR_IDNF);
        assert_eq!(rig.edges(), 1);
        rig.outb(REG_COMMAND, 0x01); // not a command
        rig.settle();
        assert_eq!(rig.status(), 0x51);
        assert_eq!(rig.inb(REG_ERROR), ERR_ABRT);
    }

    #[test]
    fn chs_addressing_uses_the_translation() {
        let disk = TempFile::new("ide-chs", &pattern(2100, 512));
        let mut rig = Rig::disk(&disk);
        // Cylinder 1, head 2, sector 3 with 16 heads x 63 sectors: LBA 1134 + 126 + 2.
        rig.outb(REG_SECTOR_COUNT, 1);
        rig.outb(REG_LBA_LOW, 3);
        rig.outb(REG_LBA_MID, 1);
        rig.outb(REG_LBA_HIGH, 0);
        rig.outb(REG_DEVICE, 0xA2);
        rig.outb(REG_COMMAND, CMD_READ_SECTORS);
        rig.settle();
        assert_eq!(rig.status(), 0x58);
        let lba = (16 + 2) * 63 + 2;
        assert_eq!(
            rig.read_words(256),
            pattern(2100, 512)[lba * 512..(lba + 1) * 512]
        );
        // INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors.
        rig.outb(REG_SECTOR_COUNT, 17);
        rig.outb(REG_DEVICE, 0xA3);
        rig.outb(REG_COMMAND, CMD_INITIALIZE_DEVICE_PARAMETERS);
        rig.settle();
        assert_eq!(rig.status(), 0x50);
        rig.outb(REG_SECTOR_COUNT, 1);
        rig.outb(REG_LBA_LOW, 1);
        rig.outb(REG_LBA_MID, 2);
        rig.outb(REG_DEVICE, 0xA1);
        rig.outb(REG_COMMAND, CMD_READ_SECTORS);
        rig.settle();
        let lba = (2 * 4 + 1) * 17;
        assert_eq!(
            rig.read_words(256),
            pattern(2100, 512)[lba * 512..(lba + 1) * 512]
        );
        rig.outb(REG_LBA_LOW, 0); // sector numbers start at 1
        rig.outb(REG_COMMAND, CMD_READ_SECTORS);
        rig.settle();
        assert_eq!(rig.inb(REG_ERROR), ERR_IDNF);
    }

    #[test]
    fn lba48_read_beyond_2_pow_28() {
        let sectors = (1u64 << 28) + 64;
        let disk = sparse("ide-lba48", sectors);
        let lba = (1u64 << 28) + 5;
        let data: Vec<u8> = (0..512).map(|i| (i * 3) as u8).collect();
        {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&disk.0)
                .unwrap();
            f.write_all_at(&data, lba * 512).unwrap();
        }
        let mut rig = Rig::disk(&disk);
        let w = rig.identify();
        assert_eq!((w[60], w[61]), (0xFFFF, 0x0FFF), "LBA28 capacity saturates");
        assert_eq!(&w[100..104], &[64, 0x1000, 0, 0]);
        // High-order bytes first, then low-order (ATA-6 §6.20).
        rig.outb(REG_SECTOR_COUNT, 0);
        rig.outb(REG_LBA_LOW, (lba >> 24) as u8);
        rig.outb(REG_LBA_MID, (lba >> 32) as u8);
        rig.outb(REG_LBA_HIGH, (lba >> 40) as u8);
        rig.outb(REG_SECTOR_COUNT, 1);
        rig.outb(REG_LBA_LOW, lba as u8);
        rig.outb(REG_LBA_MID, (lba >> 8) as u8);
        rig.outb(REG_LBA_HIGH, (lba >> 16) as u8);
        rig.outb(REG_DEVICE, 0x40);
        rig.outb(REG_COMMAND, CMD_READ_SECTORS_EXT);
        rig.settle();
        assert_eq!(rig.status(), 0x58);
        assert_eq!(rig.read_words(256), data);
        assert_eq!(rig.status(), 0x50);
        rig.ctl.write(0, 1, CTL_HOB as u32);
        assert_eq!(rig.inb(REG_LBA_LOW), 0x10, "HOB reads bits 31:24");
        rig.ctl.write(0, 1, 0);
        assert_eq!(rig.inb(REG_LBA_LOW), 5);
    }

    #[test]
    fn flush_cache_completes_with_interrupt() {
        let disk = TempFile::new("ide-flush", &pattern(8, 512));
        let mut rig = Rig::disk(&disk);
        for cmd in [CMD_FLUSH_CACHE, CMD_FLUSH_CACHE_EXT] {
            let before = rig.edges();
            rig.outb(REG_COMMAND, cmd);
            assert_eq!(rig.alt() & ST_BSY, ST_BSY);
            rig.settle();
            assert_eq!(rig.status(), 0x50);
            assert_eq!(rig.edges(), before + 1);
        }
    }

    #[test]
    fn nien_suppresses_the_interrupt() {
        let disk = TempFile::new("ide-nien", &pattern(8, 512));
        let mut rig = Rig::disk(&disk);
        rig.ctl.write(0, 1, CTL_NIEN as u32);
        rig.outb(REG_COMMAND, CMD_IDENTIFY_DEVICE);
        rig.settle();
        assert_eq!(rig.alt(), 0x58);
        assert_eq!(rig.edges(), 0);
        assert_eq!(rig.bm.read(BM_STATUS, 1) as u8 & BM_ST_INTR, 0);
        rig.read_words(256);
        assert_eq!(rig.edges(), 0);
        // The device's interrupt is still pending (only alternate status was read): it
        // reaches INTRQ once nIEN is cleared, and a status read withdraws it.
        rig.ctl.write(0, 1, 0);
        assert_eq!(rig.edges(), 1);
        assert_eq!(rig.status(), 0x50);
        assert!(!rig.sink.level(IRQ));
    }

    #[test]
    fn set_features_and_power_commands_are_accepted() {
        let disk = TempFile::new("ide-sf", &pattern(8, 512));
        let mut rig = Rig::disk(&disk);
        rig.outb(REG_FEATURES, SF_SET_TRANSFER_MODE);
        rig.outb(REG_SECTOR_COUNT, 0x22); // multiword DMA 2
        rig.outb(REG_COMMAND, CMD_SET_FEATURES);
        rig.settle();
        assert_eq!(rig.status(), 0x50);
        assert_eq!(rig.identify()[63], 0x0407);
        rig.outb(REG_FEATURES, 0x77);
        rig.outb(REG_COMMAND, CMD_SET_FEATURES);
        rig.settle();
        assert_eq!(rig.status(), 0x51);
        for cmd in [0xE0, 0xE1, 0xE2, 0xE3, 0x94, 0x97, 0x70, 0x10] {
            rig.outb(REG_COMMAND, cmd);
            rig.settle();
            assert_eq!(rig.status(), 0x50, "command {cmd:#x}");
        }
        rig.outb(REG_COMMAND, CMD_CHECK_POWER_MODE);
        rig.settle();
        assert_eq!(rig.inb(REG_SECTOR_COUNT), 0xFF);
    }

    #[test]
    fn atapi_identify() {
        let (_t, mut rig) = cd_rig(4);
        rig.lba28(0x123, 7);
        rig.outb(REG_DEVICE, 0xA0);
        rig.outb(REG_COMMAND, CMD_IDENTIFY_DEVICE);
        rig.settle();
        assert_eq!(rig.status() & ST_ERR, ST_ERR);
        assert_eq!(rig.inb(REG_ERROR), ERR_ABRT);
        assert_eq!((rig.inb(REG_LBA_MID), rig.inb(REG_LBA_HIGH)), (0x14, 0xEB));
        rig.outb(REG_COMMAND, CMD_IDENTIFY_PACKET_DEVICE);
        rig.settle();
        assert_eq!(rig.status(), 0x58);
        let w: Vec<u16> = rig
            .read_words(256)
            .chunks(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(w[0], 0x85C0);
        assert_eq!(w[255] & 0xFF, 0xA5);
        let sum = w.iter().fold(0u8, |s, x| {
            s.wrapping_add(*x as u8).wrapping_add((*x >> 8) as u8)
        });
        assert_eq!(sum, 0);
    }

    #[test]
    fn atapi_inquiry_and_read_capacity() {
        let (_t, mut rig) = cd_rig(300);
        let inq = rig.packet(&[SCSI_INQUIRY, 0, 0, 0, 36], 0xFFFE).unwrap();
        assert_eq!(inq.len(), 36);
        assert_eq!(inq[0], 0x05);
        assert_eq!(inq[1], 0x80);
        assert_eq!(&inq[16..27], b"RX86 CD-ROM");
        let short = rig.packet(&[SCSI_INQUIRY, 0, 0, 0, 5], 0xFFFE).unwrap();
        assert_eq!(short, inq[..5], "truncated to the allocation length");
        let cap = rig.packet(&[SCSI_READ_CAPACITY], 0xFFFE).unwrap();
        assert_eq!(cap, [0, 0, 0x01, 0x2B, 0, 0, 0x08, 0]);
    }

    #[test]
    fn atapi_read_10() {
        let (_t, mut rig) = cd_rig(8);
        let one = rig
            .packet(&[SCSI_READ_10, 0, 0, 0, 0, 3, 0, 0, 1], 0xFFFE)
            .unwrap();
        assert_eq!(one, pattern(8, 2048)[3 * 2048..4 * 2048]);
        // A byte count limit of 1000 splits three sectors into many DRQ blocks.
        let three = rig
            .packet(&[SCSI_READ_12, 0, 0, 0, 0, 4, 0, 0, 0, 3], 1000)
            .unwrap();
        assert_eq!(three, pattern(8, 2048)[4 * 2048..7 * 2048]);
        assert_eq!(
            rig.packet(&[SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 2], 0xFFFE),
            Err((ST_DRDY | ST_ERR, 0x54))
        );
        let s = rig
            .packet(&[SCSI_REQUEST_SENSE, 0, 0, 0, 18], 0xFFFE)
            .unwrap();
        assert_eq!((s[2], s[12], s[13]), (5, 0x21, 0));
    }

    #[test]
    fn atapi_request_sense_after_invalid_opcode() {
        let (_t, mut rig) = cd_rig(8);
        assert_eq!(rig.packet(&[0xFF], 0xFFFE), Err((0x41, 0x54)));
        let s = rig
            .packet(&[SCSI_REQUEST_SENSE, 0, 0, 0, 18], 0xFFFE)
            .unwrap();
        assert_eq!(s.len(), 18);
        assert_eq!((s[0], s[2], s[7], s[12], s[13]), (0x70, 5, 10, 0x20, 0));
        let s = rig
            .packet(&[SCSI_REQUEST_SENSE, 0, 0, 0, 18], 0xFFFE)
            .unwrap();
        assert_eq!((s[2], s[12]), (0, 0), "sense is cleared once reported");
        assert_eq!(
            rig.packet(&[SCSI_WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1], 0xFFFE),
            Err((0x41, 0x70)),
            "data protect"
        );
    }

    #[test]
    fn atapi_media_change_and_no_medium() {
        let (t, mut rig) = cd_rig(8);
        assert_eq!(rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE), Ok(vec![]));
        assert!(rig.ch.borrow_mut().change_media(0, None));
        assert_eq!(
            rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE),
            Err((0x41, 0x60))
        );
        let s = rig
            .packet(&[SCSI_REQUEST_SENSE, 0, 0, 0, 18], 0xFFFE)
            .unwrap();
        assert_eq!((s[2], s[12]), (6, 0x28));
        assert_eq!(
            rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE),
            Err((0x41, 0x20))
        );
        let s = rig
            .packet(&[SCSI_REQUEST_SENSE, 0, 0, 0, 18], 0xFFFE)
            .unwrap();
        assert_eq!((s[2], s[12]), (2, 0x3A));
        let cd = DiskImage::open_cdrom(&t.0).unwrap();
        rig.ch.borrow_mut().change_media(0, Some(cd));
        assert!(rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE).is_err());
        assert_eq!(rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE), Ok(vec![]));
        // Locked trays refuse to eject.
        rig.packet(&[SCSI_PREVENT_ALLOW, 0, 0, 0, 1], 0xFFFE)
            .unwrap();
        assert_eq!(
            rig.packet(&[SCSI_START_STOP_UNIT, 0, 0, 0, 2], 0xFFFE),
            Err((0x41, 0x54))
        );
        rig.packet(&[SCSI_PREVENT_ALLOW, 0, 0, 0, 0], 0xFFFE)
            .unwrap();
        rig.packet(&[SCSI_START_STOP_UNIT, 0, 0, 0, 2], 0xFFFE)
            .unwrap();
        assert_eq!(
            rig.packet(&[SCSI_TEST_UNIT_READY], 0xFFFE),
            Err((0x41, 0x20))
        );
    }

    #[test]
    fn atapi_toc_mode_sense_and_configuration() {
        let (_t, mut rig) = cd_rig(3);
        let toc = rig
            .packet(&[SCSI_READ_TOC, 0, 0, 0, 0, 0, 0, 0, 100], 0xFFFE)
            .unwrap();
        assert_eq!(
            toc,
            [0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xAA, 0, 0, 0, 0, 3]
        );
        let msf = rig
            .packet(&[SCSI_READ_TOC, 0x02, 0, 0, 0, 0, 0, 0, 100], 0xFFFE)
            .unwrap();
        assert_eq!(&msf[8..12], &[0, 0, 2, 0], "track 1 at 00:02:00");
        assert_eq!(&msf[16..20], &[0, 0, 2, 3], "lead-out at LBA 3 + 150");
        let caps = rig
            .packet(&[SCSI_MODE_SENSE_10, 0, 0x2A, 0, 0, 0, 0, 0, 100], 0xFFFE)
            .unwrap();
        assert_eq!(caps.len(), 8 + 20);
        assert_eq!(&caps[..2], &[0, 26]);
        assert_eq!(&caps[8..10], &[0x2A, 0x12]);
        let all = rig
            .packet(
                &[SCSI_MODE_SENSE_10, 0, 0x3F, 0, 0, 0, 0, 0xFF, 0xFF],
                0xFFFE,
            )
            .unwrap();
        assert_eq!(all.len(), 8 + 8 + 20);
        let cfg = rig
            .packet(&[SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 1, 0], 0xFFFE)
            .unwrap();
        assert_eq!(&cfg[6..8], &[0x00, 0x08], "current profile CD-ROM");
        assert_eq!(&cfg[8..16], &[0, 0, 0x03, 4, 0x00, 0x08, 1, 0]);
    }

    /// Writes a two-entry PRD table at 0x100: `a` bytes at 0x1000, `b` at 0x3000 (EOT).
    fn prd_table(mem: &mut Mem, a: u16, b: u16) {
        mem.0[0x100..0x108].copy_from_slice(&[0x00, 0x10, 0, 0, a as u8, (a >> 8) as u8, 0, 0]);
        mem.0[0x108..0x110].copy_from_slice(&[0x00, 0x30, 0, 0, b as u8, (b >> 8) as u8, 0, 0x80]);
    }

    #[test]
    fn dma_read_through_two_prds() {
        let disk = TempFile::new("ide-dmar", &pattern(16, 512));
        let mut rig = Rig::disk(&disk);
        let mut mem = Mem(vec![0; 0x8000]);
        prd_table(&mut mem, 512, 1024);
        rig.bm.write(BM_PRDT, 4, 0x100);
        assert_eq!(rig.bm.read(BM_PRDT, 4), 0x100);
        rig.lba28(4, 3);
        rig.outb(REG_COMMAND, CMD_READ_DMA);
        rig.bm
            .write(BM_COMMAND, 1, (BM_CMD_WRITE | BM_CMD_START) as u32);
        assert_eq!(rig.bm.read(BM_STATUS, 1) as u8, BM_ST_ACTIVE);
        assert!(!rig.ch.borrow().dma_pending(), "BSY first");
        rig.settle();
        assert!(rig.ch.borrow().dma_pending());
        rig.ch.borrow_mut().run_dma(&mut mem);
        assert!(!rig.ch.borrow().dma_pending());
        assert_eq!(mem.0[0x1000..0x1200], pattern(16, 512)[4 * 512..5 * 512]);
        assert_eq!(mem.0[0x3000..0x3400], pattern(16, 512)[5 * 512..7 * 512]);
        assert_eq!(mem.0[0x1200], 0, "nothing past the first region");
        assert_eq!(
            rig.bm.read(BM_STATUS, 1) as u8,
            BM_ST_INTR,
            "done, PRDs exhausted"
        );
        assert_eq!(rig.edges(), 1);
        assert_eq!(rig.status(), 0x50);
        rig.bm.write(BM_STATUS, 1, BM_ST_INTR as u32);
        assert_eq!(
            rig.bm.read(BM_STATUS, 1),
            0,
            "interrupt bit is write-1-to-clear"
        );
    }

    #[test]
    fn dma_write_through_two_prds() {
        let disk = TempFile::new("ide-dmaw", &pattern(16, 512));
        let mut rig = Rig::disk(&disk);
        let mut mem = Mem(vec![0; 0x8000]);
        for (i, b) in mem.0[0x1000..0x1400].iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        for (i, b) in mem.0[0x3000..0x3200].iter_mut().enumerate() {
            *b = (i * 11) as u8;
        }
        prd_table(&mut mem, 1024, 512);
        rig.bm.write(BM_PRDT, 4, 0x100);
        rig.bm.write(BM_COMMAND, 1, BM_CMD_START as u32);
        rig.lba28(9, 3);
        rig.outb(REG_COMMAND, CMD_WRITE_DMA);
        rig.settle();
        assert!(rig.ch.borrow().dma_pending());
        rig.ch.borrow_mut().run_dma(&mut mem);
        assert_eq!(rig.status(), 0x50);
        assert_eq!(rig.edges(), 1);
        let file = disk.contents();
        assert_eq!(file[9 * 512..11 * 512], mem.0[0x1000..0x1400]);
        assert_eq!(file[11 * 512..12 * 512], mem.0[0x3000..0x3200]);
        assert_eq!(file[12 * 512..], pattern(16, 512)[12 * 512..]);
    }

    #[test]
    fn dma_with_a_short_prd_table_fails() {
        let disk = TempFile::new("ide-dmas", &pattern(16, 512));
        let mut rig = Rig::disk(&disk);
        let mut mem = Mem(vec![0; 0x8000]);
        prd_table(&mut mem, 512, 512);
        rig.bm.write(BM_PRDT, 4, 0x100);
        rig.bm
            .write(BM_COMMAND, 1, (BM_CMD_WRITE | BM_CMD_START) as u32);
        rig.lba28(0, 4);
        rig.outb(REG_COMMAND, CMD_READ_DMA);
        rig.settle();
        rig.ch.borrow_mut().run_dma(&mut mem);
        assert_eq!(rig.status(), 0x51);
        assert_eq!(rig.inb(REG_ERROR), ERR_ABRT);
        assert_eq!(rig.bm.read(BM_STATUS, 1) as u8 & BM_ST_ACTIVE, 0);
    }

    #[test]
    fn atapi_dma_read() {
        let (_t, mut rig) = cd_rig(4);
        let mut mem = Mem(vec![0; 0x8000]);
        prd_table(&mut mem, 0x800, 0x800);
        rig.bm.write(BM_PRDT, 4, 0x100);
        rig.bm
            .write(BM_COMMAND, 1, (BM_CMD_WRITE | BM_CMD_START) as u32);
        rig.outb(REG_FEATURES, 1); // DMA
        rig.outb(REG_COMMAND, CMD_PACKET);
        rig.settle();
        rig.write_words(&[SCSI_READ_10, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0]);
        rig.settle();
        assert!(rig.ch.borrow().dma_pending());
        let before = rig.edges();
        rig.ch.borrow_mut().run_dma(&mut mem);
        assert_eq!(mem.0[0x1000..0x1800], pattern(4, 2048)[2048..4096]);
        assert_eq!(mem.0[0x3000..0x3800], pattern(4, 2048)[4096..6144]);
        assert_eq!(rig.edges(), before + 1);
        assert_eq!(rig.inb(REG_SECTOR_COUNT), IR_IO | IR_COD);
        assert_eq!(rig.status(), 0x50);
    }

    #[test]
    fn execute_device_diagnostic_interrupts_from_device_0() {
        let disk = TempFile::new("ide-diag", &pattern(8, 512));
        let mut rig = Rig::disk(&disk);
        rig.lba28(77, 3);
        rig.outb(REG_COMMAND, CMD_EXECUTE_DEVICE_DIAGNOSTIC);
        rig.settle();
        assert_eq!(rig.edges(), 1);
        assert_eq!(rig.inb(REG_ERROR), DIAG_PASSED);
        assert_eq!(rig.inb(REG_LBA_LOW), 1);
        assert_eq!(rig.status(), 0x50);
    }

    /// Memory that wraps every address, for random traffic.
    struct WrapMem(Vec<u8>);

    impl DmaMemory for WrapMem {
        fn read(&mut self, addr: u32, buf: &mut [u8]) {
            let n = self.0.len();
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.0[(addr as usize + i) % n];
            }
        }
        fn write(&mut self, addr: u32, data: &[u8]) {
            let n = self.0.len();
            for (i, b) in data.iter().enumerate() {
                self.0[(addr as usize + i) % n] = *b;
            }
        }
    }

    #[test]
    fn random_register_traffic_never_panics() {
        let disk = TempFile::new("ide-fuzz", &pattern(64, 512));
        let cd = TempFile::new("ide-fuzz-cd", &pattern(8, 2048));
        let mut rig = Rig::new(vec![
            (
                0,
                Drive::Disk(DiskImage::open(&disk.0, OpenMode::ReadWrite).unwrap()),
            ),
            (1, Drive::Cdrom(Some(DiskImage::open_cdrom(&cd.0).unwrap()))),
        ]);
        let mut mem = WrapMem((0..0x4000).map(|i| (i * 37) as u8).collect());
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Commands worth hitting more often than chance would.
        let cmds = [
            0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0x40, 0x91, 0xA0, 0xA1, 0xC4, 0xC5, 0xC6, 0xC8,
            0xCA, 0x25, 0x35, 0xE7, 0xEC, 0xEF, 0x90, 0x08,
        ];
        let (mut dmas, mut drqs) = (0, 0);
        for _ in 0..200_000 {
            let r = next();
            drqs += (rig.alt() & ST_DRQ != 0) as u32;
            let v = (r >> 32) as u32;
            match r % 16 {
                0..=3 => {
                    rig.cmd.read(REG_DATA, if r & 16 != 0 { 4 } else { 2 });
                }
                4..=5 => rig.cmd.write(REG_DATA, 2, v),
                6 => rig
                    .cmd
                    .write(REG_COMMAND, 1, cmds[v as usize % cmds.len()] as u32),
                7 => rig.cmd.write(REG_COMMAND, 1, v & 0xFF),
                8 => rig.cmd.write(1 + v % 6, 1, v >> 8),
                9 => {
                    rig.cmd.read(v % 8, 1);
                }
                10 => rig.ctl.write(0, 1, v & 0x86),
                11 => rig
                    .bm
                    .write(v % 8, [1, 2, 4][(v >> 3) as usize % 3], v >> 8),
                12 => {
                    rig.bm.read(v % 8, 4);
                }
                13 => {
                    if rig.ch.borrow().dma_pending() {
                        rig.ch.borrow_mut().run_dma(&mut mem);
                        dmas += 1;
                    }
                }
                _ => {
                    rig.clock.advance(v as u64 % (2 * RESET_NS));
                    if let Some(t) = rig.cmd.next_deadline() {
                        if t <= rig.clock.now() {
                            rig.cmd.advance(rig.clock.now());
                        }
                    }
                }
            }
        }
        eprintln!("{dmas} DMA transfers, DRQ seen {drqs} times");
        assert!(dmas > 0 && drqs > 1000, "the traffic reaches transfers");
    }
}
