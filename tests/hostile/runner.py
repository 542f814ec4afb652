"""Runs CLI cases in one process, each with its own time limit and its own captured stdout/stderr (at the
file-descriptor level, so VTK's or numpy's own lines are caught too); prints one JSON line per case.

Usage: ``python -m tests.hostile.runner CASES.json`` where the file holds ``[{"name", "argv", "timeout"}]``.
The caller sets the memory limit (RLIMIT_AS) of this process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException, so the CLI's `except Exception` does not swallow it."""


def _alarm(signum, frame):
    raise CaseTimeout()


def run_case(argv: list[str], timeout: float) -> dict:
    from twinviewer.cli import main

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            code = main(list(argv))
        except CaseTimeout:
            code = "timeout"
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:  # noqa: BLE001 - reported to the test as the outcome
            code = f"escaped {type(exc).__name__}: {exc}"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return {"code": code, "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace"), "seconds": elapsed}


def main() -> None:
    signal.signal(signal.SIGALRM, _alarm)
    with open(sys.argv[1], encoding="utf-8") as handle:
        cases = json.load(handle)
    results = {}
    for case in cases:
        results[case["name"]] = run_case(case["argv"], case.get("timeout", 20))
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
