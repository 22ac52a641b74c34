"""Label guard speed: load time in a fresh process and per-note screening time.

Usage: ``uv run python bench/guard.py`` (a minute or so). Prints JSON.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "labels" / "data" / "guard_dev.jsonl"
LOAD = (
    "import time; t = time.perf_counter(); from memberops.labels.guard import load_guard; "
    "load_guard(); print(time.perf_counter() - t)"
)


def main() -> None:
    """Measure load (5 fresh processes) and screening (every dev note, 3 passes)."""
    loads = [
        float(
            subprocess.run(
                [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    from memberops.labels.guard import load_guard, screen

    load_guard()
    notes = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    times: list[float] = []
    for _ in range(3):
        for note in notes:
            started = time.perf_counter()
            screen(note)
            times.append(time.perf_counter() - started)
    times.sort()
    print(
        json.dumps(
            {
                "notes": len(notes),
                "load_s_median": round(statistics.median(loads), 3),
                "load_s_max": round(max(loads), 3),
                "screen_ms_median": round(statistics.median(times) * 1000, 3),
                "screen_ms_p95": round(times[int(len(times) * 0.95)] * 1000, 3),
                "screen_ms_max": round(times[-1] * 1000, 3),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
