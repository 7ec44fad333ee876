; demo: the built-in guest `rx86` runs without arguments.
%include "inc/common.inc"
[bits 16]
org 0
start:
    cli
    mov al, 0x42
    out 0x80, al                ; POST code, shown by --post-codes
    PUTS16 "rx86 demo ROM: real mode up, debug console works", 10
    mov eax, 0x12345678
    call rm_hex32
    call rm_nl
    EXIT 0
%include "inc/print16.inc"
ROM_FOOTER
