; exceptions_sdm: the exceptions ROM plus the cases QEMU does not model (segment limit,
; type and null checks on data accesses, LOCK MOV, invalid CR0/CR4 writes). Its golden
; output is exceptions.expected with the SDM-expected lines listed in exceptions.asm
; (the "SDM-only cases" comment) inserted where the ROM prints them.
%define SDM_EXTRA
%include "exceptions.asm"
