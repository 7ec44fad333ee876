//! Host-side errors: bad user input and host resources, each with a message a user can
//! act on. Guest faults are never errors (see `cpu::fault`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read ROM image {path}: {source}")]
    RomRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ROM image {path} is {size} bytes; it must be 64, 128 or 256 KiB")]
    RomSize { path: PathBuf, size: u64 },
    #[error("memory size {0} MiB is out of range: give 1 to 3072 MiB")]
    MemorySize(u32),
    #[error("cannot map guest memory: {0}")]
    Map(std::io::Error),
    #[error("cannot open debug console file {path}: {source}")]
    Debugcon {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad --debugcon value {0:?}: use stdio or file:PATH")]
    DebugconSpec(String),
    #[error(transparent)]
    Disk(#[from] devices::disk::DiskError),
    #[error("{path}: {source}")]
    Boot {
        path: PathBuf,
        source: crate::boot::BootError,
    },
    #[error("cannot read {what} {path}: {source}")]
    ReadFile {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad --serial value {0:?}: use stdio, file:PATH or none")]
    SerialSpec(String),
    #[error("cannot open serial output file {path}: {source}")]
    SerialFile {
        path: PathBuf,
        source: std::io::Error,
    },
}
