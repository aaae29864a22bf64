"""Files a document takes in (a sheet's templates, its style sheet, a prompt's images):
only regular files inside one folder, of bounded size. A definition may name such files,
so a symbolic link out of the folder, a folder, a pipe (which would block the build) or
a device is refused with a reason, never read."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FileRefused(ValueError):
    """A file that may not be read; the message says why, ``line`` where (the caller adds
    the file's name, as the user knows it)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line

    def about(self, shown: str) -> str:
        """The message with the file (and line) in front."""
        where = f"{shown}:{self.line}" if self.line else shown
        return f"{where}: {self}"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with its symbolic links followed, lies in ``root`` (or is it)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def read_inside(root: Path, relative: str | Path, limit: int) -> bytes:
    """The bytes of ``root/relative``: a regular file inside ``root`` of at most ``limit`` bytes.
    Raises FileNotFoundError when there is no such file, FileRefused otherwise."""
    path = Path(root) / relative
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(str(path)) from None
    except (OSError, ValueError) as exc:
        raise FileRefused(f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise FileRefused("is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused("is not a regular file (a pipe, socket or device)")
    if not inside(path, Path(root)):
        raise FileRefused(f"is outside the folder {root}")
    if info.st_size > limit:
        raise FileRefused(f"is {info.st_size:,} bytes; at most {limit:,} are allowed")
    try:
        with open(path, "rb", opener=_open_without_waiting) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileRefused(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:  # it grew since stat
        raise FileRefused(f"is more than {limit:,} bytes")
    return data


def _open_without_waiting(path, flags):
    # O_NONBLOCK: should the file have become a pipe since stat, open does not wait for a writer
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def decoded(data: bytes) -> str:
    """``data`` as UTF-8 text; FileRefused gives the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", line
        ) from None
