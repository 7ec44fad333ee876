; hello: the smallest ROM — prints through the debug console and exits.
%include "inc/common.inc"
[bits 16]
org 0
start:
    cli
    PUTS16 "hello from rx86", 10
    mov eax, 0x12345678
    call rm_hex32
    call rm_nl
    EXIT 0
%include "inc/print16.inc"
ROM_FOOTER
