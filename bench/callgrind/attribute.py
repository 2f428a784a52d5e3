#!/usr/bin/env python3
"""Instructions per message by component, from two callgrind runs of duet-bench.

Usage: attribute.py SMALL_DIR LARGE_DIR MESSAGES_DIFFERENCE [REGEX | @FILE ...]

Each DIR holds the per-thread files of one `valgrind --tool=callgrind
--separate-threads=yes` run of `duet-bench --only overhead --messages N`.
The mock's thread (the mock LLM and the fake Discord) and the harness's
main thread are left out. The
difference LARGE - SMALL, divided by the number of messages it adds, is the
cost of one message without the fixed start-up. Printed: the total, the
self cost grouped by crate, and the inclusive cost of functions matching
each REGEX (summed over matching functions, per thread, so a REGEX must
name functions that do not call one another); @FILE reads one REGEX a line.
"""
import collections
import glob
import os
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*?)(?:\s+\[(.*)\])?\s*$")
# Threads left out: the mock's (it runs the closure MockHost::start spawns)
# and the harness's main thread (it drives the load and, after each run,
# reads the mock's request log to compute the figures; the bot's tasks run
# on the runtime's worker threads).
LEFT_OUT = {
    "duet_bench::mock_host::MockHost::start::{{closure}}": "the mock's thread",
    ") duet_bench::main\n": "the harness's main thread",
}


def annotate(path, inclusive):
    out = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
         "--threshold=100", path],
        capture_output=True, text=True, check=True).stdout
    costs = {}
    total = 0
    body = False
    for line in out.splitlines():
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
        if line.startswith("Ir") or re.match(r"^-+$", line):
            body = body or line.startswith("Ir")
            continue
        m = LINE.match(line)
        if body and m and "PROGRAM TOTALS" not in line:
            name = m.group(2)
            name = re.sub(r"^(\?\?\?|[^\s:<]+\.(rs|c|h|S|cc|cpp)):", "", name)
            costs[(name, m.group(3) or "")] = costs.get((name, m.group(3) or ""), 0) + int(m.group(1).replace(",", ""))
    return total, costs


def crate(name, obj):
    if "valgrind" in obj or obj.endswith((".so", ".so.6")) or ".so." in obj:
        lib = os.path.basename(obj)
        return "libc (malloc, memcpy, ...)" if lib.startswith("libc") else lib
    n = name.lstrip("<&*").replace("dyn ", "").replace("mut ", "")
    for prefix in ("impl ", "const "):
        n = n.removeprefix(prefix)
    first = re.split(r"::|<| |\(", n, maxsplit=1)[0]
    if first in ("alloc", "core", "std", "hashbrown"):
        # A generic std function: name the crate of its first type argument when there is one.
        inner = re.findall(r"([a-z_][a-z0-9_]*)::", n)
        for c in inner:
            if c not in ("alloc", "core", "std", "hashbrown", "sync", "vec", "boxed", "ptr", "string", "fmt", "collections", "hash", "raw", "map"):
                return c
    return first or name


def load(directory):
    threads = []
    for path in sorted(glob.glob(os.path.join(directory, "callgrind.out.*-*"))):
        with open(path, errors="replace") as raw:
            text = raw.read()
        which = [what for mark, what in LEFT_OUT.items() if mark in text]
        if which:
            print(f"{path}: {which[0]}, left out", file=sys.stderr)
            continue
        total, incl = annotate(path, True)
        _, excl = annotate(path, False)
        threads.append((total, incl, excl))
    return threads


def main():
    small, large, added = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
    patterns = []
    for arg in sys.argv[4:]:
        if arg.startswith("@"):
            with open(arg[1:]) as lines:
                patterns += [line.rstrip("\n") for line in lines if line.strip()]
        else:
            patterns.append(arg)

    def summary(threads):
        total = sum(t for t, _, _ in threads)
        by_crate = collections.Counter()
        for _, _, excl in threads:
            for (name, obj), cost in excl.items():
                by_crate[crate(name, obj)] += cost
        matched = collections.Counter()
        for _, incl, _ in threads:
            for pattern in patterns:
                matched[pattern] += sum(c for (n, _), c in incl.items() if re.search(pattern, n))
        return total, by_crate, matched

    t0, c0, m0 = summary(small)
    t1, c1, m1 = summary(large)
    print(f"instructions per message (the worker threads): {(t1 - t0) / added:,.0f}")
    print("self cost by crate, per message:")
    rows = sorted(((c1[k] - c0[k]) / added, k) for k in set(c0) | set(c1))
    for cost, name in reversed(rows):
        if abs(cost) >= 500:
            print(f"  {cost:>12,.0f}  {name}")
    if patterns:
        print("inclusive, per message:")
        for p in patterns:
            print(f"  {(m1[p] - m0[p]) / added:>12,.0f}  {p}")


if __name__ == "__main__":
    main()
