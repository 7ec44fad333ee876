//! The x86-64 backend: lowers an `IrBlock` to host code with dynasmrt (System V AMD64
//! calling convention; the instruction forms are the Intel SDM Vol. 2 ones the comments
//! show).
//!
//! A block is a function `extern "sysv64" fn(*mut CpuState) -> u32` returning an
//! `abi::exit` code. RBX holds the state pointer and R12 the shadow TLB's base for the
//! whole block; temporaries live in RAX, RCX, RDX, RSI, RDI; R8-R11 are scratch.
//! Helpers are called through `CpuState::jit.helpers`, so the code holds no absolute
//! addresses and can be copied anywhere.
//!
//! Instruction counting: the block adds the number of instructions it retired natively
//! to `jit.native_retired` before every helper call and at every exit (the interpreter
//! fallback collects it, so the run loop's clock is exact for the instruction it runs).

use std::mem::offset_of;

use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

use crate::abi::{exit, tlb, CpuState, HelperTable, JitLink, LazyFlags};
use crate::ir::{lazy, AluOp, Body, CarrySrc, End, IrBlock, Uop, T};

type Asm = VecAssembler<X64Relocation>;

/// Host register numbers of the temporaries T0..T4: RAX, RCX, RDX, RSI, RDI.
const HOST: [u8; 5] = [0, 1, 2, 6, 7];

#[inline]
fn h(t: T) -> u8 {
    HOST[t.0 as usize]
}

const REGS: i32 = offset_of!(CpuState, regs) as i32;
const EIP: i32 = offset_of!(CpuState, eip) as i32;
const EFLAGS: i32 = offset_of!(CpuState, eflags) as i32;
const LAZY: i32 = offset_of!(CpuState, lazy) as i32;
const L_OP: i32 = LAZY + offset_of!(LazyFlags, op) as i32;
const L_DST: i32 = LAZY + offset_of!(LazyFlags, dst) as i32;
const L_SRC: i32 = LAZY + offset_of!(LazyFlags, src) as i32;
const L_RES: i32 = LAZY + offset_of!(LazyFlags, res) as i32;
const L_AUX: i32 = LAZY + offset_of!(LazyFlags, aux) as i32;
const JIT: i32 = offset_of!(CpuState, jit) as i32;
const HELPERS: i32 = JIT + offset_of!(JitLink, helpers) as i32;
const TLB: i32 = JIT + offset_of!(JitLink, tlb) as i32;
const NATIVE: i32 = JIT + offset_of!(JitLink, native_retired) as i32;
const BUDGET: i32 = JIT + offset_of!(JitLink, budget) as i32;
const LAST_EXIT: i32 = JIT + offset_of!(JitLink, last_exit) as i32;
const H_INTERP: i32 = offset_of!(HelperTable, interp_one) as i32;
const H_COND: i32 = offset_of!(HelperTable, cond) as i32;
const H_CARRY: i32 = offset_of!(HelperTable, carry) as i32;

/// The six arithmetic flags.
const ARITH: u32 = 0x8d5;

/// Emission failed (dynasm reported an impossible relocation): the caller interprets.
#[derive(Debug)]
pub struct EmitError;

/// A block's host code.
#[derive(Clone, Debug)]
pub struct Emitted {
    pub code: Vec<u8>,
    /// Offset of the chain entry: where a linked exit of another block jumps (past the
    /// prologue, at the budget check).
    pub chain_entry: usize,
}

/// Emits host code for a block. The bytes are position-independent. With `chain`,
/// exits to a constant EIP in the block's own 4 KiB page go through a patchable jump
/// that the engine may link to the next block (both then live and die with that page).
pub fn emit(block: &IrBlock, user: bool, chain: bool) -> Result<Emitted, EmitError> {
    let mut a = Asm::new(0);
    let epilogue = a.new_dynamic_label();
    let event = a.new_dynamic_label();
    let mut e = Emitter {
        a,
        pending: 0,
        user,
        epilogue,
        event,
        page: if chain { Some(block.eip >> 12) } else { None },
    };
    e.prologue();
    let chain_entry = e.a.offset().0;
    e.budget_check(block.insns.len() as i32);
    for ins in &block.insns {
        match &ins.body {
            Body::Fallback => e.fallback(ins.eip, ins.next),
            Body::Native(uops) => e.native(ins.eip, ins.next, uops),
        }
    }
    e.end(block.end);
    e.tails();
    let code = e.a.finalize().map_err(|_| EmitError)?;
    Ok(Emitted { code, chain_entry })
}

struct Emitter {
    a: Asm,
    /// Instructions retired natively since the last flush to `native_retired`.
    pending: u32,
    /// CPL 3: user permission bits.
    user: bool,
    epilogue: DynamicLabel,
    /// Return `exit::EVENT`.
    event: DynamicLabel,
    /// The linear page (= EIP page: flat code) whose exits may be linked, if any.
    page: Option<u32>,
}

impl Emitter {
    /// push rbx; push r12..r15; push rbp; sub rsp, 8; mov rbx, rdi; mov r12, [rbx+TLB]
    fn prologue(&mut self) {
        dynasm!(self.a
            ; .arch x64
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; push rbp
            ; sub rsp, 8
            ; mov rbx, rdi
            ; mov r12, QWORD [rbx + TLB]
        );
    }

    /// cmp dword [BUDGET], n ; jl out ; sub dword [BUDGET], n ; mov qword [LAST_EXIT], 0
    /// ... out: mov eax, CONTINUE ; jmp epilogue   (EIP is already this block's)
    fn budget_check(&mut self, n: i32) {
        let (go, out, ep) = (
            self.a.new_dynamic_label(),
            self.a.new_dynamic_label(),
            self.epilogue,
        );
        dynasm!(self.a
            ; .arch x64
            ; cmp DWORD [rbx + BUDGET], n
            ; jge =>go
            ; =>out
            ; mov eax, exit::CONTINUE as i32
            ; jmp =>ep
            ; =>go
            ; sub DWORD [rbx + BUDGET], n
            ; mov QWORD [rbx + LAST_EXIT], 0
        );
    }

    /// event: mov eax, EVENT ; epilogue: add rsp, 8 ; pop rbp, r15..r12, rbx ; ret
    fn tails(&mut self) {
        let (ev, ep) = (self.event, self.epilogue);
        dynasm!(self.a
            ; .arch x64
            ; =>ev
            ; mov eax, exit::EVENT as i32
            ; =>ep
            ; add rsp, 8
            ; pop rbp
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbx
            ; ret
        );
    }

    /// add dword [rbx+NATIVE], pending
    fn flush(&mut self) {
        if self.pending > 0 {
            let n = self.pending as i32;
            dynasm!(self.a ; .arch x64 ; add DWORD [rbx + NATIVE], n);
            self.pending = 0;
        }
    }

    /// mov rdi, rbx ; mov rax, [rbx+HELPERS] ; call [rax+off]
    fn call_helper(&mut self, off: i32) {
        dynasm!(self.a
            ; .arch x64
            ; mov rdi, rbx
            ; mov rax, QWORD [rbx + HELPERS]
            ; call QWORD [rax + off]
        );
    }

    /// mov [EIP], eip ; flush ; esi = next ; call interp_one ; test eax,eax ; jnz event
    fn fallback(&mut self, eip: u32, next: u32) {
        let ev = self.event;
        dynasm!(self.a ; .arch x64 ; mov DWORD [rbx + EIP], eip as i32);
        self.flush();
        dynasm!(self.a ; .arch x64 ; mov esi, next as i32);
        self.call_helper(H_INTERP);
        dynasm!(self.a
            ; .arch x64
            ; test eax, eax
            ; jnz =>ev
        );
    }

    fn native(&mut self, eip: u32, next: u32, uops: &[Uop]) {
        let needs_slow = uops
            .iter()
            .any(|u| matches!(u, Uop::Load { .. } | Uop::Store { .. }));
        let slow = self.a.new_dynamic_label();
        let done = self.a.new_dynamic_label();
        for u in uops {
            self.uop(u, slow);
        }
        let before = self.pending;
        self.pending += 1;
        if needs_slow {
            let ev = self.event;
            // The slow path runs the whole instruction in the interpreter, then rejoins
            // with the native count biased so that the fast path's count stays right.
            let bias = (before + 1).wrapping_neg() as i32;
            dynasm!(self.a ; .arch x64 ; jmp =>done ; =>slow ; mov DWORD [rbx + EIP], eip as i32);
            if before > 0 {
                dynasm!(self.a ; .arch x64 ; add DWORD [rbx + NATIVE], before as i32);
            }
            dynasm!(self.a ; .arch x64 ; mov esi, next as i32);
            self.call_helper(H_INTERP);
            dynasm!(self.a
                ; .arch x64
                ; test eax, eax
                ; jnz =>ev
                ; mov DWORD [rbx + NATIVE], bias
                ; =>done
            );
        }
    }

    /// The shadow-TLB hit test for `size` bytes at linear Rd(addr), leaving the host
    /// page in r9 and the page offset in r10:
    ///   mov r8d, addr ; shr r8d, 12 ; mov r9, [r12 + r8*8] ; test r9b, bit ; jz slow
    ///   mov r10d, addr ; and r10d, 0xfff ; cmp r10d, 0x1000 - size ; ja slow
    ///   and r9, -4096
    fn tlb_check(&mut self, addr: T, size: u8, write: bool, slow: DynamicLabel) {
        let bit = match (write, self.user) {
            (false, false) => tlb::READ_SUPER,
            (true, false) => tlb::WRITE_SUPER,
            (false, true) => tlb::READ_USER,
            (true, true) => tlb::WRITE_USER,
        } as i8;
        let ra = h(addr);
        let lim = 0x1000 - size as i32;
        dynasm!(self.a
            ; .arch x64
            ; mov r8d, Rd(ra)
            ; shr r8d, 12
            ; mov r9, QWORD [r12 + r8 * 8]
            ; test r9b, bit
            ; jz =>slow
            ; mov r10d, Rd(ra)
            ; and r10d, 0xfff
            ; cmp r10d, lim
            ; ja =>slow
            ; and r9, -4096
        );
    }

    fn uop(&mut self, u: &Uop, slow: DynamicLabel) {
        match *u {
            // mov Rd(t), [rbx + REGS + 4r]  (movzx from the byte/word; +1 for AH..BH)
            Uop::Get { t, r, size, high } => {
                let off = REGS + 4 * r as i32 + high as i32;
                let rt = h(t);
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; movzx Rd(rt), BYTE [rbx + off]),
                    2 => dynasm!(self.a ; .arch x64 ; movzx Rd(rt), WORD [rbx + off]),
                    _ => dynasm!(self.a ; .arch x64 ; mov Rd(rt), DWORD [rbx + off]),
                }
            }
            // mov [rbx + REGS + 4r], Rb/Rw/Rd(t)
            Uop::Put { r, t, size, high } => {
                let off = REGS + 4 * r as i32 + high as i32;
                let rt = h(t);
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; mov BYTE [rbx + off], Rb(rt)),
                    2 => dynasm!(self.a ; .arch x64 ; mov WORD [rbx + off], Rw(rt)),
                    _ => dynasm!(self.a ; .arch x64 ; mov DWORD [rbx + off], Rd(rt)),
                }
            }
            // mov Rd(t), v
            Uop::Imm { t, v } => {
                dynasm!(self.a ; .arch x64 ; mov Rd(h(t)), v as i32);
            }
            // mov t, disp ; add t, [base] ; mov r8d, [index] ; shl r8d, scale ; add t, r8d
            Uop::Ea {
                t,
                base,
                index,
                scale,
                disp,
            } => {
                let rt = h(t);
                dynasm!(self.a ; .arch x64 ; mov Rd(rt), disp as i32);
                if let Some(b) = base {
                    let off = REGS + 4 * b as i32;
                    dynasm!(self.a ; .arch x64 ; add Rd(rt), DWORD [rbx + off]);
                }
                if let Some(x) = index {
                    let off = REGS + 4 * x as i32;
                    dynasm!(self.a ; .arch x64 ; mov r8d, DWORD [rbx + off]);
                    if scale > 0 {
                        dynasm!(self.a ; .arch x64 ; shl r8d, scale as i8);
                    }
                    dynasm!(self.a ; .arch x64 ; add Rd(rt), r8d);
                }
            }
            // tlb_check ; mov/movzx Rd(t), [r9 + r10]
            Uop::Load {
                t,
                addr,
                size,
                write,
            } => {
                self.tlb_check(addr, size, write, slow);
                let rt = h(t);
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; movzx Rd(rt), BYTE [r9 + r10]),
                    2 => dynasm!(self.a ; .arch x64 ; movzx Rd(rt), WORD [r9 + r10]),
                    _ => dynasm!(self.a ; .arch x64 ; mov Rd(rt), DWORD [r9 + r10]),
                }
            }
            // tlb_check(write) ; mov [r9 + r10], Rd(t)
            Uop::Store { addr, t, size } => {
                self.tlb_check(addr, size, true, slow);
                let rt = h(t);
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; mov BYTE [r9 + r10], Rb(rt)),
                    2 => dynasm!(self.a ; .arch x64 ; mov WORD [r9 + r10], Rw(rt)),
                    _ => dynasm!(self.a ; .arch x64 ; mov DWORD [r9 + r10], Rd(rt)),
                }
            }
            Uop::Alu {
                op,
                size,
                dst,
                a,
                b,
            } => self.alu(op, size, dst, a, b),
            // movzx/movsx Rd(t), Rb/Rw(t)
            Uop::Ext { t, size, signed } => {
                let rt = h(t);
                match (size, signed) {
                    (1, false) => dynasm!(self.a ; .arch x64 ; movzx Rd(rt), Rb(rt)),
                    (1, true) => dynasm!(self.a ; .arch x64 ; movsx Rd(rt), Rb(rt)),
                    (2, false) => dynasm!(self.a ; .arch x64 ; movzx Rd(rt), Rw(rt)),
                    _ => dynasm!(self.a ; .arch x64 ; movsx Rd(rt), Rw(rt)),
                }
            }
            // mov dword [L_OP], kind|size<<8 ; mov [L_DST], a ; mov [L_SRC], b ; mov [L_RES], res
            Uop::Lazy {
                kind,
                size,
                a,
                b,
                res,
                aux,
            } => {
                let op = (kind | (size as u32) << 8) as i32;
                let (ra, rb, rr) = (h(a), h(b), h(res));
                dynasm!(self.a
                    ; .arch x64
                    ; mov DWORD [rbx + L_OP], op
                    ; mov DWORD [rbx + L_DST], Rd(ra)
                    ; mov DWORD [rbx + L_SRC], Rd(rb)
                    ; mov DWORD [rbx + L_RES], Rd(rr)
                );
                if let Some(x) = aux {
                    let rx = h(x);
                    dynasm!(self.a ; .arch x64 ; mov DWORD [rbx + L_AUX], Rd(rx));
                }
            }
            // setc r8b ; movzx r8d, r8b ; imul r8d, r8d, 0x801 (CF|OF) ; test res, res
            // pushfq ; pop r9 ; and r9d, ZF|SF|PF ; or r9d, r8d
            // mov r10d, [EFLAGS] ; and r10d, ~ARITH ; or r10d, r9d ; mov [EFLAGS], r10d
            // mov dword [L_OP], 0
            Uop::MulFlags { res } => {
                let rr = h(res);
                let keep = !ARITH as i32;
                dynasm!(self.a
                    ; .arch x64
                    ; setc r8b
                    ; movzx r8d, r8b
                    ; imul r8d, r8d, 0x801
                    ; test Rd(rr), Rd(rr)
                    ; pushfq
                    ; pop r9
                    ; and r9d, 0xc4
                    ; or r9d, r8d
                    ; mov r10d, DWORD [rbx + EFLAGS]
                    ; and r10d, keep
                    ; or r10d, r9d
                    ; mov DWORD [rbx + EFLAGS], r10d
                    ; mov DWORD [rbx + L_OP], 0
                );
            }
            Uop::Carry { t, from } => self.carry(t, from),
        }
    }

    /// CF into Rd(t), from a record this block left (inline) or through the helper:
    ///   ADD: mov r8d,[RES] ; cmp r8d,[DST] ; setb      SUB: mov r8d,[DST] ; cmp r8d,[SRC] ; setb
    ///   INC/DEC: cmp [AUX],0 ; setne    NEG: cmp [SRC],0 ; setne    LOGIC: 0
    ///   eager: mov t,[EFLAGS] ; and t,1    otherwise: call carry(state) ; mov t, eax
    fn carry(&mut self, t: T, from: Option<CarrySrc>) {
        let rt = h(t);
        match from {
            Some(CarrySrc::Lazy(lazy::ADD)) => dynasm!(self.a
                ; .arch x64
                ; mov r8d, DWORD [rbx + L_RES]
                ; cmp r8d, DWORD [rbx + L_DST]
                ; setb r8b
                ; movzx Rd(rt), r8b
            ),
            Some(CarrySrc::Lazy(lazy::SUB)) => dynasm!(self.a
                ; .arch x64
                ; mov r8d, DWORD [rbx + L_DST]
                ; cmp r8d, DWORD [rbx + L_SRC]
                ; setb r8b
                ; movzx Rd(rt), r8b
            ),
            Some(CarrySrc::Lazy(lazy::INC | lazy::DEC)) => dynasm!(self.a
                ; .arch x64
                ; cmp DWORD [rbx + L_AUX], 0
                ; setne r8b
                ; movzx Rd(rt), r8b
            ),
            Some(CarrySrc::Lazy(lazy::NEG)) => dynasm!(self.a
                ; .arch x64
                ; cmp DWORD [rbx + L_SRC], 0
                ; setne r8b
                ; movzx Rd(rt), r8b
            ),
            Some(CarrySrc::Lazy(lazy::LOGIC)) => dynasm!(self.a ; .arch x64 ; xor Rd(rt), Rd(rt)),
            Some(CarrySrc::Eager) => dynasm!(self.a
                ; .arch x64
                ; mov Rd(rt), DWORD [rbx + EFLAGS]
                ; and Rd(rt), 1
            ),
            _ => {
                self.call_helper(H_CARRY);
                dynasm!(self.a ; .arch x64 ; mov Rd(rt), eax);
            }
        }
    }

    /// mov dst, a ; <op> dst, b at the operand size (b moved to r8 first when it is
    /// dst; ADC/SBB load the carry from TC with `bt edi, 0` first).
    fn alu(&mut self, op: AluOp, size: u8, dst: T, a: T, b: T) {
        let (rd, ra) = (h(dst), h(a));
        let mut rb = h(b);
        if dst == b && dst != a {
            dynasm!(self.a ; .arch x64 ; mov r8d, Rd(rb));
            rb = 8;
        }
        if dst != a {
            dynasm!(self.a ; .arch x64 ; mov Rd(rd), Rd(ra));
        }
        macro_rules! sized2 {
            ($op:ident) => {
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; $op Rb(rd), Rb(rb)),
                    2 => dynasm!(self.a ; .arch x64 ; $op Rw(rd), Rw(rb)),
                    _ => dynasm!(self.a ; .arch x64 ; $op Rd(rd), Rd(rb)),
                }
            };
        }
        macro_rules! sized1 {
            ($op:ident) => {
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; $op Rb(rd)),
                    2 => dynasm!(self.a ; .arch x64 ; $op Rw(rd)),
                    _ => dynasm!(self.a ; .arch x64 ; $op Rd(rd)),
                }
            };
        }
        macro_rules! shift {
            ($op:ident) => {
                match size {
                    1 => dynasm!(self.a ; .arch x64 ; $op Rb(rd), cl),
                    2 => dynasm!(self.a ; .arch x64 ; $op Rw(rd), cl),
                    _ => dynasm!(self.a ; .arch x64 ; $op Rd(rd), cl),
                }
            };
        }
        match op {
            AluOp::Add => sized2!(add),
            AluOp::Sub => sized2!(sub),
            AluOp::And => sized2!(and),
            AluOp::Or => sized2!(or),
            AluOp::Xor => sized2!(xor),
            AluOp::Adc => {
                let rc = h(crate::ir::TC);
                dynasm!(self.a ; .arch x64 ; bt Rd(rc), 0);
                sized2!(adc)
            }
            AluOp::Sbb => {
                let rc = h(crate::ir::TC);
                dynasm!(self.a ; .arch x64 ; bt Rd(rc), 0);
                sized2!(sbb)
            }
            AluOp::Inc => sized1!(inc),
            AluOp::Dec => sized1!(dec),
            AluOp::Neg => sized1!(neg),
            AluOp::Not => sized1!(not),
            AluOp::Imul => dynasm!(self.a ; .arch x64 ; imul Rd(rd), Rd(rb)),
            AluOp::Shl | AluOp::Shr | AluOp::Sar => {
                // The count goes through CL; the IR keeps it in T1 (RCX) and the result
                // elsewhere, which `lower` guarantees.
                if rb != 1 {
                    dynasm!(self.a ; .arch x64 ; mov ecx, Rd(rb));
                }
                match op {
                    AluOp::Shl => shift!(shl),
                    AluOp::Shr => shift!(shr),
                    _ => shift!(sar),
                }
            }
        }
    }

    /// Sets EIP and returns CONTINUE with the count flushed. An exit within the
    /// block's page is linkable:
    ///   lea rax, [rip + field] ; mov [LAST_EXIT], rax ; field: jmp rel32 (to the next
    ///   instruction until the engine patches it to the next block's chain entry)
    fn leave_at(&mut self, eip: u32) {
        let ep = self.epilogue;
        self.flush();
        dynasm!(self.a ; .arch x64 ; mov DWORD [rbx + EIP], eip as i32);
        if self.page == Some(eip >> 12) {
            let field = self.a.new_dynamic_label();
            dynasm!(self.a
                ; .arch x64
                ; lea rax, [=>field]
                ; mov QWORD [rbx + LAST_EXIT], rax
            );
            // E9 rel32 = 0: falls through until linked. `field` labels the rel32.
            self.a.extend([0xe9u8]);
            dynasm!(self.a ; .arch x64 ; =>field);
            self.a.extend([0u8, 0, 0, 0]);
        }
        dynasm!(self.a
            ; .arch x64
            ; mov eax, exit::CONTINUE as i32
            ; jmp =>ep
        );
    }

    fn end(&mut self, end: End) {
        let ep = self.epilogue;
        match end {
            End::Jump(t) => self.leave_at(t),
            // mov [EIP], Rd(t)
            End::Indirect(t) => {
                let rt = h(t);
                dynasm!(self.a ; .arch x64 ; mov DWORD [rbx + EIP], Rd(rt));
                self.flush();
                dynasm!(self.a
                    ; .arch x64
                    ; mov eax, exit::CONTINUE as i32
                    ; jmp =>ep
                );
            }
            End::FromState => {
                self.flush();
                dynasm!(self.a
                    ; .arch x64
                    ; mov eax, exit::CONTINUE as i32
                    ; jmp =>ep
                );
            }
            End::Cond {
                cc,
                taken,
                not_taken,
                host,
            } => {
                let yes = self.a.new_dynamic_label();
                if host {
                    self.jcc(cc, yes);
                } else {
                    // call cond(state, cc) ; test eax, eax ; jnz yes
                    dynasm!(self.a ; .arch x64 ; mov esi, cc as i32);
                    self.call_helper(H_COND);
                    dynasm!(self.a ; .arch x64 ; test eax, eax ; jnz =>yes);
                }
                let pending = self.pending;
                self.leave_at(not_taken);
                self.pending = pending;
                dynasm!(self.a ; .arch x64 ; =>yes);
                self.leave_at(taken);
            }
        }
    }

    /// j<cc> label, on the host flags.
    fn jcc(&mut self, cc: u8, l: DynamicLabel) {
        match cc {
            0 => dynasm!(self.a ; .arch x64 ; jo =>l),
            1 => dynasm!(self.a ; .arch x64 ; jno =>l),
            2 => dynasm!(self.a ; .arch x64 ; jb =>l),
            3 => dynasm!(self.a ; .arch x64 ; jae =>l),
            4 => dynasm!(self.a ; .arch x64 ; je =>l),
            5 => dynasm!(self.a ; .arch x64 ; jne =>l),
            6 => dynasm!(self.a ; .arch x64 ; jbe =>l),
            7 => dynasm!(self.a ; .arch x64 ; ja =>l),
            8 => dynasm!(self.a ; .arch x64 ; js =>l),
            9 => dynasm!(self.a ; .arch x64 ; jns =>l),
            10 => dynasm!(self.a ; .arch x64 ; jp =>l),
            11 => dynasm!(self.a ; .arch x64 ; jnp =>l),
            12 => dynasm!(self.a ; .arch x64 ; jl =>l),
            13 => dynasm!(self.a ; .arch x64 ; jge =>l),
            14 => dynasm!(self.a ; .arch x64 ; jle =>l),
            _ => dynasm!(self.a ; .arch x64 ; jg =>l),
        }
    }
}
