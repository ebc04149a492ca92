"""Run every benchmark script in turn, each in its own process.

Run from the repository root::

    python benchmarks/run.py                      # all six, full sizes
    python benchmarks/run.py --quick              # all six, small sizes (smoke test)
    python benchmarks/run.py --only memory parallel --no-write

The scripts (see ``benchmarks/README.md`` for what each measures and how long
it takes): ``bench_throughput.py``, ``bench_fit_overhead.py``,
``bench_cv_time.py``, ``bench_memory.py``, ``bench_files_cache.py`` and
``bench_parallel.py``. Each prints its tables and appends them, with the
machine line, to ``benchmarks/RESULTS.md`` (unless ``--no-write``). At its
full sizes, ``bench_files_cache.py`` takes hours; the others minutes.

Not run here, as they are studies of 10 to 25 minutes with their own
options: ``bench_default_model.py`` (does the default model learn at 32, 64
and 128 pixels?) and ``bench_leakage.py`` (what six cross-validation mistakes
cost against a held-out set).
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOPICS = ("throughput", "fit_overhead", "cv_time", "memory", "files_cache", "parallel")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--only", nargs="+", choices=TOPICS, metavar="TOPIC", help=f"some of {', '.join(TOPICS)}"
    )
    args = parser.parse_args(argv)
    flags = [flag for flag, on in (("--quick", args.quick), ("--no-write", args.no_write)) if on]
    failed = []
    for topic in args.only or TOPICS:
        command = [sys.executable, os.path.join(HERE, f"bench_{topic}.py"), *flags]
        print(f"\n# {' '.join(['python', f'benchmarks/bench_{topic}.py', *flags])}\n", flush=True)
        start = time.perf_counter()
        status = subprocess.run(command).returncode
        print(f"\n# bench_{topic}: exit status {status}, {time.perf_counter() - start:.0f} s")
        if status:
            failed.append(topic)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
