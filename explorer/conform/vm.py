"""Real kernels: the Debian package cache, the uncompressed vmlinux, the initramfs, one QEMU boot.

Kernels are fetched with `apt-get download` and unpacked with `dpkg-deb` into the cache, never
installed on the host. The vmlinuz payload is decompressed the way scripts/extract-vmlinux does
it (find the compressor's magic, decompress, keep the ELF image): booting that ELF through its
PVH entry with qboot takes about 2 s to poweroff under TCG, the bzImage about 5 s (it
decompresses itself in the emulated CPU). The guest's init sets THP to never (Debian defaults to
always, which the model does not represent), runs the conformance binary, and powers off.
"""

from __future__ import annotations

import glob
import lzma
import os
import shutil
import stat
import subprocess
import tempfile

from ..errors import SpecError

CACHE = os.environ.get("MM_EXPLORER_KERNELS") or os.path.join(os.path.expanduser("~"), ".cache", "mm-explorer-kernels")
QBOOT = "/usr/share/qemu/qboot.rom"
BUSYBOX = "/bin/busybox"
# label -> the Debian package it describes (spec/kernels.yaml says how each label was derived)
DEBIAN = {"debian-6.1.y": "linux-image-6.1.0-57-amd64-unsigned",
          "debian-6.12.y": "linux-image-6.12.117+deb12-amd64-unsigned"}
INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
echo never > /sys/kernel/mm/transparent_hugepage/enabled
echo never > /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null
# fault-around off: one page per fault, as the model has it (spec/mm.yaml, modeling restrictions)
/bin/busybox mount -t debugfs debugfs /sys/kernel/debug
echo 4096 > /sys/kernel/debug/fault_around_bytes
echo "# guest $(/bin/busybox uname -r) thp=$(/bin/busybox cat /sys/kernel/mm/transparent_hugepage/enabled)"
/conform
echo "# conform exit $?"
/bin/busybox poweroff -f
"""


def _newc(name, mode, data=b"", rdev=(0, 0), ino=0):
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
    b = ("070701" + "".join("%08X" % x for x in fields)).encode() + name.encode() + b"\0"
    b += b"\0" * (-len(b) % 4)
    return b + data + b"\0" * (-len(data) % 4)


def initramfs(binary: str, out: str, busybox: str = BUSYBOX):
    """An uncompressed newc cpio: /init, /bin/busybox, /conform, /dev/console, /proc, /sys."""
    items = [("bin", stat.S_IFDIR | 0o755, b""), ("dev", stat.S_IFDIR | 0o755, b""),
             ("proc", stat.S_IFDIR | 0o755, b""), ("sys", stat.S_IFDIR | 0o755, b""),
             ("init", stat.S_IFREG | 0o755, INIT.encode())]
    with open(busybox, "rb") as f:
        items.append(("bin/busybox", stat.S_IFREG | 0o755, f.read()))
    with open(binary, "rb") as f:
        items.append(("conform", stat.S_IFREG | 0o755, f.read()))
    parts = [_newc(n, m, d, ino=i + 1) for i, (n, m, d) in enumerate(items)]
    parts.append(_newc("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1), ino=len(items) + 1))
    parts.append(_newc("TRAILER!!!", 0))
    with open(out, "wb") as f:
        f.write(b"".join(parts))


def extract_vmlinux(vmlinuz: str, out: str):
    """The ELF kernel inside a bzImage (xz or zstd payload, as Debian builds them)."""
    with open(vmlinuz, "rb") as f:
        data = f.read()
    i = data.find(b"\xfd7zXZ\x00")
    if i >= 0:
        elf = lzma.LZMADecompressor().decompress(data[i:])
    else:
        i = data.find(b"\x28\xb5\x2f\xfd")
        if i < 0:
            raise SpecError(None, f"{vmlinuz}: no xz or zstd payload found")
        # zstd complains about the bytes after the frame; the frame itself decodes
        elf = subprocess.run(["zstd", "-dcq"], input=data[i:], capture_output=True).stdout
    if elf[:4] != b"\x7fELF":
        raise SpecError(None, f"{vmlinuz}: the payload is not an ELF kernel")
    with open(out + ".tmp", "wb") as f:
        f.write(elf)
    os.replace(out + ".tmp", out)


class Kernel:
    """An unpacked Debian kernel package: its vmlinux, its changelog and its upstream version."""

    def __init__(self, root):
        self.root = root
        self.vmlinuz = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))[0]
        self.release = os.path.basename(self.vmlinuz)[len("vmlinuz-"):]
        self.changelog = (glob.glob(os.path.join(root, "usr/share/doc/linux-image-*/changelog.Debian.gz")) or [None])[0]
        self.vmlinux = os.path.join(root, "vmlinux")
        if not os.path.exists(self.vmlinux):
            extract_vmlinux(self.vmlinuz, self.vmlinux)


def fetch(package: str, cache: str = CACHE) -> Kernel:
    """apt-get download + dpkg-deb of /boot and the docs into the cache (never installed)."""
    root = os.path.join(cache, package)
    if glob.glob(os.path.join(root, "boot", "vmlinuz-*")):
        return Kernel(root)
    os.makedirs(os.path.join(cache, "debs"), exist_ok=True)
    debs = glob.glob(os.path.join(cache, "debs", package + "_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", "-q", package], cwd=os.path.join(cache, "debs"), check=True,
                       stdout=subprocess.DEVNULL)
        debs = glob.glob(os.path.join(cache, "debs", package + "_*.deb"))
    os.makedirs(root, exist_ok=True)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", debs[0]], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", root, "--wildcards", "./boot/*", "./usr/share/doc/*"], stdin=tar.stdout, check=True)
    tar.wait()
    return Kernel(root)


def cached_kernels(cache: str = CACHE) -> list:
    return [Kernel(os.path.dirname(os.path.dirname(v))) for v in sorted(glob.glob(os.path.join(cache, "*", "boot", "vmlinuz-*")))]


def boot(kernel: Kernel, binary: str, timeout: float) -> str:
    """Boot the kernel with the binary as the whole userspace; the serial console's text."""
    with tempfile.TemporaryDirectory() as tmp:
        cpio = os.path.join(tmp, "initramfs.cpio")
        log = os.path.join(tmp, "serial.log")
        initramfs(binary, cpio)
        cmd = ["qemu-system-x86_64", "-nodefaults", "-nographic", "-display", "none", "-no-reboot",
               "-smp", "1", "-m", "256", "-accel", "tcg", "-bios", QBOOT, "-kernel", kernel.vmlinux,
               "-initrd", cpio, "-append", "console=ttyS0 cryptomgr.notests quiet panic=-1",
               "-serial", "file:" + log]
        try:
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        return text + ("\n# host: boot timed out\n" if timed_out else "")


def _dynamic(path) -> bool:
    """An ELF with a program interpreter needs a libc the initramfs does not have."""
    with open(path, "rb") as f:
        return b"/lib64/ld-linux" in f.read(4096)


def tools_missing() -> list:
    need = {"qemu-system-x86_64": "qemu-system-x86", "gcc": "gcc", "zstd": "zstd"}
    out = [pkg for exe, pkg in need.items() if shutil.which(exe) is None]
    if not os.path.exists(QBOOT):
        out.append("qemu-system-data")
    if not os.path.exists(BUSYBOX) or _dynamic(BUSYBOX):
        out.append("busybox-static")
    return out
