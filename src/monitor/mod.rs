//! The monitor: Rust services that guest code reaches without being interpreted
//! instruction by instruction — the BIOS back-door services, and (with the JIT) the
//! helpers translated code calls.

pub mod bios;
#[cfg(target_arch = "x86_64")]
pub mod jit;
