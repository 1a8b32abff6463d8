"""The fault suite (bench/faults) at CI size: analyzers and redis-server killed with SIGKILL,
Redis stopped and killed, overload and SIGTERM, each asserting what is promised (nothing
acknowledged lost or duplicated with appendfsync always, exact counts, clean 503s, bounded
memory, clean exits). The full-size run with its figures is bench/faults/run."""

import os
import sys

import hk

sys.path.insert(0, os.path.join(os.path.abspath(hk.SOURCE), "bench", "faults"))
sys.dont_write_bytecode = True
import faults  # noqa: E402


def test_fault_suite_short():
    rows, failures, seed = faults.run(short=True)
    print(faults.table(rows))
    assert not failures, "failed: %s (seed %d)" % (", ".join(failures), seed)


if __name__ == "__main__":
    raise SystemExit(1 if hk.run([test_fault_suite_short]) else 0)
