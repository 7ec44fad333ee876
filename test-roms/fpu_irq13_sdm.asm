; fpu_irq13_sdm: the fpu_irq13 ROM plus the unmasked x87 errors that reach the CPU as
; IRQ13 (QEMU 7.2 aborts on FERR#, keeps IGNNE# asserted after FNCLEX and raises FERR#
; only at FWAIT/FNOP).
; Its golden output is fpu_irq13.expected with the SDM-expected lines listed in
; fpu_irq13.asm inserted where the ROM prints them; Bochs 2.7 prints it.
%define SDM_EXTRA
%include "fpu_irq13.asm"
