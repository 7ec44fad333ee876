//! rx86: a pure-software 32-bit x86 PC emulator.
//!
//! `cpu` is the interpreter (the reference semantics), `mmu` the software MMU with its
//! shadow TLB, `machine` the PC around them. See docs/architecture.md.

pub mod boot;
pub mod cpu;
pub mod error;
pub mod log;
pub mod machine;
pub mod mmu;
pub mod monitor;
pub mod oracle;

pub use error::Error;
pub use machine::{Config, Exit, Machine};
