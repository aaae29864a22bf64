"""What `exgen check` found, oracle by oracle, and the summary it closes with. The
summary names what ran and what did not (and why), so that it never claims an oracle
that did not run."""

from __future__ import annotations

from dataclasses import dataclass, field

OK, FAILED, SKIPPED, NOT_COMPARABLE = "ok", "FAILED", "skipped", "not comparable"


@dataclass
class Finding:
    oracle: str
    status: str  # OK, FAILED, SKIPPED (detail says why) or NOT_COMPARABLE
    detail: str
    problems: list[str] = field(default_factory=list)  # one line each, printed below

    def __post_init__(self):
        if isinstance(self.status, bool):  # an oracle that only says agrees or not
            self.status = OK if self.status else FAILED

    @property
    def ok(self) -> bool:
        return self.status != FAILED

    @property
    def ran(self) -> bool:
        return self.status in (OK, FAILED)

    def line(self) -> str:
        if self.status == NOT_COMPARABLE:  # "not comparable at a kink: …" reads as one phrase
            return f"{self.oracle} {self.status} {self.detail}"
        return f"{self.oracle} {self.status} ({self.detail})"


@dataclass
class Verdict:
    exercise: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def lines(self) -> list[str]:
        head = f"{self.exercise}: {'ok' if self.ok else 'MISMATCH'} — " + "; ".join(
            f.line() for f in self.findings
        )
        return [head] + [f"  {p}" for f in self.findings for p in f.problems]


def summary(verdicts: list[Verdict]) -> list[str]:
    """Which oracles ran on which exercises, which did not and why, and the verdict for
    the exercises that all oracles passed (the failures are the caller's error)."""
    ran: dict[str, list[str]] = {}
    not_run: dict[str, dict[str, list[str]]] = {}  # oracle -> why -> exercises
    undecided: dict[str, dict[str, list[str]]] = {}
    for v in verdicts:
        for f in v.findings:
            if f.ran:
                ran.setdefault(f.oracle, []).append(v.exercise)
            else:
                table = not_run if f.status == SKIPPED else undecided
                table.setdefault(f.oracle, {}).setdefault(f.detail, []).append(v.exercise)
    everyone = [v.exercise for v in verdicts]

    def on(names: list[str]) -> str:
        if len(names) == len(everyone) > 1:
            return f"all {len(names)} exercises"
        return ", ".join(names)

    def listed(table: dict) -> str:
        return "; ".join(
            f"{o} on {on(names)} ({why})"
            for o, reasons in table.items()
            for why, names in reasons.items()
        )

    lines = ["ran: " + ("; ".join(f"{o} on {on(n)}" for o, n in ran.items()) or "no oracle")]
    if not_run:
        lines.append(f"not run: {listed(not_run)}")
    if undecided:
        lines.append(f"could not judge: {listed(undecided)}")
    count = len(verdicts)
    who = "1 exercise agrees" if count == 1 else f"all {count} exercises agree"
    if not ran:
        lines.append(f"no oracle ran on the {count} exercise{'' if count == 1 else 's'}")
    elif undecided:
        lines.append(f"{who} with every oracle that ran and could judge them")
    elif not_run:
        lines.append(f"{who} with every oracle that ran")
    else:
        lines.append(f"{who} with every oracle")
    return lines
