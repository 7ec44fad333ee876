; fpu_mf_sdm: the fpu_mf ROM plus the cases QEMU 7.2 does not model (#MF at the next
; waiting x87 instruction that is not FWAIT/FNOP, the unchanged destination of an
; unmasked exception, an unmasked stack fault, FLDCW unmasking a set flag). Its golden
; output is fpu_mf.expected with the SDM-expected lines listed in fpu_mf.asm (the
; "SDM-only cases" comment) inserted where the ROM prints them; Bochs 2.7 prints it.
%define SDM_EXTRA
%include "fpu_mf.asm"
