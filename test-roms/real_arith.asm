; real_arith: real-mode integer instruction semantics.
;
; Every result line is "name: reg=value ... fl=xxxxxx". The flags field lists
; O S Z A P C in that order: upper case = set, lower case = clear, '.' = the Intel
; SDM leaves the flag undefined after that instruction (it is masked, never
; compared). Where the SDM says a flag is "unaffected", it is shown, and the test
; sets a known flag state first (SETF) so that "unaffected" is observable.
;
; The part between ";@native-begin" and ";@native-end" uses only instructions and
; addressing that behave the same in 32-bit code (registers, immediates, [ebx]),
; so it can also be run natively on a host CPU as a cross-check of the expected
; output (see test-roms/native/). The rest is real-mode only (stack, strings,
; 16-bit addressing, interrupts).
;
; Not tested because the SDM leaves them undefined: the BSF/BSR destination for a
; zero source, SHLD/SHRD with a count above the operand size (16-bit forms), the
; upper word written by a 32-bit PUSH of a segment register, and word accesses at
; offset 0xFFFF (the 64 KiB wrap).
;
; Memory: SS=0 SP=8000; DS=1000 (data, linear 10000); ES=2000; IVT at 0:0.
%include "inc/common.inc"
[bits 16]
org 0

; @defs-begin
%define CF_ 0x001
%define PF_ 0x004
%define AF_ 0x010
%define ZF_ 0x040
%define SF_ 0x080
%define OF_ 0x800
%define ALL (OF_|SF_|ZF_|AF_|PF_|CF_)
%define LOGIC (OF_|SF_|ZF_|PF_|CF_)
%define SZPC (SF_|ZF_|PF_|CF_)
%define SZP (SF_|ZF_|PF_)
%define SZAPC (SF_|ZF_|AF_|PF_|CF_)
%define OC (OF_|CF_)
%define NOO (SF_|ZF_|AF_|PF_|CF_)

; flag images for SETF (bit 1 is the always-one bit)
%define FL0   0x0002
%define FLC   0x0003
%define FLALL 0x08D7
%define FLZ   0x0042
; @defs-end

%define DATA_SEG 0x1000
%define DBUF     0x0100          ; scratch buffer offset in DS

; ---------------------------------------------------------------- output macros
; T "name"   : save FLAGS, print "name:"
; V8/V16/V32 "label", src : print " label=hex" (registers preserved)
; F mask     : print " fl=..." for the saved FLAGS (mask 0: nothing), newline,
;              and restore the saved FLAGS.
%macro T 1+
    pushf
    PUTS16 %1, ":"
%endmacro
%macro V8 2
    push ax
    mov al, %2
    PUTS16 " ", %1, "="
    call rm_hex8
    pop ax
%endmacro
%macro V16 2
    push ax
    mov ax, %2
    PUTS16 " ", %1, "="
    call rm_hex16
    pop ax
%endmacro
%macro V32 2
    push eax
    mov eax, %2
    PUTS16 " ", %1, "="
    call rm_hex32
    pop eax
%endmacro
%macro F 1
    push word %1
    call show_fl
    popf
%endmacro
%macro SETF 1
    push word %1
    popf
%endmacro
%macro DATAPTR 1
    mov %1, DBUF
%endmacro

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov esp, 0x8000
    mov ax, DATA_SEG
    mov ds, ax
    mov ax, 0x2000
    mov es, ax
    PUTS16 "real_arith: start", 10

;@native-begin
; ------------------------------------------------------------ generic macros
; (built on T/V8/V16/V32/F/SETF/DATAPTR only)
%macro REGW 1
  %assign _w 32
  %ifidni %1,al
    %assign _w 8
  %elifidni %1,bl
    %assign _w 8
  %elifidni %1,cl
    %assign _w 8
  %elifidni %1,dl
    %assign _w 8
  %elifidni %1,ah
    %assign _w 8
  %elifidni %1,bh
    %assign _w 8
  %elifidni %1,ch
    %assign _w 8
  %elifidni %1,dh
    %assign _w 8
  %elifidni %1,ax
    %assign _w 16
  %elifidni %1,bx
    %assign _w 16
  %elifidni %1,cx
    %assign _w 16
  %elifidni %1,dx
    %assign _w 16
  %elifidni %1,si
    %assign _w 16
  %elifidni %1,di
    %assign _w 16
  %elifidni %1,bp
    %assign _w 16
  %elifidni %1,sp
    %assign _w 16
  %endif
%endmacro
; VR reg: print " reg=value"
%macro VR 1
  REGW %1
  %defstr _vrn %1
  %if _w == 8
    V8 _vrn, %1
  %elif _w == 16
    V16 _vrn, %1
  %else
    V32 _vrn, %1
  %endif
%endmacro
; _TAG flags: defines _tag, a readable note of the input flags
%macro _TAG 1
  %if (%1) == FL0
    %define _tag ""
  %elif (%1) == FLC
    %define _tag " cf=1"
  %elif (%1) == FLALL
    %define _tag " fl=all"
  %elif (%1) == FLZ
    %define _tag " zf=1"
  %else
    %defstr _tagv %1
    %define _tag " in=", _tagv
  %endif
%endmacro
; A2 op, dst, a, src, flagsin, mask :  dst=a; op dst,src (src immediate)
%macro A2 6
    mov %2, %3
    SETF %5
    %1 %2, %4
    _TAG %5
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    %defstr _s %4
    T _o, " ", _d, "=", _a, ",", _s, _tag
    VR %2
    F %6
%endmacro
; A2R op, dst, a, src, b, flagsin, mask : dst=a; src=b; op dst,src
%macro A2R 7
    mov %2, %3
    mov %4, %5
    SETF %6
    %1 %2, %4
    _TAG %6
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    %defstr _s %4
    %defstr _b %5
    T _o, " ", _d, "=", _a, ",", _s, "=", _b, _tag
    VR %2
    VR %4
    F %7
%endmacro
; U1 op, dst, a, flagsin, mask
%macro U1 5
    mov %2, %3
    SETF %4
    %1 %2
    _TAG %4
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    T _o, " ", _d, "=", _a, _tag
    VR %2
    F %5
%endmacro
; SH op, dst, a, count(imm), flagsin, mask
%macro SH 6
    mov %2, %3
    SETF %5
    %1 %2, %4
    _TAG %5
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    %defstr _c %4
    T _o, " ", _d, "=", _a, ",", _c, _tag
    VR %2
    F %6
%endmacro
; SHC op, dst, a, count(in CL), flagsin, mask
%macro SHC 6
    mov %2, %3
    mov cl, %4
    SETF %5
    %1 %2, cl
    _TAG %5
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    %defstr _c %4
    T _o, " ", _d, "=", _a, ",cl=", _c, _tag
    VR %2
    F %6
%endmacro
; DSH op, dst, a, src, b, count(imm or "cl" value), flagsin, mask  (SHLD/SHRD)
%macro DSH 8
    mov %2, %3
    mov %4, %5
    mov cl, %6
    SETF %7
    %1 %2, %4, cl
    _TAG %7
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    %defstr _s %4
    %defstr _b %5
    %defstr _c %6
    T _o, " ", _d, "=", _a, ",", _s, "=", _b, ",cl=", _c, _tag
    VR %2
    F %8
%endmacro
%macro DSHI 8
    mov %2, %3
    mov %4, %5
    SETF %7
    %1 %2, %4, %6
    _TAG %7
    %defstr _o %1
    %defstr _d %2
    %defstr _a %3
    %defstr _s %4
    %defstr _b %5
    %defstr _c %6
    T _o, " ", _d, "=", _a, ",", _s, "=", _b, ",", _c, _tag
    VR %2
    F %8
%endmacro
; MD8 op, ax, bl, mask : op bl  (AX result)
%macro MD8 4
    mov ax, %2
    mov bl, %3
    SETF FL0
    %1 bl
    %defstr _o %1
    %defstr _a %2
    %defstr _b %3
    T _o, "8 ax=", _a, ",bl=", _b
    V16 "ax", ax
    F %4
%endmacro
; MD16 op, dx, ax, bx, mask
%macro MD16 5
    mov dx, %2
    mov ax, %3
    mov bx, %4
    SETF FL0
    %1 bx
    %defstr _o %1
    %defstr _a %2
    %defstr _b %3
    %defstr _c %4
    T _o, "16 dx:ax=", _a, ":", _b, ",bx=", _c
    V16 "dx", dx
    V16 "ax", ax
    F %5
%endmacro
; MD32 op, edx, eax, ebx, mask
%macro MD32 5
    mov edx, %2
    mov eax, %3
    mov ebx, %4
    SETF FL0
    %1 ebx
    %defstr _o %1
    %defstr _a %2
    %defstr _b %3
    %defstr _c %4
    T _o, "32 edx:eax=", _a, ":", _b, ",ebx=", _c
    V32 "edx", edx
    V32 "eax", eax
    F %5
%endmacro
; BCD op1, al/ax-in, op2, adj : ax=in; op1 al,op2; adj   (op2 may be "nop")
%macro BCD 4
    mov ax, %2
    SETF FL0
    %ifnidni %3,nop
      %1 al, %3
    %endif
    %4
    %defstr _o %1
    %defstr _a %2
    %defstr _b %3
    %defstr _j %4
    %ifnidni %3,nop
      T _j, " after ", _o, " ax=", _a, ",", _b
    %else
      T _j, " ax=", _a
    %endif
    V16 "ax", ax
%endmacro
%define CCS o,no,b,nb,e,ne,be,a,s,ns,p,np,l,ge,le,g
; SETALL: set%cc into 16 bytes at [ebx]
%macro SETALL 1-*
  %assign _i 0
  %rep %0
    set%1 [ebx+_i]
    %assign _i _i+1
    %rotate 1
  %endrep
%endmacro
; JALL: j%cc (short) into 16 bytes at [ebx]
%macro JALL 1-*
  %assign _i 0
  %rep %0
    mov byte [ebx+_i], 0
    j%1 short %%t %+ _i
    jmp short %%n %+ _i
%%t %+ _i:
    mov byte [ebx+_i], 1
%%n %+ _i:
    %assign _i _i+1
    %rotate 1
  %endrep
%endmacro
; JALLN: j%cc near (0F 8x) into 16 bytes at [ebx]
%macro JALLN 1-*
  %assign _i 0
  %rep %0
    mov byte [ebx+_i], 1
    j%1 near %%t %+ _i
    mov byte [ebx+_i], 0
%%t %+ _i:
    %assign _i _i+1
    %rotate 1
  %endrep
%endmacro
; CMOVALL: cmov%cc ecx<-edx (edx=1, ecx=0 before) into 16 bytes at [ebx]
%macro CMOVALL 1-*
  %assign _i 0
  %rep %0
    mov ecx, 0
    cmov%1 ecx, edx
    mov [ebx+_i], cl
    %assign _i _i+1
    %rotate 1
  %endrep
%endmacro
; PACK16: 16 bytes (0/1) at [ebx] -> AX bit mask (bit i = byte i)
%macro PACK16 0
    push ecx
    xor eax, eax
    mov ecx, 15
%%l:
    shl ax, 1
    or al, [ebx+ecx]
    dec ecx
    jns %%l
    pop ecx
%endmacro
; CCTEST flags : print setcc, jcc (short, near) and cmovcc bit masks for a flag image
%macro CCTEST 1
    DATAPTR ebx
    mov edx, 1
    SETF %1
    SETALL CCS
    PACK16
    %defstr _f %1
    T "setcc in=", _f
    V16 "set", ax
    SETF %1
    JALL CCS
    PACK16
    V16 "jcc", ax
    SETF %1
    JALLN CCS
    PACK16
    V16 "jcc.near", ax
    SETF %1
    CMOVALL CCS
    PACK16
    V16 "cmov", ax
    F 0
%endmacro

; ------------------------------------------------------------ ADD/ADC/SUB/SBB/CMP
    A2  add, al, 0x7F, 0x01, FL0, ALL
    A2  add, al, 0xFF, 0x01, FL0, ALL
    A2  add, al, 0x80, 0x80, FL0, ALL
    A2  add, al, 0x0F, 0x01, FLC, ALL
    A2  add, ax, 0x7FFF, 0x0001, FL0, ALL
    A2  add, ax, 0xFFFF, 0x0001, FL0, ALL
    A2R add, ax, 0x1234, bx, 0x4321, FL0, ALL
    A2  add, ax, 0x1234, -1, FL0, ALL
    A2  add, eax, 0x7FFFFFFF, 1, FL0, ALL
    A2R add, eax, 0xFFFFFFFF, ebx, 0xFFFFFFFF, FL0, ALL
    A2  add, eax, 0x80000000, 0x80000000, FL0, ALL
    A2  add, eax, 0x00000001, -2, FL0, ALL
    A2R add, ch, 0xF0, dh, 0x10, FL0, ALL
    A2  adc, al, 0xFF, 0x00, FLC, ALL
    A2  adc, al, 0x7F, 0x00, FLC, ALL
    A2  adc, al, 0x7F, 0x00, FL0, ALL
    A2  adc, ax, 0xFFFF, 0xFFFF, FLC, ALL
    A2  adc, ax, 0x00FF, 0x0000, FLC, ALL
    A2  adc, eax, 0x7FFFFFFF, 0, FLC, ALL
    A2R adc, eax, 0xFFFFFFFF, ebx, 0xFFFFFFFF, FLC, ALL
    A2  sub, al, 0x00, 0x01, FL0, ALL
    A2  sub, al, 0x80, 0x01, FL0, ALL
    A2  sub, al, 0x10, 0x10, FL0, ALL
    A2  sub, ax, 0x8000, 1, FL0, ALL
    A2  sub, ax, 0, 0xFFFF, FL0, ALL
    A2  sub, eax, 0x80000000, 1, FL0, ALL
    A2R sub, eax, 0x12345678, ebx, 0x12345678, FLC, ALL
    A2  sub, eax, 0x7FFFFFFF, -1, FL0, ALL
    A2  sbb, al, 0x00, 0x00, FLC, ALL
    A2  sbb, al, 0x80, 0x7F, FLC, ALL
    A2  sbb, al, 0x80, 0x7F, FL0, ALL
    A2  sbb, ax, 0x0000, 0xFFFF, FLC, ALL
    A2  sbb, eax, 0, 0, FLC, ALL
    A2  sbb, eax, 0x80000000, 0, FLC, ALL
    A2R sbb, eax, 0x00000010, ebx, 0x0000000F, FLC, ALL
    A2  cmp, al, 5, 7, FL0, ALL
    A2  cmp, al, 0x80, 0x01, FL0, ALL
    A2  cmp, ax, 0x1234, 0x1234, FLC, ALL
    A2  cmp, eax, 1, -1, FL0, ALL
    A2R cmp, eax, 0x7FFFFFFF, ebx, 0x80000000, FL0, ALL
    ; memory destinations
    DATAPTR ebx
    mov dword [ebx], 0x7FFFFFFF
    SETF FL0
    add dword [ebx], 1
    T "add m32=0x7FFFFFFF,1"
    V32 "m32", dword [ebx]
    F ALL
    mov word [ebx], 0x0001
    SETF FL0
    sub word [ebx], 2
    T "sub m16=0x0001,2"
    V16 "m16", word [ebx]
    F ALL
    mov byte [ebx], 0xFF
    mov al, 0x01
    SETF FLC
    adc [ebx], al
    T "adc m8=0xFF,al=0x01 cf=1"
    V8 "m8", byte [ebx]
    F ALL
    mov dword [ebx], 0x00000100
    SETF FL0
    cmp dword [ebx], 0x00000101
    T "cmp m32=0x100,0x101"
    V32 "m32", dword [ebx]
    F ALL

; ------------------------------------------------------------ INC/DEC/NEG/NOT
    U1 inc, al, 0x7F, FLC, ALL
    U1 inc, al, 0xFF, FL0, ALL
    U1 inc, ax, 0xFFFF, FLC, ALL
    U1 inc, eax, 0x7FFFFFFF, FL0, ALL
    U1 inc, bh, 0x0F, FL0, ALL
    U1 dec, al, 0x80, FL0, ALL
    U1 dec, al, 0x00, FLC, ALL
    U1 dec, ax, 0x0001, FL0, ALL
    U1 dec, eax, 0x80000000, FLC, ALL
    U1 dec, si, 0x0000, FL0, ALL
    DATAPTR ebx
    mov dword [ebx], 0xFFFFFFFF
    SETF FL0
    inc dword [ebx]
    T "inc m32=0xFFFFFFFF"
    V32 "m32", dword [ebx]
    F ALL
    U1 neg, al, 0x00, FLC, ALL
    U1 neg, al, 0x80, FL0, ALL
    U1 neg, al, 0x01, FL0, ALL
    U1 neg, ax, 0x8000, FL0, ALL
    U1 neg, ax, 0x0010, FL0, ALL
    U1 neg, eax, 0x80000000, FL0, ALL
    U1 neg, eax, 5, FL0, ALL
    U1 not, al, 0x5A, FLALL, ALL
    U1 not, ax, 0x0000, FL0, ALL
    U1 not, eax, 0x12345678, FLALL, ALL

; ------------------------------------------------------------ AND/OR/XOR/TEST
    A2  and, al, 0xF0, 0x0F, FLALL, LOGIC
    A2  and, al, 0xF3, 0x81, FLC, LOGIC
    A2  and, ax, 0xFFFF, 0x8001, FLALL, LOGIC
    A2  and, eax, 0x12345678, 0xFF00FF00, FLALL, LOGIC
    A2  or, ax, 0x8000, 0x0001, FLALL, LOGIC
    A2  or, ax, 0x0100, 0x0000, FL0, LOGIC
    A2  or, eax, 0, 0, FLC, LOGIC
    A2R or, eax, 0x80000000, ebx, 0x00000003, FL0, LOGIC
    A2  xor, al, 0x55, 0xAA, FLALL, LOGIC
    A2  xor, ax, 0x1234, 0x00FF, FL0, LOGIC
    A2R xor, eax, 0x12345678, ebx, 0x12345678, FLC, LOGIC
    A2  test, al, 0x80, 0x80, FLALL, LOGIC
    A2  test, eax, 0x00010000, 0x00010000, FL0, LOGIC
    A2R test, ax, 0x0F0F, bx, 0xF0F0, FLC, LOGIC
    A2  test, eax, 0x0000FF01, 0x00000003, FL0, LOGIC

; ------------------------------------------------------------ MUL/IMUL/DIV/IDIV
    MD8  mul, 0x0080, 0x02, OC
    MD8  mul, 0x0010, 0x0F, OC
    MD8  mul, 0x12FF, 0xFF, OC
    MD16 mul, 0x0000, 0xFFFF, 0xFFFF, OC
    MD16 mul, 0x1234, 0x0100, 0x0100, OC
    MD16 mul, 0x5555, 0x00FF, 0x0101, OC
    MD32 mul, 0, 0xFFFFFFFF, 0xFFFFFFFF, OC
    MD32 mul, 0, 0x00010000, 0x00010000, OC
    MD32 mul, 0xAAAAAAAA, 0x12345678, 1, OC
    MD8  imul, 0x00FF, 0xFF, OC
    MD8  imul, 0x0040, 0x02, OC
    MD8  imul, 0x0080, 0x02, OC
    MD8  imul, 0x00C0, 0x02, OC
    MD16 imul, 0, 0x8000, 0xFFFF, OC
    MD16 imul, 0, 0xFFFE, 0x0003, OC
    MD32 imul, 0, 0xFFFFFFFE, 3, OC
    MD32 imul, 0, 0x40000000, 2, OC
    MD32 imul, 0, 0x80000000, 0xFFFFFFFF, OC
    A2R imul, ax, 0x4000, bx, 2, FL0, OC
    A2R imul, ax, 0xFFFF, bx, 0xFFFF, FL0, OC
    A2R imul, eax, 0x10000, ebx, 0x10000, FL0, OC
    A2R imul, eax, -7, ebx, 3, FL0, OC
    mov bx, 0x1000
    SETF FL0
    imul ax, bx, -3
    T "imul ax,bx=0x1000,-3"
    VR ax
    F OC
    mov bx, 0x0010
    SETF FL0
    imul ax, bx, 0x1234
    T "imul ax,bx=0x0010,0x1234"
    VR ax
    F OC
    mov bx, 0x1000
    SETF FL0
    imul ax, bx, 0x1234
    T "imul ax,bx=0x1000,0x1234"
    VR ax
    F OC
    mov ebx, 0x10000
    SETF FL0
    imul eax, ebx, 0x12345
    T "imul eax,ebx=0x10000,0x12345"
    VR eax
    F OC
    mov ebx, 0x80000000
    SETF FL0
    imul eax, ebx, -1
    T "imul eax,ebx=0x80000000,-1"
    VR eax
    F OC
    mov ebx, 0x00001000
    SETF FL0
    imul eax, ebx, 0x7FFF
    T "imul eax,ebx=0x1000,0x7FFF"
    VR eax
    F OC
    DATAPTR ebx
    mov dword [ebx], 0x01000000
    mov eax, 0x100
    SETF FL0
    imul eax, [ebx]
    T "imul eax=0x100,m32=0x01000000"
    VR eax
    F OC
    mov dword [ebx], -5
    SETF FL0
    imul eax, [ebx], 100
    T "imul eax,m32=-5,100"
    VR eax
    F OC
    MD8  div, 0x0100, 0x10, 0
    MD8  div, 0x00FF, 0x10, 0
    MD8  div, 0xFEFF, 0xFF, 0
    MD16 div, 0x0001, 0x0000, 0x0002, 0
    MD16 div, 0x1234, 0x5678, 0x5678, 0
    MD32 div, 1, 0, 2, 0
    MD32 div, 0x12345678, 0x9ABCDEF0, 0x87654321, 0
    MD8  idiv, 0xFFF9, 0x02, 0
    MD8  idiv, 0x0007, 0xFE, 0
    MD8  idiv, 0xFF80, 0x01, 0
    MD16 idiv, 0xFFFF, 0x8000, 0x0100, 0
    MD16 idiv, 0x0000, 0x7FFF, 0xFFFF, 0
    MD32 idiv, 0xFFFFFFFF, 0x80000000, 2, 0
    MD32 idiv, 0, 100, -7, 0
    MD32 idiv, 0xFFFFFFFF, 0xFFFFFF9C, 7, 0
    DATAPTR ebx
    mov dword [ebx], 10
    mov edx, 0
    mov eax, 1000001
    div dword [ebx]
    T "div m32=10 edx:eax=0:1000001"
    V32 "edx", edx
    V32 "eax", eax
    F 0

; ------------------------------------------------------------ SHL/SHR/SAR
    SH  shl, al, 0x81, 0, FLALL, ALL
    SH  shl, al, 0x81, 1, FL0, LOGIC
    SH  shl, al, 0x41, 1, FLC, LOGIC
    SH  shl, al, 0x81, 3, FL0, SZPC
    SHC shl, al, 0x81, 7, FL0, SZPC
    SHC shl, al, 0x81, 10, FL0, SZP
    SHC shl, al, 0x81, 33, FL0, LOGIC
    SHC shl, al, 0x81, 32, FLALL, ALL
    SHC shl, al, 0x81, 0, FLC, ALL
    SH  shl, ax, 0x8001, 1, FL0, LOGIC
    SHC shl, ax, 0x4001, 15, FL0, SZPC
    SHC shl, ax, 0xFFFF, 20, FL0, SZP
    SH  shl, eax, 0x80000001, 1, FL0, LOGIC
    SHC shl, eax, 0x12345678, 4, FL0, SZPC
    SHC shl, eax, 0x12345678, 36, FL0, SZPC
    SHC shl, eax, 0x12345679, 31, FL0, SZPC
    SH  sal, eax, 0x40000000, 1, FL0, LOGIC
    SH  shr, al, 0x81, 1, FL0, LOGIC
    SH  shr, al, 0x80, 7, FL0, SZPC
    SHC shr, al, 0xFF, 9, FL0, SZP
    SH  shr, ax, 0x8001, 1, FL0, LOGIC
    SHC shr, ax, 0x8000, 15, FL0, SZPC
    SHC shr, eax, 0x80000000, 31, FL0, SZPC
    SHC shr, eax, 0xFFFFFFFF, 33, FL0, LOGIC
    SHC shr, eax, 0xFFFFFFFF, 0x40, FLALL, ALL
    SH  sar, al, 0x81, 1, FL0, LOGIC
    SH  sar, al, 0x7E, 1, FLALL, LOGIC
    SHC sar, al, 0x81, 10, FL0, SZPC
    SHC sar, al, 0x41, 9, FLC, SZPC
    SH  sar, ax, 0x4000, 1, FL0, LOGIC
    SHC sar, ax, 0x8000, 15, FL0, SZPC
    SHC sar, ax, 0x8000, 31, FL0, SZPC
    SHC sar, eax, 0x80000000, 31, FL0, SZPC
    SHC sar, eax, 0x7FFFFFFF, 30, FL0, SZPC
    SHC sar, eax, 0x80000001, 33, FL0, LOGIC
    DATAPTR ebx
    mov dword [ebx], 0x00000003
    SETF FL0
    shr dword [ebx], 1
    T "shr m32=3,1"
    V32 "m32", dword [ebx]
    F LOGIC

; ------------------------------------------------------------ ROL/ROR/RCL/RCR
    SH  rol, al, 0x81, 1, FL0, ALL
    SH  rol, al, 0x81, 1, FLALL, ALL
    SH  rol, al, 0x41, 1, FL0, ALL
    SHC rol, al, 0x81, 4, FL0, NOO
    SHC rol, al, 0x81, 8, FL0, NOO
    SHC rol, al, 0x80, 16, FLC, NOO
    SHC rol, al, 0x81, 9, FL0, NOO
    SHC rol, al, 0x81, 32, FLALL, ALL
    SH  rol, ax, 0x8001, 1, FL0, ALL
    SHC rol, ax, 0x1234, 16, FLC, NOO
    SHC rol, ax, 0x1234, 20, FL0, NOO
    SH  rol, eax, 0x12345678, 8, FL0, NOO
    SHC rol, eax, 0x12345678, 36, FL0, NOO
    SH  ror, al, 0x81, 1, FL0, ALL
    SH  ror, al, 0x02, 1, FLALL, ALL
    SHC ror, al, 0x01, 8, FL0, NOO
    SHC ror, al, 0x01, 9, FL0, NOO
    SH  ror, ax, 0x0001, 1, FL0, ALL
    SHC ror, ax, 0x8000, 16, FLC, NOO
    SHC ror, eax, 0x12345678, 4, FL0, NOO
    SHC ror, eax, 0x12345678, 68, FL0, NOO
    SHC ror, eax, 0x12345678, 0, FLALL, ALL
    SH  rcl, al, 0x81, 1, FL0, ALL
    SH  rcl, al, 0x81, 1, FLC, ALL
    SH  rcl, al, 0x40, 1, FLALL, ALL
    SHC rcl, al, 0x81, 4, FLC, NOO
    SHC rcl, al, 0x81, 9, FLC, NOO
    SHC rcl, al, 0x81, 10, FL0, NOO
    SHC rcl, al, 0x81, 18, FL0, NOO
    SHC rcl, ax, 0x8000, 17, FLC, NOO
    SHC rcl, ax, 0x8000, 16, FL0, NOO
    SHC rcl, ax, 0x1234, 5, FLC, NOO
    SH  rcl, eax, 0x80000000, 1, FL0, ALL
    SHC rcl, eax, 0x12345678, 33, FLC, ALL
    SHC rcl, eax, 0x12345678, 31, FLC, NOO
    SHC rcl, eax, 0x12345678, 32, FLALL, ALL
    SH  rcr, al, 0x01, 1, FL0, ALL
    SH  rcr, al, 0x01, 1, FLC, ALL
    SH  rcr, al, 0x80, 1, FL0, ALL
    SHC rcr, al, 0x81, 9, FLC, NOO
    SHC rcr, al, 0x81, 5, FL0, NOO
    SHC rcr, al, 0x81, 27, FLC, NOO
    SHC rcr, ax, 0x0001, 17, FL0, NOO
    SHC rcr, ax, 0x1234, 3, FLC, NOO
    SHC rcr, eax, 0x00000001, 1, FLC, ALL
    SHC rcr, eax, 0x12345678, 8, FLC, NOO
    SHC rcr, eax, 0x12345678, 0x20, FLALL, ALL
    DATAPTR ebx
    mov word [ebx], 0x8001
    SETF FL0
    rol word [ebx], 1
    T "rol m16=0x8001,1"
    V16 "m16", word [ebx]
    F ALL

; ------------------------------------------------------------ SHLD/SHRD
    DSHI shld, ax, 0x1234, bx, 0x5678, 4, FL0, SZPC
    DSH  shld, ax, 0x8001, bx, 0x8000, 1, FL0, LOGIC
    DSH  shld, ax, 0x1234, bx, 0x5678, 16, FL0, SZPC
    DSH  shld, ax, 0x1234, bx, 0x5678, 0, FLALL, ALL
    DSH  shld, ax, 0x1234, bx, 0x5678, 32, FLALL, ALL
    DSHI shld, eax, 0x12345678, ebx, 0x9ABCDEF0, 8, FL0, SZPC
    DSH  shld, eax, 0x12345678, ebx, 0x9ABCDEF0, 36, FL0, SZPC
    DSH  shld, eax, 0x80000000, ebx, 0, 33, FL0, LOGIC
    DSH  shld, eax, 0x12345678, ebx, 0x9ABCDEF0, 31, FL0, SZPC
    DSH  shld, eax, 0x12345678, ebx, 0x9ABCDEF0, 0, FLALL, ALL
    DSHI shrd, ax, 0x1234, bx, 0x5678, 4, FL0, SZPC
    DSH  shrd, ax, 0x0001, bx, 0x0000, 1, FL0, LOGIC
    DSH  shrd, ax, 0x1234, bx, 0x5678, 16, FL0, SZPC
    DSH  shrd, ax, 0x1234, bx, 0x5678, 0x40, FLALL, ALL
    DSHI shrd, eax, 0x12345678, ebx, 0x9ABCDEF0, 8, FL0, SZPC
    DSH  shrd, eax, 0x00000001, ebx, 0x00000001, 33, FL0, LOGIC
    DSH  shrd, eax, 0x12345678, ebx, 0x9ABCDEF0, 31, FL0, SZPC
    DSH  shrd, eax, 0x80000000, ebx, 0x7FFFFFFF, 1, FL0, LOGIC
    DATAPTR ebx
    mov dword [ebx], 0x11223344
    mov eax, 0xAABBCCDD
    SETF FL0
    shld [ebx], eax, 8
    T "shld m32=0x11223344,eax=0xAABBCCDD,8"
    V32 "m32", dword [ebx]
    F SZPC
    mov word [ebx], 0x0001
    mov ax, 0x8000
    mov cl, 1
    SETF FL0
    shrd [ebx], ax, cl
    T "shrd m16=0x0001,ax=0x8000,cl=1"
    V16 "m16", word [ebx]
    F LOGIC

; ------------------------------------------------------------ BT/BTS/BTR/BTC/BSF/BSR
%define BTM (CF_|ZF_)
    SH  bt, ax, 0x0010, 4, FL0, BTM
    SH  bt, ax, 0x0010, 20, FLZ, BTM
    SH  bt, ax, 0x0010, 3, FLALL, BTM
    A2R bt, eax, 0x80000000, ecx, 63, FL0, BTM
    SH  bts, ax, 0x0000, 15, FLZ, BTM
    SH  bts, eax, 0x00000001, 0, FLC, BTM
    SH  btr, eax, 0xFFFFFFFF, 31, FL0, BTM
    A2R btr, ax, 0x0100, cx, 0x0018, FL0, BTM
    A2R btc, eax, 0x0F0F0F0F, ecx, 36, FL0, BTM
    SH  btc, ax, 0x8000, 15, FLZ, BTM
    ; bit strings in memory: bytes 00 01 02 .. 0F at [ebx]
    DATAPTR ebx
    mov dword [ebx], 0x03020100
    mov dword [ebx+4], 0x07060504
    mov dword [ebx+8], 0x0B0A0908
    mov dword [ebx+12], 0x0F0E0D0C
    mov ecx, 34
    SETF FL0
    bt dword [ebx], ecx
    T "bt m32[0..15],ecx=34"
    F BTM
    mov ecx, -1
    SETF FLZ
    bts dword [ebx+8], ecx
    T "bts m32[+8],ecx=-1"
    V32 "m32[+4]", dword [ebx+4]
    F BTM
    mov cx, 34
    SETF FL0
    btr word [ebx], cx
    T "btr m16[0],cx=34"
    V32 "m32[+4]", dword [ebx+4]
    F BTM
    mov ecx, 0x7F
    SETF FL0
    btc dword [ebx], ecx
    T "btc m32[0],ecx=0x7F"
    V32 "m32[+12]", dword [ebx+12]
    F BTM
    SETF FL0
    bt dword [ebx], 8
    T "bt m32[0],8"
    F BTM
    SETF FL0
    bts word [ebx+2], 3
    T "bts m16[+2],3"
    V32 "m32[0]", dword [ebx]
    F BTM
    ; BSF/BSR: ZF only; the destination is undefined for a zero source (not shown)
    A2R bsf, ax, 0x1111, bx, 0x8000, FL0, ZF_
    A2R bsf, eax, 0x11111111, ebx, 0x00010100, FLZ, ZF_
    A2R bsf, eax, 0x11111111, ebx, 0xFFFFFFFF, FL0, ZF_
    A2R bsr, eax, 0x11111111, ebx, 0x00010100, FLZ, ZF_
    A2R bsr, ax, 0x1111, bx, 0x0001, FL0, ZF_
    A2R bsr, eax, 0x11111111, ebx, 0x80000001, FL0, ZF_
    mov ebx, 0
    SETF FL0
    bsf eax, ebx
    T "bsf eax,ebx=0"
    F ZF_
    mov bx, 0
    SETF FL0
    bsr ax, bx
    T "bsr ax,bx=0"
    F ZF_
    DATAPTR ebx
    mov dword [ebx], 0x00400000
    SETF FLZ
    bsf ecx, dword [ebx]
    T "bsf ecx,m32=0x00400000"
    VR ecx
    F ZF_

; ------------------------------------------------------------ BCD
    BCD add, 0x0079, 0x35, daa
    F SZAPC
    BCD add, 0x0038, 0x45, daa
    F SZAPC
    BCD add, 0x0099, 0x01, daa
    F SZAPC
    BCD add, 0x0009, 0x08, daa
    F SZAPC
    BCD add, 0x0050, 0x50, daa
    F SZAPC
    BCD sub, 0x0035, 0x47, das
    F SZAPC
    BCD sub, 0x0010, 0x01, das
    F SZAPC
    BCD sub, 0x0000, 0x01, das
    F SZAPC
    BCD sub, 0x0045, 0x45, das
    F SZAPC
    BCD sub, 0x0080, 0x01, das
    F SZAPC
    BCD add, 0x0009, 0x08, aaa
    F AF_|CF_
    BCD add, 0x0005, 0x03, aaa
    F AF_|CF_
    BCD add, 0x00FA, nop, aaa
    F AF_|CF_
    BCD add, 0x0339, 0x39, aaa
    F AF_|CF_
    BCD sub, 0x0102, 0x05, aas
    F AF_|CF_
    BCD sub, 0x0208, 0x03, aas
    F AF_|CF_
    mov ax, 0x0203
    SETF 0x0012
    aas
    T "aas ax=0x0203 af=1"
    V16 "ax", ax
    F AF_|CF_
    BCD add, 0x0041, nop, aam
    F SZP
    BCD add, 0x005A, nop, {aam 16}
    F SZP
    BCD add, 0x1200, nop, aam
    F SZP
    BCD add, 0x00FF, nop, aam
    F SZP
    BCD add, 0x0605, nop, aad
    F SZP
    BCD add, 0x050A, nop, {aad 16}
    F SZP
    BCD add, 0x1909, nop, aad
    F SZP
    BCD add, 0x0000, nop, aad
    F SZP

; ------------------------------------------------------------ CBW/CWD/CWDE/CDQ
    mov eax, 0x12345680
    SETF FLALL
    cbw
    T "cbw eax=0x12345680"
    VR eax
    F ALL
    mov eax, 0x1234567F
    SETF FL0
    cbw
    T "cbw eax=0x1234567F"
    VR eax
    F ALL
    mov edx, 0x12345678
    mov ax, 0x8000
    SETF FL0
    cwd
    T "cwd ax=0x8000"
    VR edx
    F ALL
    mov edx, 0x12345678
    mov ax, 0x7FFF
    SETF FLALL
    cwd
    T "cwd ax=0x7FFF"
    VR edx
    F ALL
    mov eax, 0x12348000
    SETF FL0
    cwde
    T "cwde eax=0x12348000"
    VR eax
    F ALL
    mov eax, 0xFFFF7FFF
    SETF FL0
    cwde
    T "cwde eax=0xFFFF7FFF"
    VR eax
    F ALL
    mov edx, 0x12345678
    mov eax, 0x80000000
    SETF FL0
    cdq
    T "cdq eax=0x80000000"
    VR edx
    F ALL
    mov edx, 0x12345678
    mov eax, 0x00000001
    SETF FLALL
    cdq
    T "cdq eax=0x00000001"
    VR edx
    F ALL

; ------------------------------------------------------------ XCHG/XADD/CMPXCHG/BSWAP
    mov eax, 0x11111111
    mov ebx, 0x22222222
    SETF FLALL
    xchg eax, ebx
    T "xchg eax,ebx"
    VR eax
    VR ebx
    F ALL
    mov ax, 0x1234
    SETF FL0
    xchg al, ah
    T "xchg al,ah ax=0x1234"
    VR ax
    F ALL
    mov ax, 0x1111
    mov cx, 0x2222
    SETF FL0
    xchg cx, ax
    T "xchg cx,ax"
    VR ax
    VR cx
    F ALL
    DATAPTR ebx
    mov dword [ebx], 0xAAAAAAAA
    mov ecx, 0x55555555
    SETF FLC
    xchg [ebx], ecx
    T "xchg m32,ecx"
    V32 "m32", dword [ebx]
    VR ecx
    F ALL
    A2R xadd, al, 0xFF, bl, 0x01, FL0, ALL
    A2R xadd, ax, 0x7FFF, bx, 0x0001, FL0, ALL
    A2R xadd, eax, 0x80000000, ebx, 0x80000000, FL0, ALL
    DATAPTR ebx
    mov dword [ebx], 5
    mov ecx, 7
    SETF FLC
    xadd [ebx], ecx
    T "xadd m32=5,ecx=7"
    V32 "m32", dword [ebx]
    VR ecx
    F ALL
    mov al, 0x10
    mov bl, 0x10
    mov cl, 0x22
    SETF FL0
    cmpxchg bl, cl
    T "cmpxchg bl=0x10,cl=0x22 al=0x10"
    VR al
    VR bl
    F ALL
    mov al, 0x10
    mov bl, 0x20
    mov cl, 0x22
    SETF FL0
    cmpxchg bl, cl
    T "cmpxchg bl=0x20,cl=0x22 al=0x10"
    VR al
    VR bl
    F ALL
    mov ax, 0x8000
    mov dx, 0x0001
    mov cx, 0x3333
    SETF FL0
    cmpxchg dx, cx
    T "cmpxchg dx=0x0001,cx=0x3333 ax=0x8000"
    VR ax
    VR dx
    F ALL
    DATAPTR ebx
    mov dword [ebx], 0x12345678
    mov eax, 0x12345678
    mov ecx, 0xCAFEF00D
    SETF FLC
    cmpxchg [ebx], ecx
    T "cmpxchg m32=0x12345678,ecx=0xCAFEF00D eax=0x12345678"
    VR eax
    V32 "m32", dword [ebx]
    F ALL
    mov eax, 1
    mov ecx, 2
    mov edx, 3
    SETF FL0
    cmpxchg ecx, edx
    T "cmpxchg ecx=2,edx=3 eax=1"
    VR eax
    VR ecx
    F ALL
    mov eax, 0x12345678
    SETF FLALL
    bswap eax
    T "bswap eax=0x12345678"
    VR eax
    F ALL
    mov esi, 0x80000001
    SETF FL0
    bswap esi
    T "bswap esi=0x80000001"
    VR esi
    F ALL

; ------------------------------------------------------------ MOVZX/MOVSX
    mov eax, 0xFFFFFFFF
    mov bl, 0x80
    SETF FLALL
    movzx ax, bl
    T "movzx ax,bl=0x80"
    VR eax
    F ALL
    mov bl, 0x80
    movzx eax, bl
    T "movzx eax,bl=0x80"
    VR eax
    F 0
    mov bx, 0x8000
    movzx eax, bx
    T "movzx eax,bx=0x8000"
    VR eax
    F 0
    mov eax, 0x12345678
    mov bl, 0x80
    movsx ax, bl
    T "movsx ax,bl=0x80"
    VR eax
    F 0
    mov bl, 0x80
    movsx eax, bl
    T "movsx eax,bl=0x80"
    VR eax
    F 0
    mov bx, 0x7FFF
    movsx eax, bx
    T "movsx eax,bx=0x7FFF"
    VR eax
    F 0
    DATAPTR ebx
    mov word [ebx], 0x9234
    movsx ecx, word [ebx]
    movzx edx, byte [ebx+1]
    T "movsx ecx,m16=0x9234 / movzx edx,m8=0x92"
    VR ecx
    VR edx
    F 0

; ------------------------------------------------------------ SETcc/Jcc/CMOVcc (bit i = cc i: o no b nb e ne be a s ns p np l ge le g)
    CCTEST FL0
    CCTEST FLALL
    CCTEST 0x0802
    CCTEST 0x0082
    CCTEST 0x0882
    CCTEST 0x00C2
    CCTEST 0x0043
    CCTEST 0x0006
    mov ax, 0x1111
    mov bx, 0x2222
    SETF FLZ
    cmovz ax, bx
    T "cmovz ax=0x1111,bx=0x2222 zf=1"
    VR ax
    F ALL
    mov ax, 0x1111
    SETF FL0
    cmovz ax, bx
    T "cmovz ax=0x1111,bx=0x2222 zf=0"
    VR ax
    F ALL
    DATAPTR ebx
    mov dword [ebx], 0xDEADBEEF
    mov eax, 0x01234567
    SETF FLC
    cmovc eax, [ebx]
    T "cmovc eax,m32 cf=1"
    VR eax
    F ALL

; ------------------------------------------------------------ LAHF/SAHF
    mov eax, 0
    SETF FLALL
    lahf
    T "lahf fl=all"
    VR ah
    F ALL
    mov eax, 0xFFFFFFFF
    SETF FL0
    lahf
    T "lahf fl=0"
    VR eax
    F ALL
    mov ah, 0xFF
    SETF 0x0802
    sahf
    T "sahf ah=0xFF of=1"
    F ALL
    mov ah, 0x00
    SETF FLALL
    sahf
    T "sahf ah=0x00 fl=all"
    F ALL
    mov ah, 0x41
    SETF FL0
    sahf
    T "sahf ah=0x41"
    F ALL
;@native-end

; ==================================================================== real mode only
; RAM variables (SS-relative, SS=0)
%define INTV    0x600
%define INTIP   0x602
%define INTCS   0x604
%define INTFL   0x606
%define INTFLIN 0x608
%define INTSKIP 0x60A
%define INTORFL 0x60C
%define INTAX   0x60E
%define SCR     0x620           ; scratch words in segment 0
%define SPSAVE  0x610           ; ESP captured before a result line

; DUMPES "label", off, count : print " label=" and count bytes at ES:off
%macro DUMPES 3
    push di
    push cx
    mov di, %2
    mov cx, %3
    PUTS16 " ", %1, "="
    call dump_es
    pop cx
    pop di
%endmacro
; DUMPSS "label", off, count : the same for SS:off
%macro DUMPSS 3
    push es
    push ss
    pop es
    DUMPES %1, %2, %3
    pop es
%endmacro

; ------------------------------------------------------------ XLAT / LEA / LDS..LSS
    mov bx, xlat_tab
    mov al, 3
    SETF FLALL
    cs xlatb
    T "xlat cs:[bx+3]"
    VR al
    F ALL
    mov byte [0x01FF], 0x5C
    mov bx, 0x0100
    mov ax, 0x12FF
    xlatb
    T "xlat ds:[bx+0xFF] ah=0x12"
    VR ax
    F 0
    mov bx, 0xFFF0
    mov si, 0x0020
    mov eax, 0xFFFFFFFF
    lea ax, [bx+si+0x10]
    T "lea ax,[bx+si+0x10] bx=0xFFF0,si=0x0020 (16-bit wrap)"
    VR eax
    F 0
    mov bp, 0x0001
    mov di, 0x0001
    lea cx, [bp+di-3]
    T "lea cx,[bp+di-3] bp=1,di=1"
    VR cx
    F 0
    mov ebx, 0x12345678
    mov ecx, 0x11111111
    lea eax, [ebx+ecx*4+0x100]
    T "lea eax,[ebx+ecx*4+0x100]"
    VR eax
    F 0
    mov eax, 0xFFFFFFFF
    lea ax, [ebx+ecx*8]
    T "lea ax,[ebx+ecx*8] (32-bit address, 16-bit operand)"
    VR eax
    F 0
    mov bx, 0xFFFF
    mov si, 0x0003
    mov eax, 0xFFFFFFFF
    lea eax, [bx+si]
    T "lea eax,[bx+si] bx=0xFFFF,si=3 (16-bit address, 32-bit operand)"
    VR eax
    F 0
    ; far pointers
    mov word [0x180], 0x1234
    mov word [0x182], 0x3000
    mov dword [0x184], 0x00005678
    mov word [0x188], 0x3456
    push ds
    lds si, [0x180]
    mov ax, ds
    pop ds
    T "lds si,m16:16"
    VR si
    VR ax
    F 0
    push es
    les edi, [0x184]
    mov ax, es
    pop es
    T "les edi,m16:32"
    VR edi
    VR ax
    F 0
    lfs bx, [0x180]
    lgs cx, [0x180]
    mov ax, fs
    mov dx, gs
    T "lfs bx / lgs cx"
    VR bx
    VR cx
    VR ax
    VR dx
    F 0
    mov word [0x190], 0x7000
    mov word [0x192], 0x0000
    mov bp, sp
    lss sp, [0x190]
    mov ax, sp
    mov dx, ss
    mov sp, bp
    T "lss sp,m16:16"
    VR ax
    VR dx
    F 0

; ------------------------------------------------------------ string instructions
    ; source pattern 10 11 .. 2F at DS:0200
    mov si, 0x200
    mov al, 0x10
.fill:
    mov [si], al
    inc si
    inc al
    cmp al, 0x30
    jne .fill
    ; clear ES:0000-00FF
    xor di, di
    mov cx, 0x80
    xor ax, ax
    rep stosw
    mov si, 0x200
    mov di, 0x000
    mov cx, 5
    SETF FLALL
    rep movsb
    T "rep movsb df=0 cx=5"
    VR si
    VR di
    VR cx
    DUMPES "es:0", 0, 6
    F ALL
    std
    mov si, 0x20E
    mov di, 0x01E
    mov cx, 3
    rep movsw
    cld
    T "rep movsw df=1 cx=3 si=0x20E di=0x1E"
    VR si
    VR di
    VR cx
    DUMPES "es:18", 0x18, 8
    F 0
    mov esi, 0x200
    mov edi, 0x40
    mov ecx, 4
    a32 rep movsd
    T "a32 rep movsd ecx=4"
    VR esi
    VR edi
    VR ecx
    DUMPES "es:40", 0x40, 16
    F 0
    mov si, 0x210
    mov di, 0x50
    movsd
    T "movsd (16-bit address)"
    VR si
    VR di
    DUMPES "es:50", 0x50, 4
    F 0
    mov di, 0x60
    mov al, 0xAA
    mov cx, 3
    rep stosb
    mov ax, 0x1234
    mov cx, 2
    rep stosw
    std
    mov di, 0x78
    mov eax, 0xDEADBEEF
    mov cx, 2
    rep stosd
    cld
    T "rep stosb/stosw, std rep stosd"
    VR di
    DUMPES "es:60", 0x60, 0x20
    F 0
    mov si, 0x200
    lodsb
    T "lodsb"
    VR al
    VR si
    F 0
    lodsw
    T "lodsw"
    VR ax
    VR si
    F 0
    lodsd
    T "lodsd"
    VR eax
    VR si
    F 0
    std
    lodsb
    cld
    T "std lodsb"
    VR al
    VR si
    F 0
    mov si, 0x200
    mov cx, 3
    rep lodsb
    T "rep lodsb cx=3"
    VR al
    VR si
    VR cx
    F 0
    mov si, 0x200
    mov cx, 0
    mov al, 0x77
    rep lodsb
    T "rep lodsb cx=0"
    VR al
    VR si
    F 0
    ; compare strings: DS:0300 "ABCDE", ES:0100 "ABXDE", ES:0110 "XYCZZ", ES:0120 "ABCDE"
    mov dword [0x300], 'ABCD'
    mov byte [0x304], 'E'
    mov dword [es:0x100], 'ABXD'
    mov byte [es:0x104], 'E'
    mov dword [es:0x110], 'XYCZ'
    mov byte [es:0x114], 'Z'
    mov dword [es:0x120], 'ABCD'
    mov byte [es:0x124], 'E'
    mov si, 0x300
    mov di, 0x100
    mov cx, 5
    SETF FL0
    repe cmpsb
    T "repe cmpsb ABCDE/ABXDE"
    VR si
    VR di
    VR cx
    F ALL
    mov si, 0x300
    mov di, 0x110
    mov cx, 5
    SETF FL0
    repne cmpsb
    T "repne cmpsb ABCDE/XYCZZ"
    VR si
    VR di
    VR cx
    F ALL
    mov si, 0x300
    mov di, 0x120
    mov cx, 5
    SETF FL0
    repe cmpsb
    T "repe cmpsb ABCDE/ABCDE"
    VR si
    VR di
    VR cx
    F ALL
    mov si, 0x300
    mov di, 0x100
    mov cx, 0
    SETF FLALL
    repe cmpsb
    T "repe cmpsb cx=0"
    VR si
    VR di
    F ALL
    mov si, 0x300
    mov di, 0x100
    SETF FL0
    cmpsw
    T "cmpsw AB/AB"
    VR si
    VR di
    F ALL
    mov si, 0x300
    mov di, 0x100
    SETF FL0
    cmpsd
    T "cmpsd ABCD/ABXD"
    VR si
    VR di
    F ALL
    std
    mov si, 0x304
    mov di, 0x104
    mov cx, 5
    SETF 0x0402
    repe cmpsb
    cld
    T "std repe cmpsb from the end ABCDE/ABXDE"
    VR si
    VR di
    VR cx
    F ALL
    mov di, 0x100
    mov cx, 5
    mov al, 'D'
    SETF FL0
    repne scasb
    T "repne scasb 'D' in ABXDE"
    VR di
    VR cx
    F ALL
    mov di, 0x100
    mov cx, 5
    mov al, 'Q'
    SETF FL0
    repne scasb
    T "repne scasb 'Q' in ABXDE"
    VR di
    VR cx
    F ALL
    mov di, 0x100
    mov cx, 2
    mov ax, 'AB'
    SETF FL0
    repe scasw
    T "repe scasw 'AB' in ABXDE"
    VR di
    VR cx
    F ALL
    mov di, 0x100
    mov eax, 'ABXC'
    SETF FL0
    scasd
    T "scasd 'ABXC' vs ABXD"
    VR di
    F ALL
    ; segment overrides on the source
    mov ax, 0x3000
    mov fs, ax
    mov dword [fs:0x10], 0x44332211
    mov si, 0x10
    mov di, 0xA0
    mov cx, 4
    fs rep movsb
    T "fs rep movsb"
    VR si
    DUMPES "es:A0", 0xA0, 4
    F 0
    mov si, xlat_tab
    cs lodsw
    T "cs lodsw"
    VR ax
    F 0
    mov si, 0x100
    es lodsb
    T "es lodsb"
    VR al
    F 0
    mov si, 0x10
    mov di, 0x100
    SETF FL0
    fs cmpsb
    T "fs cmpsb 0x11/'A'"
    VR si
    VR di
    F ALL
    mov di, 0xB0
    mov al, 0x99
    fs stosb
    T "fs stosb (override ignored, stores to es)"
    DUMPES "es:B0", 0xB0, 1
    F 0
    ; 16-bit offset wrap (byte accesses only)
    mov byte [0xFFFE], 0xE1
    mov byte [0xFFFF], 0xE2
    mov byte [0x0000], 0xE3
    mov byte [0x0001], 0xE4
    mov si, 0xFFFF
    lodsb
    T "lodsb si=0xFFFF"
    VR al
    VR esi
    F 0
    mov si, 0xFFFE
    mov di, 0xC0
    mov cx, 4
    rep movsb
    T "rep movsb si=0xFFFE cx=4"
    VR si
    DUMPES "es:C0", 0xC0, 4
    F 0
    mov di, 0xFFFF
    mov al, 0x5A
    stosb
    T "stosb di=0xFFFF"
    VR edi
    F 0
    std
    mov si, 0x0000
    lodsb
    cld
    T "std lodsb si=0"
    VR al
    VR esi
    F 0
    mov esi, 0xFFFF
    a32 lodsb
    T "a32 lodsb esi=0xFFFF"
    VR al
    VR esi
    F 0

; ------------------------------------------------------------ PUSH/POP
    mov esp, 0x7000
    push byte -2
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "push imm8 -2"
    V16 "sp", [ss:SPSAVE]
    V16 "[sp]", [bp]
    F 0
    mov sp, 0x7000
    push dword -2
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "o32 push imm8 -2"
    V16 "sp", [ss:SPSAVE]
    V32 "[sp]", [bp]
    F 0
    mov sp, 0x7000
    push word 0x1234
    push dword 0x89ABCDEF
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "push imm16, push imm32"
    V16 "sp", [ss:SPSAVE]
    V32 "[sp]", [bp]
    V16 "[sp+4]", [bp+4]
    F 0
    mov sp, 0x7000
    mov eax, 0x11112222
    push ax
    push eax
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "push ax, push eax"
    V16 "sp", [ss:SPSAVE]
    DUMPSS "stack", 0x6FFA, 6
    F 0
    mov sp, 0x7000
    mov word [0x1A0], 0xBEEF
    mov dword [0x1A4], 0xFEEDFACE
    push word [0x1A0]
    push dword [0x1A4]
    pop word [0x1A8]
    pop dword [0x1AA]
    mov [ss:SPSAVE], esp
    T "push m16, push m32, pop m16, pop m32"
    V16 "sp", [ss:SPSAVE]
    V16 "m16", [0x1A8]
    V32 "m32", [0x1AA]
    F 0
    mov sp, 0x7000
    push sp
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "push sp (sp=0x7000)"
    V16 "sp", [ss:SPSAVE]
    V16 "[sp]", [bp]
    F 0
    mov esp, 0x7000
    push esp
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "o32 push esp (esp=0x7000)"
    V32 "esp", [ss:SPSAVE]
    V32 "[sp]", [bp]
    F 0
    mov sp, 0x7000
    push word 0x6000
    pop sp
    mov [ss:SPSAVE], esp
    T "pop sp ([sp]=0x6000)"
    V16 "sp", [ss:SPSAVE]
    F 0
    mov esp, 0x7000
    push word 0x1111
    push word 0x2222
    push word 0x3333
    pop word [esp]
    pop ax
    mov [ss:SPSAVE], esp
    T "pop word [esp] (address computed after the pop)"
    V32 "esp", [ss:SPSAVE]
    VR ax
    F 0
    mov sp, 0x7000
    mov ax, 0x4000
    mov fs, ax
    push cs
    push ds
    push es
    push ss
    push fs
    push gs
    mov [ss:SPSAVE], esp
    T "push cs ds es ss fs gs"
    V16 "sp", [ss:SPSAVE]
    DUMPSS "stack", 0x6FF4, 12
    F 0
    pop fs                      ; fs <- old gs
    pop gs                      ; gs <- old fs
    add sp, 2
    pop es
    pop ds
    add sp, 2
    mov ax, fs
    mov dx, gs
    T "pop fs, pop gs (swapped), es, ds"
    VR ax
    VR dx
    F 0
    mov sp, 0x7000
    mov ax, 0x3000
    mov gs, ax
    push dword 0xFFFFFFFF
    pop eax
    o32 push gs
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "o32 push gs (low word; upper word not compared)"
    V16 "sp", [ss:SPSAVE]
    V16 "[sp]", [bp]
    F 0
    o32 pop fs
    mov ax, fs
    mov [ss:SPSAVE], esp
    T "o32 pop fs"
    V16 "sp", [ss:SPSAVE]
    VR ax
    F 0
    ; PUSHA/POPA
    mov sp, 0x7000
    mov ax, 0x0001
    mov cx, 0x0002
    mov dx, 0x0003
    mov bx, 0x0004
    mov bp, 0x0006
    mov si, 0x0007
    mov di, 0x0008
    pusha
    mov [ss:SPSAVE], esp
    T "pusha"
    V16 "sp", [ss:SPSAVE]
    DUMPSS "stack", 0x6FF0, 16
    F 0
    mov bp, sp
    mov word [bp+6], 0x1234       ; the SP slot: ignored by POPA
    mov word [bp+0], 0x0080       ; new DI
    xor ax, ax
    xor cx, cx
    xor dx, dx
    xor bx, bx
    xor si, si
    popa
    mov [ss:SPSAVE], esp
    T "popa"
    V16 "sp", [ss:SPSAVE]
    VR ax
    VR cx
    VR dx
    VR bx
    VR bp
    VR si
    VR di
    F 0
    mov esp, 0x7000
    mov eax, 0xA0000001
    mov ecx, 0xA0000002
    mov edx, 0xA0000003
    mov ebx, 0xA0000004
    mov ebp, 0xA0000006
    mov esi, 0xA0000007
    mov edi, 0xA0000008
    pushad
    mov [ss:SPSAVE], esp
    T "pushad"
    V32 "esp", [ss:SPSAVE]
    DUMPSS "stack", 0x6FE0, 32
    F 0
    mov dword [ss:0x6FEC], 0x12345678
    xor eax, eax
    xor ebx, ebx
    xor ebp, ebp
    popad
    mov [ss:SPSAVE], esp
    T "popad"
    V32 "esp", [ss:SPSAVE]
    VR eax
    VR ebx
    VR ebp
    VR edi
    F 0
    mov esp, 0x7000
    ; PUSHF/POPF
    SETF FLALL
    pushf
    mov bp, sp
    mov [ss:SPSAVE], esp
    T "pushf fl=all"
    V16 "sp", [ss:SPSAVE]
    V16 "[sp]", [bp]
    F 0
    popf
    push word 0xFCFF
    popf
    pushf
    pop ax
    push word FL0                 ; DF back to 0 before printing
    popf
    T "popf 0xFCFF (TF, IF not set); pushf"
    VR ax
    F 0
    push dword 0x00240CD5
    popfd
    pushfd
    pop eax
    push dword FL0
    popfd
    T "popfd 0x00240CD5; pushfd (AC, ID)"
    VR eax
    F 0
    push dword 0x00000002
    popfd
    pushfd
    pop eax
    T "popfd 0x00000002; pushfd"
    VR eax
    F 0
    add sp, 4

; ------------------------------------------------------------ ENTER/LEAVE
    mov dword [ss:0x70F8], 0xDDDDCCCC
    mov dword [ss:0x70FC], 0xAAAABBBB
    mov esp, 0x7000
    mov ebp, 0x7100
    enter 8, 0
    mov [ss:SPSAVE], esp
    T "enter 8,0"
    V16 "sp", [ss:SPSAVE]
    VR bp
    DUMPSS "stack", 0x6FFE, 2
    F 0
    leave
    mov [ss:SPSAVE], esp
    T "leave"
    V16 "sp", [ss:SPSAVE]
    VR bp
    F 0
    enter 4, 1
    mov [ss:SPSAVE], esp
    T "enter 4,1"
    V16 "sp", [ss:SPSAVE]
    VR bp
    DUMPSS "stack", 0x6FFC, 4
    F 0
    leave
    enter 0, 3
    mov [ss:SPSAVE], esp
    T "enter 0,3"
    V16 "sp", [ss:SPSAVE]
    VR bp
    DUMPSS "stack", 0x6FF8, 8
    F 0
    leave
    mov [ss:SPSAVE], esp
    T "leave"
    V16 "sp", [ss:SPSAVE]
    VR bp
    F 0
    enter 2, 33
    mov [ss:SPSAVE], esp
    T "enter 2,33 (level mod 32 = 1)"
    V16 "sp", [ss:SPSAVE]
    VR bp
    DUMPSS "stack", 0x6FFC, 4
    F 0
    leave
    o32 enter 0, 2
    mov [ss:SPSAVE], esp
    T "o32 enter 0,2"
    V32 "esp", [ss:SPSAVE]
    VR ebp
    DUMPSS "stack", 0x6FF4, 12
    F 0
    o32 leave
    mov [ss:SPSAVE], esp
    T "o32 leave"
    V32 "esp", [ss:SPSAVE]
    VR ebp
    F 0

; ------------------------------------------------------------ LOOP/LOOPcc/JCXZ
    mov cx, 5
    xor edx, edx
.l1:
    inc edx
    loop .l1
    T "loop cx=5"
    VR edx
    VR cx
    F 0
    mov cx, 0
    xor edx, edx
.l2:
    inc edx
    loop .l2
    T "loop cx=0 (65536 iterations)"
    VR edx
    F 0
    mov ecx, 0x00010001
    xor edx, edx
.l3:
    inc edx
    loop .l3
    T "loop ecx=0x00010001 (cx only)"
    VR edx
    VR ecx
    F 0
    mov ecx, 0x00010001
    xor edx, edx
.l4:
    inc edx
    loop .l4, ecx
    T "a32 loop ecx=0x00010001"
    VR edx
    VR ecx
    F 0
    mov dword [0x1C0], 0x02010101
    mov dword [0x1C4], 0x07000605
    mov si, 0x1C0
    mov cx, 8
.l5:
    lodsb
    cmp al, 1
    loope .l5
    T "loope while byte==1 over 01 01 01 02 .."
    VR si
    VR cx
    F ZF_
    mov si, 0x1C4
    mov cx, 4
.l6:
    lodsb
    test al, al
    loopne .l6
    T "loopne until byte==0 over 05 06 00 07"
    VR si
    VR cx
    F ZF_
    mov cx, 1
    SETF FLZ
.l7:
    loope .l7
    T "loope cx=1 zf=1 (cx reaches 0)"
    VR cx
    F ALL
    mov ecx, 0x00010000
    mov ax, 1
    jcxz .j1
    mov ax, 0
.j1:
    T "jcxz ecx=0x00010000"
    V16 "taken", ax
    F 0
    mov ax, 1
    jecxz .j2
    mov ax, 0
.j2:
    T "jecxz ecx=0x00010000"
    V16 "taken", ax
    F 0

; ------------------------------------------------------------ CALL/RET/JMP
    mov esp, 0x7000
    call near_fn
.c1:
    mov [ss:SPSAVE], esp
    mov ax, [ss:SCR]
    sub ax, .c1
    T "call near rel"
    VR ax
    V16 "sp", [ss:SPSAVE]
    F 0
    mov bx, near_fn
    call bx
.c2:
    mov ax, [ss:SCR]
    sub ax, .c2
    T "call near bx"
    VR ax
    F 0
    mov word [0x1D0], near_fn
    call word [0x1D0]
.c3:
    mov ax, [ss:SCR]
    sub ax, .c3
    T "call near m16"
    VR ax
    F 0
    call ROM_SEG:far_fn
.c4:
    mov ax, [ss:SCR]
    sub ax, .c4
    mov [ss:SPSAVE], esp
    T "call far ptr16:16"
    VR ax
    V16 "cs", [ss:SCR+2]
    V16 "sp", [ss:SPSAVE]
    F 0
    mov word [0x1D2], far_fn
    mov word [0x1D4], ROM_SEG
    call far [0x1D2]
.c5:
    mov ax, [ss:SCR]
    sub ax, .c5
    T "call far m16:16"
    VR ax
    V16 "cs", [ss:SCR+2]
    F 0
    push word 0x1111
    push word 0x2222
    call ret4_fn
    mov [ss:SPSAVE], esp
    T "ret 4 (2 words pushed)"
    V16 "sp", [ss:SPSAVE]
    VR ax
    F 0
    push word 0x3333
    push word 0x4444
    push word 0x5555
    call ROM_SEG:retf6_fn
    mov [ss:SPSAVE], esp
    T "retf 6 (3 words pushed)"
    V16 "sp", [ss:SPSAVE]
    VR ax
    F 0
    call dword near32_fn
.c6:
    mov eax, [ss:SCR+4]
    sub eax, .c6
    mov [ss:SPSAVE], esp
    T "o32 call near (pushes eip)"
    VR eax
    V16 "sp", [ss:SPSAVE]
    F 0
    jmp ROM_SEG:.j3
    hlt
.j3:
    mov word [0x1D6], .j4
    mov word [0x1D8], ROM_SEG
    jmp far [0x1D6]
    hlt
.j4:
    mov bx, .j5
    jmp bx
    hlt
.j5:
    T "jmp far ptr / far m16:16 / near bx"
    F 0

; ------------------------------------------------------------ INT n / IRET / INT3 / INTO / faults
    ; install handlers in the IVT (0:0)
    push ds
    xor ax, ax
    mov ds, ax
    mov word [0x00*4], h_v0
    mov word [0x00*4+2], ROM_SEG
    mov word [0x03*4], h_v3
    mov word [0x03*4+2], ROM_SEG
    mov word [0x04*4], h_v4
    mov word [0x04*4+2], ROM_SEG
    mov word [0x06*4], h_v6
    mov word [0x06*4+2], ROM_SEG
    mov word [0x40*4], h_v40
    mov word [0x40*4+2], ROM_SEG
    pop ds
    mov word [ss:INTSKIP], 0
    mov word [ss:INTORFL], 0x0001
    mov ax, 0x1234
    SETF 0x0402
    int 0x40
.i1:
    pushf
    pop word [ss:SCR+10]        ; FLAGS after IRET (CF set by the handler)
    cld
    mov [ss:SCR+12], ax
    mov bx, .i1
    sub [ss:INTIP], bx
    T "int 0x40 df=1"
    call show_int
    V16 "ax.before", [ss:INTAX]
    V16 "ax.after", [ss:SCR+12]
    V16 "fl.after", [ss:SCR+10]
    F 0
    mov word [ss:INTORFL], 0
    SETF FL0
    int3
.i2:
    mov bx, .i2
    sub [ss:INTIP], bx
    T "int3"
    call show_int
    F 0
    SETF FL0
    int 3
.i3:
    mov bx, .i3
    sub [ss:INTIP], bx
    T "int 3 (CD 03)"
    call show_int
    F 0
    mov word [ss:INTV], 0xFFFF
    SETF FL0
    into
    T "into of=0"
    V16 "vec", [ss:INTV]
    F 0
    SETF 0x0802
    into
.i4:
    mov bx, .i4
    sub [ss:INTIP], bx
    T "into of=1"
    call show_int
    F 0
    mov word [ss:INTSKIP], 2
    mov ax, 0x1234
    mov bl, 0
    SETF FL0
.i5:
    div bl
    mov bx, .i5
    sub [ss:INTIP], bx
    T "div bl=0 (fault: ip at the div)"
    call show_int
    F 0
    mov word [ss:INTSKIP], 2
    SETF FLC
.i6:
    ud2
    mov bx, .i6
    sub [ss:INTIP], bx
    T "ud2 (fault)"
    call show_int
    F 0
    mov word [ss:INTSKIP], 0
    ; move the IVT with LIDT: a copy at 0:5000 whose vector 0x40 points to h_v3
    push ds
    push es
    xor ax, ax
    mov ds, ax
    mov es, ax
    xor si, si
    mov di, 0x5000
    mov cx, 0x200
    rep movsw
    mov word [0x5000+0x40*4], h_v3
    pop es
    pop ds
    lidt [cs:idt_moved]
    int 0x40
    lidt [cs:idt_real]
    T "int 0x40 with IDTR.base=0x5000"
    V16 "vec", [ss:INTV]
    F 0
    int 0x40
    T "int 0x40 with IDTR.base=0"
    V16 "vec", [ss:INTV]
    F 0

    PUTS16 "real_arith: done", 10
    EXIT 0

; ==================================================================== subroutines
near_fn:
    push bp
    mov bp, sp
    push ax
    mov ax, [bp+2]
    mov [ss:SCR], ax
    mov ax, sp
    pop ax
    pop bp
    ret
near32_fn:
    mov eax, [esp]
    mov [ss:SCR+4], eax
    o32 ret
far_fn:
    push bp
    mov bp, sp
    push ax
    mov ax, [bp+2]
    mov [ss:SCR], ax
    mov ax, [bp+4]
    mov [ss:SCR+2], ax
    pop ax
    pop bp
    retf
ret4_fn:
    mov bp, sp
    mov ax, [bp+2]            ; last pushed word
    ret 4
retf6_fn:
    mov bp, sp
    mov ax, [bp+8]            ; first pushed word
    retf 6

; interrupt handlers: record vector, stacked IP/CS/FLAGS and FLAGS inside the handler
h_v0:
    push word 0x00
    jmp h_common
h_v3:
    push word 0x03
    jmp h_common
h_v4:
    push word 0x04
    jmp h_common
h_v6:
    push word 0x06
    jmp h_common
h_v40:
    push word 0x40
    jmp h_common
h_common:
    push bp
    mov bp, sp
    push ax
    pushf
    pop ax
    mov [ss:INTFLIN], ax
    mov ax, [bp+2]
    mov [ss:INTV], ax
    mov ax, [bp+4]
    mov [ss:INTIP], ax
    mov ax, [bp+6]
    mov [ss:INTCS], ax
    mov ax, [bp+8]
    mov [ss:INTFL], ax
    mov ax, [ss:INTSKIP]
    add [bp+4], ax
    mov ax, [ss:INTORFL]
    or [bp+8], ax
    pop ax
    mov [ss:INTAX], ax
    mov ax, 0x5678              ; visible to the interrupted code
    pop bp
    add sp, 2
    iret

; show_int: print " vec= ip= cs= fl= fl.in=" from the recorded values
show_int:
    V16 "vec", [ss:INTV]
    V16 "ip-label", [ss:INTIP]
    V16 "cs", [ss:INTCS]
    V16 "stacked.fl", [ss:INTFL]
    V16 "handler.fl", [ss:INTFLIN]
    ret

; show_fl: [sp+2] = mask, [sp+4] = saved FLAGS. Prints " fl=OSZAPC" and a newline.
show_fl:
    push bp
    mov bp, sp
    pusha
    mov dx, [bp+4]
    mov bx, [bp+6]
    test dx, dx
    jz .nl
    mov si, .pre
    call rm_puts
    mov si, fl_tab
.next:
    mov al, [cs:si]
    test al, al
    jz .nl
    mov cl, [cs:si+1]
    mov di, 1
    shl di, cl
    test dx, di
    jnz .def
    mov al, '.'
    jmp .out
.def:
    test bx, di
    jnz .out
    or al, 0x20
.out:
    out DEBUGCON, al
    add si, 2
    jmp .next
.nl:
    call rm_nl
    popa
    pop bp
    ret 2
.pre: db " fl=", 0

dump_es:
    push ax
    push di
    push cx
.l:
    mov al, [es:di]
    call rm_hex8
    inc di
    dec cx
    jnz .l
    pop cx
    pop di
    pop ax
    ret

fl_tab: db 'O', 11, 'S', 7, 'Z', 6, 'A', 4, 'P', 2, 'C', 0, 0
xlat_tab: db 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5
idt_moved: dw 0x3FF
           dd 0x5000
idt_real:  dw 0x3FF
           dd 0

%include "inc/print16.inc"
ROM_FOOTER
