"""Writing report files whole or not at all, and never over an earlier run without ``force``.

Every file goes to a temporary file in the destination folder first, is flushed and synced, and
only then takes its final name. Without ``force`` the final step is a hard link, which fails if the
name exists (so two runs racing for one folder cannot clobber each other); with ``force`` it is
``os.replace``, which swaps the file in atomically. A reader sees the old file or the new one,
never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from linnet.core.errors import LinnetError


def check_writable(paths: Iterable[Path], force: bool) -> None:
    """Raise LinnetError naming the first path that exists, unless ``force``.

    Called before any work, so a run that would be refused at the end is refused at the start.
    """
    if force:
        return
    existing = [str(p) for p in paths if os.path.lexists(p)]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise LinnetError(f"{existing[0]} exists{more}; pass --force to overwrite")


def check_folder(path: Path | str) -> None:
    """Raise LinnetError unless ``path`` is a folder, or one can be created there: no file at it
    or above it, and the nearest existing folder writable. Called before any work, as
    :func:`check_writable`; :func:`make_folder` creates it when the work is done."""
    path = Path(path)
    for above in (path, *path.parents):
        if os.path.isdir(above):
            if not os.access(above, os.W_OK | os.X_OK):
                raise LinnetError(f"cannot write into {above}" if above == path
                                  else f"cannot create {path}: {above} is not writable")
            return
        if os.path.lexists(above):
            raise LinnetError(f"{path} is not a folder" if above == path
                              else f"cannot create {path}: {above} is not a folder")


def check_file(path: Path | str, force: bool) -> None:
    """Raise LinnetError unless the file ``path`` can be written: its folder exists and is
    writable, it is not a folder, and it does not exist unless ``force``. Called before any work."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise LinnetError(f"cannot write {path}: {folder} "
                          f"{'is not a folder' if os.path.lexists(folder) else 'does not exist'}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LinnetError(f"cannot write {path}: {folder} is not writable")
    if path.is_dir():
        raise LinnetError(f"{path} is a folder; give a file name")
    check_writable([path], force)


def write_atomic(path: Path | str, write: Callable, *, force: bool = False, binary: bool = True) -> Path:
    """Create ``path`` by calling ``write(fileobj)`` on a temporary file, then renaming it.

    Args:
        path: the final file name; its folder must exist.
        write: called once with an open file object (binary unless ``binary=False``).
        force: replace an existing file; otherwise an existing file raises LinnetError.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not force and os.path.lexists(path):
        raise LinnetError(f"{path} exists; pass --force to overwrite")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, path)
        else:
            _publish_no_clobber(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def _publish_no_clobber(tmp: str, path: Path) -> None:
    try:
        os.link(tmp, path)  # atomic, and fails if path appeared meanwhile
    except FileExistsError:
        raise LinnetError(f"{path} exists; pass --force to overwrite") from None
    except OSError as err:  # no hard links here (some network or FAT file systems)
        if err.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise LinnetError(f"{path} exists; pass --force to overwrite") from None
        os.replace(tmp, path)


def write_text(path: Path | str, text: str, *, force: bool = False) -> Path:
    """Write a text file atomically (UTF-8)."""
    return write_atomic(path, lambda f: f.write(text), force=force, binary=False)


def save_figure(fig, path: Path | str, *, force: bool = False, **savefig_kwargs) -> Path:
    """``fig.savefig`` to ``path`` atomically; the format comes from the file's suffix."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    return write_atomic(path, lambda f: fig.savefig(f, format=fmt, **savefig_kwargs), force=force)


def save_png(fig, path: Path | str, *, dpi: int = 150) -> Path:
    """Save a pyplot figure as a PNG atomically (replacing the file) and close it."""
    import matplotlib.pyplot as plt

    save_figure(fig, path, force=True, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def make_folder(path: Path | str) -> Path:
    """Create the output folder (and parents); LinnetError if a file is in the way."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LinnetError(f"{path} is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LinnetError(f"cannot create {path}: {err.strerror}") from None
    return path
