"""Strip symbol tables from the bundle's Linux shared libraries, keeping only copies that still load.

Many Linux wheels ship their libraries with full symbol tables (VTK's core library: 98 MB, 62 MB without);
the dynamic symbols that loading and linking need are kept by ``strip --strip-unneeded``. Libraries that
auditwheel rewrote with patchelf can come out of ``strip`` with load segments that are no longer
page-aligned, which the dynamic loader refuses ("ELF load command address/offset not page-aligned"), so every
stripped copy is checked and the original kept when the check fails. Used by ``twinviewer.spec``.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

PAGE = 4096
PT_LOAD = 1


def has_symbol_table(path: Path) -> bool:
    """An ELF64 little-endian file with a .symtab section (something to strip)."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        shoff, = struct.unpack_from("<Q", header, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", header, 0x3A)
        f.seek(shoff)
        sections = f.read(shentsize * shnum)
    return any(struct.unpack_from("<I", sections, i * shentsize + 4)[0] == 2 for i in range(shnum))  # SHT_SYMTAB


def loads_cleanly(path: Path) -> bool:
    """Every PT_LOAD segment's file offset and address agree modulo the page size (ld.so's rule)."""
    with open(path, "rb") as f:
        header = f.read(64)
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, _filesz, _memsz, align = struct.unpack_from("<IIQQQQQQ", table,
                                                                                            i * phentsize)
        if p_type == PT_LOAD and ((vaddr - offset) % PAGE or (align > 1 and (vaddr - offset) % align)):
            return False
    return True


def stripped_copy(source: Path, cache: Path) -> Path:
    """``source`` stripped into ``cache`` (reused while newer than the source), or ``source`` itself when
    stripping gains nothing or would break loading."""
    if shutil.which("strip") is None or not has_symbol_table(source):
        return source
    target = cache / f"{source.name}.{hashlib.sha1(str(source.parent).encode()).hexdigest()[:10]}"
    if not (target.exists() and target.stat().st_mtime >= source.stat().st_mtime):
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".partial")
        done = subprocess.run(["strip", "--strip-unneeded", "-o", str(partial), str(source)], capture_output=True)
        if done.returncode != 0 or not loads_cleanly(partial):
            partial.unlink(missing_ok=True)
            target.write_bytes(b"")  # remembered: this one stays unstripped
        else:
            partial.replace(target)
    return target if target.stat().st_size else source


def strip_toc(binaries, cache: Path):
    """PyInstaller's binaries TOC with each ELF library replaced by its stripped copy where that is safe."""
    return [(dest, str(stripped_copy(Path(src), cache)), kind) if kind in ("BINARY", "EXTENSION") else
            (dest, src, kind) for dest, src, kind in binaries]
