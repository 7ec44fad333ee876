//! rx86's translation layer. For now it owns the ABI that translated code will share with
//! the interpreter (DESIGN.md, "Crates"): the `#[repr(C)]` CPU state and the shadow-TLB
//! entry format. The frontend, backends and code cache follow with the JIT issue.

pub mod abi;
