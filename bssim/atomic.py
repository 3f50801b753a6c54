"""Atomic file writes: a file appears complete or not at all.

Every writer in bssim (results, measurement cache, checkpoints, training logs, images) goes
through :func:`atomic_path`: the data is written to a temporary file in the destination's
folder and moved over the destination with ``os.replace`` (atomic on POSIX and Windows),
so an interrupted run never leaves a truncated file nor destroys the previous one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on normal exit move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was. The
    parent folder is created if needed; the final file gets permissions ``mode``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on normal exit it replaces ``path``.

    The folder is built as ``.tmp-<name>-*`` (an interrupted writer leaves only such a
    folder, which readers ignore); an existing ``path`` is moved aside first and removed
    after the swap, so ``path`` is always either the old or the new complete folder.
    """
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".tmp-{path.name}-"))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a results folder is meant to be shared
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".old-{path.name}-"))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_output_folder(path: str | Path, option: str = "--out", must_not_exist: bool = False) -> Path:
    """Check, before any work, that ``path`` can become an output folder; a clear error otherwise.

    ``path`` must not be a file; with ``must_not_exist`` it must not exist at all (the CLI
    passes ``must_not_exist = not --force``); the nearest existing ancestor must be a folder
    in which a file can be created (so a read-only file system, a missing permission or a
    path under /proc is reported before a long run, not after)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path}: exists and is a file, not a folder")
    if must_not_exist and path.exists():
        raise ValueError(f"{option} {path}: already exists; pass --force to replace it, or choose another folder")
    _check_writable_parent(path, option)
    return path


def check_output_file(path: str | Path, option: str = "--out", force: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written as a file: not a folder, not an
    existing file unless ``force``, in a folder where a file can be created."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder; give a file name")
    if path.exists() and not force:
        raise ValueError(f"{option} {path}: already exists; pass --force to replace it, or choose another name")
    _check_writable_parent(path, option)
    return path


def _check_writable_parent(path: Path, option: str) -> None:
    """The nearest existing ancestor of ``path`` is a folder where a file can be created."""
    parent = path if path.is_dir() else path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} is a file, so no folder can be made under it")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".bssim-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"{option} {path}: cannot write in {parent} ({err.strerror or err})") from None


@contextlib.contextmanager
def output_lock(path: str | Path, option: str = "--out") -> Iterator[Path]:
    """Hold an exclusive lock on the output ``path`` (a file ``.<name>.lock`` beside it, locked
    with ``flock``, so a killed process never leaves a stale lock); a second process asking
    for the same ``path`` gets a ValueError at once, before any work. The lock file is
    removed on exit."""
    import fcntl

    path = Path(path)
    lock = path.parent / f".{path.name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ValueError(f"{option} {path}: another bssim process is writing there (lock {lock}); "
                             "wait for it to finish or choose another folder") from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and lock: retry
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)
