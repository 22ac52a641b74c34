"""Peak memory of the calling process, for the benchmarks that run each contender in a
process of its own."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mib() -> float:
    """This process's own peak resident set in MiB (VmHWM on Linux).

    `ru_maxrss` is not enough for a worker started by a benchmark that generated its data
    in-process first: Linux carries the parent's high-water mark into the child across
    fork and exec, so every worker would report at least the generator's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
