#!/usr/bin/env bash
# Prepare a tiny Linux guest for rx86 from Debian's i386 package archive.
#
# Produces (in the git-ignored folder guests/):
#   guests/vmlinuz      Debian 686 kernel (bzImage), from linux-image-<ver>-686:i386
#   guests/initrd.gz    gzip'd newc cpio: static busybox + /init + /dev/console
#   guests/config       kernel .config (to check what is built in vs. modular)
#   guests/packages.txt exact package names/versions used
#   guests/debs/        the downloaded .deb files (cache for re-runs)
#
# /init mounts proc/sys/devtmpfs, prints the marker line "RX86-BOOT-OK" on the
# console, then either powers off ("poweroff -f", mode auto) or starts a shell
# on the console (mode shell). The mode is chosen at boot time by the kernel
# command line: "rx86.shell" -> shell, "rx86.auto" -> auto; without either, the
# build-time default applies (RX86_GUEST_MODE=auto|shell, default auto).
#
# Usage: scripts/debian-guest.sh [--force] [--disk]
#   --force   re-download the packages even if they are cached in guests/debs/
#   --disk    not implemented (Debian's 686 kernel builds ata_piix/ext4 as
#             modules, so a disk root would need a module-loading initrd)
#
# Needs root (or sudo) only for: dpkg --add-architecture i386, apt-get update,
# apt-get download. Everything else (incl. the /dev/console node, which is
# written directly into the cpio by python3) works unprivileged.
#
# Sanity check in QEMU (TCG):
#   qemu-system-i386 -m 256 -kernel guests/vmlinuz -initrd guests/initrd.gz \
#       -append "console=ttyS0" -nographic -no-reboot
set -euo pipefail

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --disk)
            echo "error: --disk is not implemented: Debian's 686 kernel has ata_piix/ext4 as" >&2
            echo "       modules, so a disk root needs a module-loading initrd; use the initrd." >&2
            exit 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

MODE="${RX86_GUEST_MODE:-auto}"
case "$MODE" in
    auto|shell) ;;
    *) echo "error: RX86_GUEST_MODE must be 'auto' or 'shell', got '$MODE'" >&2; exit 2 ;;
esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/guests"
DEBS="$OUT/debs"
mkdir -p "$DEBS"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

for tool in apt-get apt-cache dpkg dpkg-deb python3 gzip; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: '$tool' not found (Debian host required)" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rx86-guest.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

have_debs() {
    compgen -G "$DEBS/linux-image-*-686_*_i386.deb" >/dev/null &&
        compgen -G "$DEBS/busybox-static_*_i386.deb" >/dev/null
}

# ---------------------------------------------------------------- 1. download
if [ "$FORCE" -eq 1 ] || ! have_debs; then
    if ! dpkg --print-foreign-architectures | grep -qx i386 &&
       [ "$(dpkg --print-architecture)" != i386 ]; then
        log "dpkg --add-architecture i386"
        as_root dpkg --add-architecture i386
    fi
    log "apt-get update"
    # A partially failed update (e.g. a mirror mid-sync) is not fatal: apt keeps
    # the previous lists, and the download below fails loudly if they are unusable.
    if ! as_root apt-get update -qq; then
        sleep 5
        as_root apt-get update -qq || log "warning: apt-get update failed; continuing with existing package lists"
    fi

    # linux-image-686 is a metapackage; resolve the concrete image it depends on
    # (e.g. linux-image-6.1.0-50-686). Fall back to the newest one apt knows.
    KPKG="$(apt-cache depends linux-image-686:i386 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-686\)\(:i386\)\{0,1\}$/\1/p' | head -n1)"
    if [ -z "$KPKG" ]; then
        KPKG="$(apt-cache search --names-only '^linux-image-[0-9].*-686$' |
            awk '{print $1}' | sort -V | tail -n1)"
    fi
    [ -n "$KPKG" ] || { echo "error: could not find a linux-image-*-686 package" >&2; exit 1; }
    log "kernel package: $KPKG:i386"

    DL="$WORK/dl"
    mkdir -p "$DL"
    # apt drops privileges to _apt for downloads; let it write here.
    chmod 711 "$WORK"
    if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$DL"; else chmod 777 "$DL"; fi
    log "apt-get download $KPKG:i386 busybox-static:i386"
    (cd "$DL" && as_root apt-get download -q "$KPKG:i386" busybox-static:i386)

    rm -f "$DEBS"/*.deb
    cp "$DL"/*.deb "$DEBS"/
    if [ "$(id -u)" -ne 0 ]; then chown "$(id -u):$(id -g)" "$DEBS"/*.deb 2>/dev/null || true; fi
else
    log "using cached packages in $DEBS (pass --force to re-download)"
fi

KDEB="$(ls "$DEBS"/linux-image-*-686_*_i386.deb | head -n1)"
BDEB="$(ls "$DEBS"/busybox-static_*_i386.deb | head -n1)"
{
    for deb in "$KDEB" "$BDEB"; do
        printf '%s %s %s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" \
            "$(dpkg-deb -f "$deb" Architecture)" "$(basename "$deb")"
    done
} >"$OUT/packages.txt"

# ---------------------------------------------------------------- extract
log "extracting packages"
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$WORK" --wildcards './boot/*'
mkdir -p "$WORK/bb"
dpkg-deb -x "$BDEB" "$WORK/bb"

VMLINUZ="$(ls "$WORK"/boot/vmlinuz-* | head -n1)"
KVER="${VMLINUZ##*/vmlinuz-}"
cp "$VMLINUZ" "$OUT/vmlinuz"
[ -f "$WORK/boot/config-$KVER" ] && cp "$WORK/boot/config-$KVER" "$OUT/config"

BUSYBOX=""
for p in bin/busybox usr/bin/busybox; do
    [ -f "$WORK/bb/$p" ] && { BUSYBOX="$WORK/bb/$p"; break; }
done
[ -n "$BUSYBOX" ] || { echo "error: busybox binary not found in $BDEB" >&2; exit 1; }

# ---------------------------------------------------------------- 2. initrd
cat >"$WORK/init" <<EOF
#!/bin/busybox sh
# rx86 guest init (generated by scripts/debian-guest.sh)
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null || true

mode=$MODE
for arg in \$(cat /proc/cmdline); do
    case "\$arg" in
        rx86.shell) mode=shell ;;
        rx86.auto)  mode=auto ;;
    esac
done

echo "rx86 guest: \$(uname -sr) \$(uname -m), mode=\$mode, uptime \$(cut -d' ' -f1 /proc/uptime)s"
echo RX86-BOOT-OK

if [ "\$mode" = shell ]; then
    echo "starting /bin/sh (poweroff -f to quit)"
    exec setsid cttyhack sh -l
fi
poweroff -f
# poweroff -f only returns if the reboot syscall failed
echo "rx86 guest: poweroff failed"
exec sh
EOF

log "writing initrd.gz (mode default: $MODE)"
python3 - "$BUSYBOX" "$WORK/init" "$OUT/initrd.gz" <<'PY'
import gzip, io, os, stat, sys

busybox, init, out = sys.argv[1:4]
mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
buf = io.BytesIO()
ino = [300000]

def entry(name, mode, data=b"", rdev=(0, 0)):
    ino[0] += 1
    nb = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino[0], mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, mtime, len(data),
        0, 0, rdev[0], rdev[1], len(nb), 0))
    buf.write(hdr.encode() + nb)
    buf.write(b"\0" * (-(110 + len(nb)) % 4))
    buf.write(data)
    buf.write(b"\0" * (-len(data) % 4))

for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root", "mnt"):
    entry(d, stat.S_IFDIR | 0o755)
entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
entry("dev/null", stat.S_IFCHR | 0o666, rdev=(1, 3))
entry("dev/ttyS0", stat.S_IFCHR | 0o600, rdev=(4, 64))
with open(busybox, "rb") as f:
    entry("bin/busybox", stat.S_IFREG | 0o755, f.read())
entry("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
with open(init, "rb") as f:
    entry("init", stat.S_IFREG | 0o755, f.read())
entry("etc/passwd", stat.S_IFREG | 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
entry("etc/group", stat.S_IFREG | 0o644, b"root:x:0:\n")
entry("TRAILER!!!", 0)
buf.write(b"\0" * (-buf.tell() % 512))

with open(out + ".tmp", "wb") as raw:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue())
os.replace(out + ".tmp", out)
PY

# ---------------------------------------------------------------- 3. report
echo
echo "Packages:"
sed 's/^/  /' "$OUT/packages.txt"
echo "Files:"
for f in vmlinuz initrd.gz config; do
    [ -f "$OUT/$f" ] && printf '  %-28s %10s bytes\n' "guests/$f" "$(stat -c %s "$OUT/$f")"
done
echo
echo "Boot check (QEMU):"
echo "  qemu-system-i386 -m 256 -kernel guests/vmlinuz -initrd guests/initrd.gz -append console=ttyS0 -nographic -no-reboot"
echo "  (append rx86.shell to the kernel command line for an interactive shell)"
