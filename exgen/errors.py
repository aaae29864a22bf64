"""The error hierarchy, and the one place where errors map to exit codes."""

from __future__ import annotations


def _rebuilt(cls, args, state):
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def printable(text) -> str:
    """A path or message for a terminal or a page, with bytes that were not UTF-8 (a file
    name Python could not decode, kept as lone surrogates) as \\xNN."""
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class ExgenError(Exception):
    """An error exgen reports as a message, never as a traceback."""

    exit_code = 1

    def __reduce__(self):
        # rebuilt from its fields, whatever the subclass's __init__ takes: errors raised in
        # a class build's worker processes travel back to the parent pickled
        return _rebuilt, (type(self), self.args, dict(self.__dict__))


class DefinitionError(ExgenError):
    """A definition file is missing, malformed or inconsistent.

    ``source`` is the file as the user named it, ``path`` the key path inside it
    (e.g. ``exercises[0].values.W1``) and ``line`` the 1-based line where known.
    """

    exit_code = 2

    def __init__(self, message: str, source: str = "", path: str = "", line: int | None = None):
        self.message = message
        self.source = source
        self.path = path
        self.line = line
        super().__init__(str(self))

    def located(self, source: str | None = None, line: int | None = None) -> DefinitionError:
        """A copy with the file name (and line, if not known yet) filled in."""
        return type(self)(
            self.message,
            source or self.source,
            self.path,
            self.line if self.line is not None else line,
        )

    def __str__(self) -> str:
        where = self.source
        if where and self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, self.path) if p]
        return ": ".join(parts + [self.message])


class SolveError(DefinitionError):
    """The network cannot be evaluated with the given values (log of 0, 1/0, …)."""


class TemplateProblem(ExgenError):
    """A template (the sheet's own, or a changed default) fails to render."""

    exit_code = 2


class ArgumentError(ExgenError):
    """A command-line option is malformed or names something that does not exist."""

    exit_code = 2


class OutputError(ExgenError):
    """The output could not be written, or its folder is not exgen's to replace."""

    exit_code = 3


class ShardError(ExgenError):
    """The shard folders of a class cannot be merged: one is missing, duplicated, from
    another class or built with another secret."""

    exit_code = 2


class AnswersError(ExgenError):
    """A file of students' answers cannot be read: ``source`` the file as the user named
    it, ``row`` its 1-based line, ``column`` the column's name where one is to blame."""

    exit_code = 2

    def __init__(self, message: str, source: str = "", row: int | None = None, column: str = ""):
        self.message = message
        self.source = source
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source + (f":{self.row}" if self.row is not None else "")
        parts = [p for p in (where, f"column {self.column!r}" if self.column else "") if p]
        return ": ".join(parts + [self.message])


class ExportError(ExgenError):
    """A sheet cannot go to a learning platform as it stands: a value the platform would
    mangle (Canvas keeps 4 decimals), or a written file that fails its own check."""

    exit_code = 2


class CheckFailed(ExgenError):
    """`exgen check` found a key that disagrees with an oracle."""

    exit_code = 4


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every clean-up on the way out runs."""


EXIT_CODES = {
    "ok": 0,
    ExgenError: ExgenError.exit_code,
    DefinitionError: DefinitionError.exit_code,
    TemplateProblem: TemplateProblem.exit_code,
    ArgumentError: ArgumentError.exit_code,
    OutputError: OutputError.exit_code,
    ShardError: ShardError.exit_code,
    AnswersError: AnswersError.exit_code,
    ExportError: ExportError.exit_code,
    CheckFailed: CheckFailed.exit_code,
    KeyboardInterrupt: 130,  # 128 + SIGINT, as shells report it
    Terminated: 143,  # 128 + SIGTERM
}


def exit_code_for(error: BaseException) -> int:
    """The exit status for an error: 2 bad input, 3 output, 4 failed check, 130 / 143
    interrupted (SIGINT / SIGTERM), 1 other."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
