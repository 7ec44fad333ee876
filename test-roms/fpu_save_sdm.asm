; fpu_save_sdm: the fpu_save ROM plus the real-mode FIP/FDP fields, which the SDM defines
; as linear addresses and QEMU 7.2 stores in the protected-mode layout. Its golden
; output is fpu_save.expected with the SDM-expected lines listed in fpu_save.asm (the
; "SDM-only" comment) inserted where the ROM prints them; Bochs 2.7 prints it.
%define SDM_EXTRA
%include "fpu_save.asm"
