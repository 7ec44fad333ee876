; disk_hang: disk.asm that stops after its first FLUSH CACHE (data-safety test).
%define HANG_AFTER_FLUSH
%include "disk.asm"
