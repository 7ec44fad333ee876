//! A small Intel-syntax listing for oracle reports, built from iced-x86's decoder output
//! (the crate's formatter feature is not enabled; this covers the integer instructions the
//! generator emits).

use iced_x86::{Decoder, DecoderOptions, Instruction, MemorySize, Mnemonic, OpKind, Register};
use std::fmt::Write as _;

fn reg(r: Register) -> String {
    format!("{r:?}").to_lowercase()
}

fn mem_size_name(size: MemorySize) -> &'static str {
    match size.size() {
        1 => "byte ptr ",
        2 => "word ptr ",
        4 => "dword ptr ",
        8 => "qword ptr ",
        10 => "tbyte ptr ",
        _ => "",
    }
}

fn memory(ins: &Instruction) -> String {
    let mut out = String::from(mem_size_name(ins.memory_size()));
    let seg = ins.segment_prefix();
    if seg != Register::None {
        let _ = write!(out, "{}:", reg(seg));
    }
    out.push('[');
    let mut parts = Vec::new();
    if ins.memory_base() != Register::None {
        parts.push(reg(ins.memory_base()));
    }
    if ins.memory_index() != Register::None {
        let scale = ins.memory_index_scale();
        if scale == 1 {
            parts.push(reg(ins.memory_index()));
        } else {
            parts.push(format!("{}*{scale}", reg(ins.memory_index())));
        }
    }
    let disp = ins.memory_displacement32();
    let mut s = parts.join("+");
    if parts.is_empty() {
        let _ = write!(s, "{disp:#x}");
    } else if disp != 0 {
        if (disp as i32) < 0 && ins.memory_displ_size() <= 1 {
            let _ = write!(s, "-{:#x}", (disp as i32).unsigned_abs());
        } else {
            let _ = write!(s, "+{disp:#x}");
        }
    }
    out.push_str(&s);
    out.push(']');
    out
}

fn operand(ins: &Instruction, i: u32) -> String {
    match ins.op_kind(i) {
        OpKind::Register => reg(ins.op_register(i)),
        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64 => {
            format!("{:#x}", ins.near_branch_target())
        }
        OpKind::Immediate8
        | OpKind::Immediate8_2nd
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32 => format!("{:#x}", ins.immediate(i)),
        OpKind::Memory => memory(ins),
        OpKind::MemorySegSI
        | OpKind::MemorySegESI
        | OpKind::MemorySegRSI
        | OpKind::MemorySegDI
        | OpKind::MemorySegEDI
        | OpKind::MemorySegRDI => {
            let seg = if ins.segment_prefix() == Register::None {
                Register::DS
            } else {
                ins.segment_prefix()
            };
            format!("{}{}:[esi]", mem_size_name(ins.memory_size()), reg(seg))
        }
        OpKind::MemoryESDI | OpKind::MemoryESEDI | OpKind::MemoryESRDI => {
            format!("{}es:[edi]", mem_size_name(ins.memory_size()))
        }
        other => format!("{other:?}"),
    }
}

/// One instruction in Intel syntax, e.g. `lock add dword ptr [ebx+esi*4+0x10], eax`.
pub(crate) fn format(ins: &Instruction) -> String {
    let mut out = String::new();
    if ins.has_lock_prefix() {
        out.push_str("lock ");
    }
    if ins.has_rep_prefix() {
        out.push_str(
            if matches!(
                ins.mnemonic(),
                Mnemonic::Cmpsb
                    | Mnemonic::Cmpsw
                    | Mnemonic::Cmpsd
                    | Mnemonic::Scasb
                    | Mnemonic::Scasw
                    | Mnemonic::Scasd
            ) {
                "repe "
            } else {
                "rep "
            },
        );
    }
    if ins.has_repne_prefix() {
        out.push_str("repne ");
    }
    out.push_str(&format!("{:?}", ins.mnemonic()).to_lowercase());
    for i in 0..ins.op_count() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(&operand(ins, i));
    }
    out
}

/// A listing of `code` at `addr`: address, bytes, instruction; one line each.
pub(crate) fn listing(addr: u32, code: &[u8]) -> String {
    let mut out = String::new();
    let mut decoder = Decoder::with_ip(32, code, u64::from(addr), DecoderOptions::NONE);
    while decoder.can_decode() {
        let pos = decoder.position();
        let ins = decoder.decode();
        let bytes: String = code[pos..pos + ins.len()]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let text = if ins.is_invalid() {
            "(invalid)".to_string()
        } else {
            format(&ins)
        };
        let _ = writeln!(out, "    {:08x}  {bytes:<24} {text}", ins.ip32());
    }
    out
}
