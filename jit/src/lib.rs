//! rx86's translation layer (DESIGN.md, "Crates"): the ABI that translated code shares
//! with the interpreter (`abi`), the frontend that cuts guest code into basic blocks
//! (`frontend`), the micro-op IR (`ir`), the x86-64 backend (`x64`) and the code cache
//! (`cache`). It never names the machine: the engine in `rx86::monitor::jit` drives it.

pub mod abi;
#[cfg(target_arch = "x86_64")]
pub mod cache;
pub mod frontend;
pub mod ir;
#[cfg(target_arch = "x86_64")]
pub mod x64;
