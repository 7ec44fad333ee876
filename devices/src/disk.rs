//! Raw disk images: a file holding sectors back to back (512-byte sectors for hard
//! disks, 2048-byte sectors for CD-ROM images, ISO 9660 / ECMA-119 "mode 1" user data).
//!
//! A read-write image holds an exclusive advisory lock (`flock`, via `File::try_lock`) so
//! the same image cannot be opened read-write twice, by this emulator or another process.
//! Writes go straight through to the file (`pwrite`); `flush` is `fdatasync`, which is
//! what the guest's FLUSH CACHE asks for. In snapshot mode the file is opened read-only
//! and writes land in an in-memory overlay, so the file is never modified.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Sector size of a hard-disk image.
pub const SECTOR_SIZE: usize = 512;
/// Sector size of a CD-ROM image (ISO 9660 logical block, MMC "2048-byte mode 1").
pub const CD_SECTOR_SIZE: usize = 2048;

/// How an image is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Reads and writes reach the file; the file is locked exclusively.
    ReadWrite,
    /// Writes are refused; the file gets a shared lock.
    ReadOnly,
    /// `--snapshot`: writes are kept in memory and dropped at exit; the file is untouched.
    Snapshot,
}

/// A host-side error on a disk image, with the image path in the message.
#[derive(Debug)]
pub enum DiskError {
    /// The file does not exist.
    NotFound { path: PathBuf },
    /// The file exists but could not be opened (permissions, a directory, ...).
    Open { path: PathBuf, source: io::Error },
    /// The size is not a whole number of sectors.
    BadSize {
        path: PathBuf,
        size: u64,
        sector_size: usize,
    },
    /// The file holds no sector at all.
    Empty { path: PathBuf },
    /// Another open of the image (this process or another) holds the lock.
    Locked { path: PathBuf },
    /// A write to an image opened read-only.
    ReadOnly { path: PathBuf },
    /// An access past the last sector.
    OutOfRange {
        path: PathBuf,
        lba: u64,
        count: u64,
        sectors: u64,
    },
    /// A read, write or flush the host refused.
    Io {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::NotFound { path } => {
                write!(f, "disk image {}: no such file", path.display())
            }
            DiskError::Open { path, source } => {
                write!(f, "disk image {}: cannot open: {source}", path.display())
            }
            DiskError::BadSize {
                path,
                size,
                sector_size,
            } => write!(
                f,
                "disk image {}: size {size} bytes is not a multiple of {sector_size}",
                path.display()
            ),
            DiskError::Empty { path } => write!(f, "disk image {} is empty", path.display()),
            DiskError::Locked { path } => write!(
                f,
                "disk image {} is already open read-write (locked by another process or drive)",
                path.display()
            ),
            DiskError::ReadOnly { path } => write!(
                f,
                "disk image {} is open read-only: write refused",
                path.display()
            ),
            DiskError::OutOfRange {
                path,
                lba,
                count,
                sectors,
            } => write!(
                f,
                "disk image {}: {count} sector(s) at {lba} lie beyond its {sectors} sectors",
                path.display()
            ),
            DiskError::Io { path, op, source } => {
                write!(f, "disk image {}: {op} failed: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for DiskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DiskError::Open { source, .. } | DiskError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An open raw disk image.
pub struct DiskImage {
    file: File,
    path: PathBuf,
    mode: OpenMode,
    sector_size: usize,
    sectors: u64,
    /// Snapshot mode: sectors written by the guest, by LBA.
    overlay: HashMap<u64, Box<[u8]>>,
}

impl fmt::Debug for DiskImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskImage")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("sector_size", &self.sector_size)
            .field("sectors", &self.sectors)
            .finish()
    }
}

impl DiskImage {
    /// Opens a hard-disk image (512-byte sectors).
    pub fn open(path: impl AsRef<Path>, mode: OpenMode) -> Result<Self, DiskError> {
        Self::open_with(path.as_ref(), mode, SECTOR_SIZE)
    }

    /// Opens a CD-ROM image (2048-byte sectors), read-only.
    pub fn open_cdrom(path: impl AsRef<Path>) -> Result<Self, DiskError> {
        Self::open_with(path.as_ref(), OpenMode::ReadOnly, CD_SECTOR_SIZE)
    }

    /// Opens an image of `sector_size`-byte sectors.
    pub fn open_with(path: &Path, mode: OpenMode, sector_size: usize) -> Result<Self, DiskError> {
        let path = path.to_path_buf();
        let writable = mode == OpenMode::ReadWrite;
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(&path)
            .map_err(|source| match source.kind() {
                io::ErrorKind::NotFound => DiskError::NotFound { path: path.clone() },
                _ => DiskError::Open {
                    path: path.clone(),
                    source,
                },
            })?;
        let lock = if writable {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match lock {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(DiskError::Locked { path }),
            // A file system without flock support: run unlocked rather than not at all.
            Err(TryLockError::Error(e)) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot lock disk image");
            }
        }
        let meta = file.metadata().map_err(|source| DiskError::Open {
            path: path.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(DiskError::Open {
                path,
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
            });
        }
        let size = meta.len();
        if !size.is_multiple_of(sector_size as u64) {
            return Err(DiskError::BadSize {
                path,
                size,
                sector_size,
            });
        }
        if size == 0 {
            return Err(DiskError::Empty { path });
        }
        Ok(Self {
            file,
            path,
            mode,
            sector_size,
            sectors: size / sector_size as u64,
            overlay: HashMap::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// Bytes per sector (512 or 2048).
    pub fn sector_size(&self) -> usize {
        self.sector_size
    }

    /// Number of whole sectors in the image.
    pub fn sector_count(&self) -> u64 {
        self.sectors
    }

    /// True if writes are refused (snapshot images take writes, into memory).
    pub fn is_read_only(&self) -> bool {
        self.mode == OpenMode::ReadOnly
    }

    fn check_range(&self, lba: u64, count: u64) -> Result<(), DiskError> {
        match lba.checked_add(count) {
            Some(end) if end <= self.sectors => Ok(()),
            _ => Err(DiskError::OutOfRange {
                path: self.path.clone(),
                lba,
                count,
                sectors: self.sectors,
            }),
        }
    }

    fn io_error(&self, op: &'static str, source: io::Error) -> DiskError {
        DiskError::Io {
            path: self.path.clone(),
            op,
            source,
        }
    }

    /// Reads `count` sectors starting at `lba` into the front of `buf`, which must hold
    /// at least `count` sectors.
    pub fn read_sectors(&self, lba: u64, count: u32, buf: &mut [u8]) -> Result<(), DiskError> {
        self.check_range(lba, count as u64)?;
        let ss = self.sector_size;
        let len = count as usize * ss;
        let Some(buf) = buf.get_mut(..len) else {
            return Err(self.io_error(
                "read",
                io::Error::new(io::ErrorKind::InvalidInput, "buffer smaller than the read"),
            ));
        };
        let offset = lba * ss as u64;
        if self.overlay.is_empty() {
            return self
                .file
                .read_exact_at(buf, offset)
                .map_err(|e| self.io_error("read", e));
        }
        for (i, chunk) in buf.chunks_exact_mut(ss).enumerate() {
            let sector = lba + i as u64;
            match self.overlay.get(&sector) {
                Some(data) => chunk.copy_from_slice(data),
                None => self
                    .file
                    .read_exact_at(chunk, sector * ss as u64)
                    .map_err(|e| self.io_error("read", e))?,
            }
        }
        Ok(())
    }

    /// Writes `buf` (a whole number of sectors) starting at `lba`.
    pub fn write_sectors(&mut self, lba: u64, buf: &[u8]) -> Result<(), DiskError> {
        let ss = self.sector_size;
        if !buf.len().is_multiple_of(ss) {
            return Err(self.io_error(
                "write",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "buffer is not a whole number of sectors",
                ),
            ));
        }
        self.check_range(lba, (buf.len() / ss) as u64)?;
        match self.mode {
            OpenMode::ReadOnly => Err(DiskError::ReadOnly {
                path: self.path.clone(),
            }),
            OpenMode::Snapshot => {
                for (i, chunk) in buf.chunks_exact(ss).enumerate() {
                    self.overlay.insert(lba + i as u64, chunk.into());
                }
                Ok(())
            }
            OpenMode::ReadWrite => self
                .file
                .write_all_at(buf, lba * ss as u64)
                .map_err(|e| self.io_error("write", e)),
        }
    }

    /// Makes written data durable (`fdatasync`); a no-op for read-only and snapshot images.
    pub fn flush(&mut self) -> Result<(), DiskError> {
        if self.mode != OpenMode::ReadWrite {
            return Ok(());
        }
        self.file.sync_data().map_err(|e| self.io_error("flush", e))
    }
}

impl Drop for DiskImage {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "flushing disk image at close");
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A temporary file removed on drop.
    pub(crate) struct TempFile(pub PathBuf);

    impl TempFile {
        pub(crate) fn new(tag: &str, contents: &[u8]) -> Self {
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "rx86-{tag}-{}-{}.img",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        pub(crate) fn contents(&self) -> Vec<u8> {
            std::fs::read(&self.0).unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// `sectors` sectors of `ss` bytes, each byte a function of its position.
    pub(crate) fn pattern(sectors: usize, ss: usize) -> Vec<u8> {
        (0..sectors * ss)
            .map(|i| ((i / ss) as u8).wrapping_mul(31) ^ (i as u8))
            .collect()
    }

    #[test]
    fn read_write_round_trip_reaches_the_file() {
        let t = TempFile::new("disk-rt", &pattern(8, 512));
        let mut d = DiskImage::open(&t.0, OpenMode::ReadWrite).unwrap();
        assert_eq!(d.sector_count(), 8);
        assert_eq!(d.sector_size(), 512);
        assert!(!d.is_read_only());
        let mut buf = vec![0; 1024];
        d.read_sectors(3, 2, &mut buf).unwrap();
        assert_eq!(buf, pattern(8, 512)[3 * 512..5 * 512]);
        let data: Vec<u8> = (0..1024).map(|i| (i * 7) as u8).collect();
        d.write_sectors(6, &data).unwrap();
        d.flush().unwrap();
        let mut back = vec![0; 1024];
        d.read_sectors(6, 2, &mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(t.contents()[6 * 512..], data[..]);
        assert_eq!(t.contents()[..6 * 512], pattern(8, 512)[..6 * 512]);
    }

    #[test]
    fn out_of_range_accesses_are_refused() {
        let t = TempFile::new("disk-range", &pattern(4, 512));
        let mut d = DiskImage::open(&t.0, OpenMode::ReadWrite).unwrap();
        let mut buf = vec![0; 1024];
        assert!(matches!(
            d.read_sectors(3, 2, &mut buf),
            Err(DiskError::OutOfRange {
                lba: 3,
                count: 2,
                sectors: 4,
                ..
            })
        ));
        assert!(matches!(
            d.write_sectors(u64::MAX, &buf),
            Err(DiskError::OutOfRange { .. })
        ));
        assert!(d.read_sectors(0, 4, &mut buf).is_err(), "buffer too small");
    }

    #[test]
    fn snapshot_leaves_the_file_untouched() {
        let t = TempFile::new("disk-snap", &pattern(4, 512));
        let mut d = DiskImage::open(&t.0, OpenMode::Snapshot).unwrap();
        let data = vec![0xAB; 512];
        d.write_sectors(1, &data).unwrap();
        d.flush().unwrap();
        let mut buf = vec![0; 3 * 512];
        d.read_sectors(0, 3, &mut buf).unwrap();
        assert_eq!(buf[..512], pattern(4, 512)[..512]);
        assert_eq!(buf[512..1024], data[..]);
        assert_eq!(buf[1024..], pattern(4, 512)[1024..1536]);
        drop(d);
        assert_eq!(t.contents(), pattern(4, 512));
    }

    #[test]
    fn wrong_size_is_an_error_naming_the_file() {
        let t = TempFile::new("disk-size", &[0; 1000]);
        let e = DiskImage::open(&t.0, OpenMode::ReadWrite).unwrap_err();
        assert!(matches!(
            e,
            DiskError::BadSize {
                size: 1000,
                sector_size: 512,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            format!(
                "disk image {}: size 1000 bytes is not a multiple of 512",
                t.0.display()
            )
        );
        let cd = TempFile::new("cd-size", &[0; 4096 + 512]);
        assert!(matches!(
            DiskImage::open_cdrom(&cd.0),
            Err(DiskError::BadSize {
                sector_size: 2048,
                ..
            })
        ));
        let empty = TempFile::new("disk-empty", &[]);
        assert!(matches!(
            DiskImage::open(&empty.0, OpenMode::ReadOnly),
            Err(DiskError::Empty { .. })
        ));
    }

    #[test]
    fn missing_file_is_reported() {
        let path = std::env::temp_dir().join(format!("rx86-missing-{}.img", std::process::id()));
        let e = DiskImage::open(&path, OpenMode::ReadOnly).unwrap_err();
        assert!(matches!(e, DiskError::NotFound { .. }));
        assert_eq!(
            e.to_string(),
            format!("disk image {}: no such file", path.display())
        );
    }

    #[test]
    fn second_read_write_open_is_refused() {
        let t = TempFile::new("disk-lock", &pattern(2, 512));
        let d = DiskImage::open(&t.0, OpenMode::ReadWrite).unwrap();
        let e = DiskImage::open(&t.0, OpenMode::ReadWrite).unwrap_err();
        assert!(matches!(e, DiskError::Locked { .. }));
        assert_eq!(
            e.to_string(),
            format!(
                "disk image {} is already open read-write (locked by another process or drive)",
                t.0.display()
            )
        );
        assert!(matches!(
            DiskImage::open(&t.0, OpenMode::ReadOnly),
            Err(DiskError::Locked { .. })
        ));
        drop(d);
        let _again = DiskImage::open(&t.0, OpenMode::ReadWrite).unwrap();
    }

    #[test]
    fn read_only_images_refuse_writes_and_share() {
        let t = TempFile::new("disk-ro", &pattern(2, 512));
        let mut d = DiskImage::open(&t.0, OpenMode::ReadOnly).unwrap();
        let _shared = DiskImage::open(&t.0, OpenMode::ReadOnly).unwrap();
        assert!(d.is_read_only());
        assert!(matches!(
            d.write_sectors(0, &[0; 512]),
            Err(DiskError::ReadOnly { .. })
        ));
        assert!(matches!(
            DiskImage::open(&t.0, OpenMode::ReadWrite),
            Err(DiskError::Locked { .. })
        ));
        assert_eq!(t.contents(), pattern(2, 512));
    }

    #[test]
    fn cdrom_images_have_2048_byte_sectors() {
        let t = TempFile::new("cd", &pattern(3, 2048));
        let mut d = DiskImage::open_cdrom(&t.0).unwrap();
        assert_eq!(d.sector_size(), 2048);
        assert_eq!(d.sector_count(), 3);
        assert!(d.is_read_only());
        let mut buf = vec![0; 2048];
        d.read_sectors(2, 1, &mut buf).unwrap();
        assert_eq!(buf, pattern(3, 2048)[4096..]);
        assert!(d.write_sectors(0, &buf).is_err());
    }
}
