; fpu_stack_sdm: the fpu_stack ROM plus the stack overflow/underflow cases that QEMU 7.2
; does not model. Its golden output is fpu_stack.expected with the SDM-expected lines
; listed in fpu_stack.asm (the "SDM-only cases" comment) appended where the ROM prints
; them; Bochs 2.7 prints it.
%define SDM_EXTRA
%include "fpu_stack.asm"
