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
#   guests/disk.img     (--disk) an 8 MiB ext2 file system made by mke2fs
#   guests/boot.img     (--syslinux) a FAT disk image that boots vmlinuz + initrd.gz
#                       through Debian's SYSLINUX via the BIOS
#
# /init mounts proc/sys/devtmpfs, prints the marker line "RX86-BOOT-OK" on the
# console, then either powers off ("poweroff -f", mode auto) or starts a shell
# on the console (mode shell). The mode is chosen at boot time by the kernel
# command line: "rx86.shell" -> shell, "rx86.auto" -> auto; without either, the
# build-time default applies (RX86_GUEST_MODE=auto|shell, default auto).
# "rx86.disk" (mode disk) loads the IDE and ext2 modules that Debian's 686 kernel
# builds as modules (ata_piix, sd_mod, ext4 and their dependencies, shipped in the
# initrd), mounts /dev/sda on /mnt, writes /mnt/rx86-was-here, syncs, unmounts and
# powers off. In shell mode the modules are loaded too, so the shell can mount disks.
# (It waits up to 600 s for /dev/sda: under an interpreter, verifying the modules'
# signatures alone takes minutes of guest time.)
#
# Usage: scripts/debian-guest.sh [--force] [--disk] [--syslinux]
#   --force     re-download the packages even if they are cached in guests/debs/
#   --disk      also build guests/disk.img (needs mke2fs from e2fsprogs)
#   --syslinux  also build guests/boot.img (installs syslinux, mtools, dosfstools)
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
DISK=0
SYSLINUX=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --disk) DISK=1 ;;
        --syslinux) SYSLINUX=1 ;;
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
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$WORK" --wildcards './boot/*' './lib/modules/*'
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

# ---------------------------------------------------------------- 2. modules
# The disk path's modules, with their dependencies (read from each module's
# .modinfo "depends=" field), in load order.
MODDIR="$WORK/lib/modules/$KVER/kernel"
mkdir -p "$WORK/mods"
python3 - "$MODDIR" "$WORK/mods" ata_piix sd_mod ext4 crc32c_generic <<'PY'
import os, re, shutil, sys

root, out, *wanted = sys.argv[1:]
paths = {}
for d, _, files in os.walk(root):
    for f in files:
        if f.endswith(".ko"):
            paths[f[:-3].replace("-", "_")] = os.path.join(d, f)

def depends(name):
    data = open(paths[name], "rb").read()
    m = re.search(rb"(?:^|\0)depends=([^\0]*)", data)
    deps = m.group(1).decode() if m else ""
    return [x.replace("-", "_") for x in deps.split(",") if x]

order = []
def visit(name, stack=()):
    if name in order:
        return
    if name not in paths:
        sys.exit(f"error: module {name} not found in the kernel package")
    for dep in depends(name):
        if dep not in stack:
            visit(dep, stack + (name,))
    order.append(name)

for w in wanted:
    visit(w)
for name in order:
    shutil.copy(paths[name], os.path.join(out, name + ".ko"))
with open(os.path.join(out, "order"), "w") as f:
    f.write("\n".join(order) + "\n")
PY
log "initrd modules: $(tr '\n' ' ' <"$WORK/mods/order")"

# ---------------------------------------------------------------- 3. initrd
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
        rx86.disk)  mode=disk ;;
    esac
done

echo "rx86 guest: \$(uname -sr) \$(uname -m), mode=\$mode, uptime \$(cut -d' ' -f1 /proc/uptime)s"
echo RX86-BOOT-OK

if [ "\$mode" != auto ]; then
    for m in \$(cat /lib/modules/order); do
        insmod /lib/modules/\$m.ko || echo "rx86 guest: insmod \$m failed"
    done
fi

if [ "\$mode" = disk ]; then
    # sd_mod names the disk asynchronously.
    i=0; while [ ! -b /dev/sda ] && [ \$i -lt 600 ]; do sleep 1; i=\$((i + 1)); done
    if mount -t ext2 /dev/sda /mnt; then
        echo "written by the rx86 guest at uptime \$(cut -d' ' -f1 /proc/uptime)s" >/mnt/rx86-was-here
        sync
        umount /mnt && echo RX86-DISK-OK
    else
        echo "rx86 guest: mounting /dev/sda failed"
    fi
    poweroff -f
fi

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
python3 - "$BUSYBOX" "$WORK/init" "$OUT/initrd.gz" "$WORK/mods" <<'PY'
import gzip, io, os, stat, sys

busybox, init, out, mods = sys.argv[1:5]
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
for d in ("lib", "lib/modules"):
    entry(d, stat.S_IFDIR | 0o755)
for name in sorted(os.listdir(mods)):
    with open(os.path.join(mods, name), "rb") as f:
        entry("lib/modules/" + name, stat.S_IFREG | 0o644, f.read())
entry("etc/passwd", stat.S_IFREG | 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
entry("etc/group", stat.S_IFREG | 0o644, b"root:x:0:\n")
entry("TRAILER!!!", 0)
buf.write(b"\0" * (-buf.tell() % 512))

with open(out + ".tmp", "wb") as raw:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue())
os.replace(out + ".tmp", out)
PY

# ---------------------------------------------------------------- 4. disk images
if [ "$DISK" -eq 1 ]; then
    command -v mke2fs >/dev/null 2>&1 || { echo "error: mke2fs not found (apt-get install e2fsprogs)" >&2; exit 1; }
    log "writing disk.img (8 MiB ext2)"
    mkdir -p "$WORK/fs"
    echo "made by scripts/debian-guest.sh" >"$WORK/fs/README"
    rm -f "$OUT/disk.img"
    mke2fs -q -t ext2 -F -L rx86 -d "$WORK/fs" "$OUT/disk.img" 8M
fi

if [ "$SYSLINUX" -eq 1 ]; then
    missing=""
    for t in syslinux mcopy mkfs.fat; do command -v "$t" >/dev/null 2>&1 || missing=1; done
    if [ -n "$missing" ]; then
        log "apt-get install syslinux syslinux-common mtools dosfstools"
        as_root apt-get install -y -qq syslinux syslinux-common mtools dosfstools >/dev/null
    fi
    log "writing boot.img (FAT16 + SYSLINUX, kernel and initrd)"
    IMG="$OUT/boot.img"
    rm -f "$IMG"
    # A whole-disk ("superfloppy") FAT file system: the BIOS loads its boot sector,
    # which SYSLINUX's installer writes, from sector 0.
    mkfs.fat -C -F 16 -n RX86BOOT "$IMG" 32768 >/dev/null
    syslinux --install "$IMG"
    cat >"$WORK/syslinux.cfg" <<'CFG'
DEFAULT linux
PROMPT 0
TIMEOUT 0
SERIAL 0 115200
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0 rx86.auto
CFG
    MTOOLS_SKIP_CHECK=1 mcopy -o -i "$IMG" "$OUT/vmlinuz" "$OUT/initrd.gz" "$WORK/syslinux.cfg" ::/
fi

# ---------------------------------------------------------------- 5. report
echo
echo "Packages:"
sed 's/^/  /' "$OUT/packages.txt"
echo "Files:"
for f in vmlinuz initrd.gz config disk.img boot.img; do
    [ -f "$OUT/$f" ] && printf '  %-28s %10s bytes\n' "guests/$f" "$(stat -c %s "$OUT/$f")"
done
echo
echo "Boot check (QEMU):"
echo "  qemu-system-i386 -m 256 -kernel guests/vmlinuz -initrd guests/initrd.gz -append console=ttyS0 -nographic -no-reboot"
echo "  (append rx86.shell to the kernel command line for an interactive shell)"
