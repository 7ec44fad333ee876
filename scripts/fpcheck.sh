#!/usr/bin/env bash
# Issue 3's in-guest FPU check: a static i686 program computing with doubles (and a
# float and a long double) runs natively and inside Linux on rx86; the two outputs must
# be identical. Needs guests/vmlinuz and guests/initrd.gz (scripts/debian-guest.sh) and
# a 32-bit static toolchain (gcc-multilib). Takes minutes: the guest boots on the
# interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
out=guests/fpcheck
mkdir -p "$out"
gcc -m32 -march=i686 -O2 -static -o "$out/fpcheck" scripts/fpcheck/fpcheck.c -lm
# A second newc archive with /bin/fpcheck and an /init that runs it; Linux unpacks
# concatenated archives in order, so its /init replaces the first one's.
python3 - "$out" <<'PY'
import gzip, sys
out = sys.argv[1]
def entry(name, data, mode):
    n = name.encode() + b'\0'
    h = b'070701' + b''.join(b'%08X' % v for v in [0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0])
    e = h + n
    e += b'\0' * (-len(e) % 4) + data
    return e + b'\0' * (-len(e) % 4)
arc = entry('bin/fpcheck', open(f'{out}/fpcheck', 'rb').read(), 0o100755)
arc += entry('init', open('scripts/fpcheck/init', 'rb').read(), 0o100755)
arc += entry('TRAILER!!!', b'', 0)
arc += b'\0' * (-len(arc) % 512)
open(f'{out}/extra.cpio.gz', 'wb').write(gzip.compress(arc))
PY
cat guests/initrd.gz "$out/extra.cpio.gz" > "$out/initrd.gz"
"$out/fpcheck" > "$out/native.txt"
cargo build --release -q
./target/release/rx86 run --kernel guests/vmlinuz --initrd "$out/initrd.gz" \
    --append "console=ttyS0 quiet" --memory 256 --timeout 1800 --debugcon none \
    < /dev/null > "$out/guest.log" || true
sed -n '/FPCHECK-BEGIN/,/FPCHECK-END/p' "$out/guest.log" | sed '1d;$d' | tr -d '\r' > "$out/guest.txt"
if [ -s "$out/guest.txt" ] && cmp -s "$out/native.txt" "$out/guest.txt"; then
    echo "fpcheck: guest output identical to native ($(wc -l < "$out/native.txt") lines)"
else
    echo "fpcheck: MISMATCH (or no output); see $out/guest.log" >&2
    diff "$out/native.txt" "$out/guest.txt" >&2 || true
    exit 1
fi
