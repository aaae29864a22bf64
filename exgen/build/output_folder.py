"""Output folders: exgen replaces only a folder it made (and marked), builds each output in
a hidden staging folder beside it, swaps it in at the end, and leaves no hidden folder
behind — not on failure, not on SIGINT/SIGTERM, and not for long after a SIGKILL (the next
build of the same name removes what a killed one left)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from exgen.errors import OutputError, printable

try:
    import fcntl
except ImportError:  # Windows: no locks, so a staging folder is never taken for a leftover
    fcntl = None

MARKER = ".exgen"
MARKER_TEXT = b"exgen made this folder; exgen replaces it when it builds the same output again\n"
# a name that is one plain path component: no separator, no leading dot, not '.' or '..'
PLAIN_NAME = re.compile(r"[^\W_][\w.-]{0,99}")
NAME_RULE = "1–100 letters, digits, '.', '_' or '-', starting with a letter or digit"
_RACE_RETRIES = 20


def is_plain_name(name: str) -> bool:
    return PLAIN_NAME.fullmatch(name) is not None


def quoted(name: str) -> str:
    """A name in quotes for a message; bytes that were not UTF-8 (kept by Python as lone
    surrogates) shown as \\xNN."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "'" + printable(name) + "'"
    return repr(name)


def is_exgen_folder(folder: Path) -> bool:
    """A real folder (not a link) holding exgen's marker as a regular file."""
    try:
        return stat.S_ISDIR(os.lstat(folder).st_mode) and stat.S_ISREG(
            os.lstat(folder / MARKER).st_mode
        )
    except OSError:
        return False


def check_replaceable(target: Path) -> None:
    """Refuse to go on when ``target`` exists and exgen did not make it."""
    if not os.path.lexists(target) or is_exgen_folder(target):
        return
    why = "exists and was not made by exgen"
    if (
        os.path.isdir(target)
        and not os.path.islink(target)
        and any((target / f).exists() for f in ("key.json", "manifest.json"))
    ):
        why += f" (no {MARKER} marker: outputs of earlier exgen versions have none)"
    raise OutputError(f"{target}: {why}; remove it or choose another --out")


@contextmanager
def deferred_signals():
    """Hold SIGINT and SIGTERM back while folders are renamed or removed, then act on them:
    an interrupt between two renames would leave the output half swapped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {
        s: signal.signal(s, lambda signum, frame: caught.append(signum))
        for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        for s in caught[:1]:
            handler = previous[s]
            if callable(handler):
                handler(s, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(s)


def make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, deepest first."""
    created = []
    for path in [folder, *folder.parents]:
        if os.path.isdir(path):
            break
        created.append(path)
    for path in reversed(created):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise OutputError(f"{path}: exists and is not a folder") from None
        except OSError as exc:
            remove_empty(created)
            raise OutputError(f"{path}: cannot create the folder ({exc.strerror})") from None
    return created


def remove_empty(folders: list[Path]) -> None:
    for path in folders:
        with contextlib.suppress(OSError):
            path.rmdir()


class Staging:
    """A fresh, private, marked folder beside ``target``; its marker stays locked while
    this build runs, so that another build does not take it for a leftover."""

    def __init__(self, target: Path):
        parent = target.parent
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
            umask = os.umask(0)
            os.umask(umask)
            self.path.chmod(0o777 & ~umask)
            self.lock = os.open(self.path / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.write(self.lock, MARKER_TEXT)
            if fcntl is not None:
                fcntl.flock(self.lock, fcntl.LOCK_EX)
        except OSError as exc:
            if hasattr(self, "path"):
                remove_tree(self.path)
            raise OutputError(
                f"{parent}: cannot create the output folder ({exc.strerror})"
            ) from None

    def close(self) -> None:
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def write_folder(target: Path, fill: Callable[[Path], None]) -> None:
    """Build ``target`` anew: ``fill`` writes everything into a staging folder beside it,
    which then replaces ``target`` in one rename. On any failure or interrupt the
    staging folder goes and ``target`` stays as it was."""
    check_replaceable(target)
    created = make_folders(target.parent)
    remove_leftovers(target.parent, target.name)
    staging = None
    try:
        with deferred_signals():
            staging = Staging(target)
        fill(staging.path)
        with deferred_signals():
            swap_in(staging.path, target)
            staging.close()
            staging = None
    except BaseException:
        with deferred_signals():
            if staging is not None:
                staging.close()
                remove_tree(staging.path)
            remove_empty(created)
        raise


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging``. The old output moves aside within the same
    folder (this needs no write permission on it, so a read-only old output is replaced
    too) and goes once the new one is in; when another build swaps its output in at the
    same moment, the last one wins and neither leaves anything behind."""
    for _ in range(_RACE_RETRIES):
        check_replaceable(target)  # again: it may have changed while this build ran
        try:
            aside = _set_aside(target)
        except OSError as exc:
            raise OutputError(
                f"{target}: cannot replace the earlier output ({exc.strerror})"
            ) from None
        try:
            os.rename(staging, target)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                # another build put its output in between: that one is replaced in turn
                if aside is not None:
                    remove_tree(aside)
                continue
            where = ""
            if aside is not None:
                try:
                    os.rename(aside, target)  # the earlier output goes back
                except OSError:
                    where = f"; the earlier output is in {aside}"
            raise OutputError(
                f"{target}: cannot write the output ({exc.strerror}){where}"
            ) from None
        if aside is not None:
            remove_tree(aside)
        return
    raise OutputError(f"{target}: other builds kept replacing it at the same time; try again")


def _set_aside(target: Path) -> Path | None:
    """Move ``target`` to a hidden name beside it; None when there is nothing to move."""
    if not os.path.lexists(target):
        return None
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    try:
        os.rename(target, aside)  # onto the empty folder: a new name in the same folder
    except FileNotFoundError:  # another build moved it first
        aside.rmdir()
        return None
    except OSError:
        aside.rmdir()
        raise
    return aside


def remove_tree(path: Path) -> None:
    """Remove a folder exgen made, also when its files or folders are read-only."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError:
        _make_writable(path)
        shutil.rmtree(path, ignore_errors=True)


def _make_writable(top: Path) -> None:
    stack = [str(top)]
    while stack:
        folder = stack.pop()
        try:
            os.chmod(folder, stat.S_IMODE(os.lstat(folder).st_mode) | stat.S_IRWXU)
            with os.scandir(folder) as entries:
                stack += [e.path for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            pass


def leftover_pattern(name: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(name)}\.(new|old)-[a-z0-9_]{{8}}")


def remove_leftovers(parent: Path, name: str) -> None:
    """Remove the staging and set-aside folders an earlier build of ``name`` left (killed
    with SIGKILL, or on a crashed machine): only folders named the way exgen names them
    that carry exgen's marker (or are empty), and not one another build still holds."""
    pattern = leftover_pattern(name)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for entry in names:
        path = parent / entry
        if not pattern.fullmatch(entry) or os.path.islink(path) or not path.is_dir():
            continue
        if is_exgen_folder(path):
            if not _in_use(path):
                remove_tree(path)
        else:
            remove_empty([path])


def _in_use(folder: Path) -> bool:
    if fcntl is None:
        return True
    try:
        fd = os.open(folder / MARKER, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases the lock


def replace_file(target: Path, data: bytes) -> None:
    """Write one file in one rename (a reader sees the old file or the new one, never part
    of either), into ``target``'s folder, which is made if it is missing."""
    make_folders(target.parent)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.new-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary file (mkstemp makes it private)
        with deferred_signals():
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
