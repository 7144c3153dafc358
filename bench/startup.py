"""Start-up of short commands, for comparing two checkouts of the package.

    .venv/bin/python bench/startup.py [--package-dir DIR] [--importtime FILE_PREFIX]

Measures `--help`, a config error and a `run` of one feed answered 304 (a local server
of its own): CPU (user + system, median of 7 children) and peak RSS (GNU time), next to
Python doing nothing (`python -c pass`, site and the venv's .pth files included) and
the floor (Python, lxml imported, one parse of the 345 KB bench page). With
--package-dir, the feedgen_dw package is imported from DIR (e.g. an older commit
unpacked with `git archive <commit> feedgen_dw | tar -x -C DIR`); the package is
byte-compiled first, as an installed one is. --importtime writes each command's
`python -X importtime` output to FILE_PREFIX-<command>.txt (of --rounds samples, the one
whose summed self times are the median).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.pages import live_page, padding_for
from bench.versus import child
from feedgen_dw.replay import ReplayServer, render_page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package-dir", type=Path)
    parser.add_argument("--importtime")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    package_dir = (args.package_dir or Path(__file__).resolve().parents[1]).resolve()
    compileall.compile_dir(package_dir / "feedgen_dw", quiet=1)
    env = {**os.environ, "PYTHONPATH": str(package_dir)}
    server = ReplayServer().start()
    tmp = Path(tempfile.mkdtemp(prefix="feedgen-dw-startup-"))
    try:
        page = live_page("4242", 30)
        url = server.publish(page, padding=padding_for(300_000, page))
        (tmp / "page.html").write_bytes(
            render_page(page, "http://x", padding=padding_for(300_000, page)).encode())
        (tmp / "config.yaml").write_text(f"feeds:\n  f:\n    url: {url}\n", encoding="utf-8")
        (tmp / "bad.yaml").write_text("feeds: []\n", encoding="utf-8")
        me = [sys.executable, "-m", "feedgen_dw"]
        commands = {
            "python": ([sys.executable, "-c", "pass"], 0),
            "floor": ([sys.executable, "-c", "import lxml.html, sys; "
                       "lxml.html.fromstring(open(sys.argv[1], 'rb').read())",
                       str(tmp / "page.html")], 0),
            "help": ([*me, "--help"], 0),
            "config-error": ([*me, "run", "--config", str(tmp / "bad.yaml")], 2),
            "run-304": ([*me, "run", "-q", "--config", str(tmp / "config.yaml")], 0),
        }
        # not from the checkout: `python -m` puts the working directory first on sys.path,
        # and the package found there would win over --package-dir
        os.chdir(tmp)
        subprocess.run(commands["run-304"][0], check=True, env=env)  # first sight
        os.environ["PYTHONPATH"] = str(package_dir)  # child() passes the environment on
        for name, (command, expect) in commands.items():
            samples = [child(command, expect) for _ in range(args.rounds)]
            cpu = statistics.median(c for c, _ in samples) * 1000
            print(f"{name:<13} CPU {cpu:6.0f} ms (median of {args.rounds}), "
                  f"peak RSS {max(r for _, r in samples):5.1f} MB")
            if args.importtime:
                # importtime is one sample's and a preempted import can show 10 ms more:
                # the sample whose sum is the median of `rounds` is the one written
                runs = sorted((_self_sum(out), out) for out in (
                    subprocess.run([command[0], "-X", "importtime", *command[1:]],
                                   capture_output=True, text=True, env=env).stderr
                    for _ in range(args.rounds)))
                total, text = runs[len(runs) // 2]
                print(f"{'':<13} importtime: {total:.0f} ms summed over "
                      f"{text.count('import time:') - 1} modules (median of {args.rounds})")
                Path(f"{args.importtime}-{name}.txt").write_text(text, encoding="utf-8")
    finally:
        server.stop()
    return 0


def _self_sum(importtime: str) -> float:
    """The sum of the modules' own import times (ms) in `python -X importtime` output."""
    return sum(int(line.split("|")[0].split(":")[1]) for line in importtime.splitlines()
               if line.startswith("import time:") and "self" not in line) / 1000


if __name__ == "__main__":
    raise SystemExit(main())
