"""Clean exits: does ``python dev.py test`` always exit with pytest's own status?

The Temporal SDK may crash while the interpreter shuts down (sdk-python#300: SIGABRT 134,
SIGSEGV 139, a negative status from the OS). tests/conftest.py writes the status pytest decided
to a file and leaves with ``os._exit`` before that teardown; dev.py reports the file's status.
This runs a small Temporal-using selection ``--runs`` times in a row and counts:

* **not pytest's status**: runs whose exit status is not the one pytest decided (a crash status
  such as 134/139/negative leaking through); the goal is 0;
* **recovered**: runs where dev.py saw the test process end otherwise than pytest decided and
  reported pytest's status instead (the safety net at work);
* with ``--raw``, the same selection under plain ``python -m pytest`` (no status file, no hard
  exit), for comparison: how often the SDK crash shows there.

    python bench/clean_exits.py                 # 100 runs of the default selection
    python bench/clean_exits.py --runs 20 --raw
    python bench/clean_exits.py tests/api/test_chain.py -k certified
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

#: Two workflow tests on the time-skipping test server and one API test: each starts the
#: SDK's runtime, a worker and a client, which is what may crash at interpreter exit.
DEFAULT_SELECTION = [
    "tests/workflows/test_declaration_workflow.py::"
    "test_validator_refusal_carries_the_reason_and_is_audited",
    "tests/workflows/test_declaration_workflow.py::"
    "test_signals_take_the_same_path_and_refused_signals_are_audited",
]
PYTEST_STATUSES = frozenset(range(6))  # 0 passed … 5 no tests collected
RECOVERED = "after pytest decided"


@dataclass
class Tally:
    runs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    not_pytest: int = 0
    recovered: int = 0
    failed: int = 0
    seconds: float = 0.0

    def line(self, name: str) -> str:
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{name}: {self.runs} runs in {self.seconds:.0f} s; exit statuses {codes}; "
            f"not pytest's status {self.not_pytest}/{self.runs}; "
            f"recovered by the status file {self.recovered}/{self.runs}; "
            f"tests failed {self.failed}/{self.runs}"
        )


def run_once(argv: list[str], tally: Tally, *, expected: int = 0) -> None:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    tally.seconds += time.monotonic() - started
    tally.runs += 1
    code = proc.returncode
    tally.statuses[code] += 1
    if code not in PYTEST_STATUSES:
        tally.not_pytest += 1
    elif code != expected:
        tally.failed += 1
    if RECOVERED in proc.stderr:
        tally.recovered += 1


def run(selection: list[str], runs: int, *, raw: bool = False) -> Tally:
    tally = Tally()
    if raw:
        argv = [str(VENV_PYTHON), "-m", "pytest", *selection, "-q", "-p", "no:cacheprovider"]
    else:
        argv = [sys.executable, str(ROOT / "dev.py"), "test", *selection, "-q",
                "-p", "no:cacheprovider"]  # fmt: skip
    for _ in range(runs):
        run_once(argv, tally)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("selection", nargs="*", default=DEFAULT_SELECTION)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--raw", action="store_true", help="also run plain pytest to compare")
    args = parser.parse_args()
    tally = run(args.selection, args.runs)
    print(tally.line("python dev.py test"))
    if args.raw:
        print(run(args.selection, args.runs, raw=True).line("python -m pytest (no safety net)"))
    return 1 if tally.not_pytest or tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
