"""Start-up of short commands, for comparing two checkouts of the package.

    .venv/bin/python bench/startup.py [--package-dir DIR] [--importtime FILE_PREFIX]

Measures `--help`, a config error and a `run` of one feed answered 304 (a local server
of its own), over http:// and over https:// (real feeds are https): CPU (user + system,
median of 7 children) and peak RSS (GNU time), next to Python doing nothing
(`python -c pass`, site and the venv's .pth files included) and the floor (Python, lxml
imported, one parse of the 345 KB bench page).

The https server's certificate (self-signed, made with the `openssl` command) is added
to each trust store a deployment finds on its own, not named through a variable that
would replace the store with a one-certificate file (a cheaper load than any real run's):
a copy of certifi whose bundle has it appended (put on PYTHONPATH; imported and located
as the installed one is) and OpenSSL's directory of the system's certificates with it
linked in under its hash (SSL_CERT_DIR, OpenSSL's own variable for that directory).
`run-304-https` is a run as it finds its trust on this machine; `run-304-https-certifi`
has no system directory (SSL_CERT_DIR names an empty one), as on a box without the
ca-certificates package. `make bench` has the first as a row (`https_row`).

With --package-dir, the feedgen_dw package is imported from DIR (e.g. an older commit
unpacked with `git archive <commit> feedgen_dw | tar -x -C DIR`); the package is
byte-compiled first, as an installed one is. --importtime writes each command's
`python -X importtime` output to FILE_PREFIX-<command>.txt (of --rounds samples, the one
whose summed self times are the median).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.pages import live_page, padding_for
from bench.versus import child
from feedgen_dw.replay import DemoPage, ReplayServer, render_page


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
    tmp = Path(tempfile.mkdtemp(prefix="feedgen-dw-startup-"))
    server = ReplayServer().start()
    page = live_page("4242", 30)
    secure, https_config, trusting = https_feed(tmp, page, env)
    try:
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
            "run-304-https": ([*me, "run", "-q", "--config", str(https_config)], 0),
        }
        commands["run-304-https-certifi"] = commands["run-304-https"]
        environments = {"run-304-https": trusting["system"],
                        "run-304-https-certifi": trusting["certifi"]}
        # not from the checkout: `python -m` puts the working directory first on sys.path,
        # and the package found there would win over --package-dir
        os.chdir(tmp)
        subprocess.run(commands["run-304"][0], check=True, env=env)  # first sight
        subprocess.run(commands["run-304-https"][0], check=True,
                       env=environments["run-304-https"])
        for name, (command, expect) in commands.items():
            # child() passes this process's environment on
            os.environ.clear()
            os.environ.update(environments.get(name, env))
            samples = [child(command, expect) for _ in range(args.rounds)]
            cpu = statistics.median(c for c, _ in samples) * 1000
            print(f"{name:<13} CPU {cpu:6.0f} ms (median of {args.rounds}), "
                  f"peak RSS {max(r for _, r in samples):5.1f} MB")
            if args.importtime:
                # importtime is one sample's and a preempted import can show 10 ms more:
                # the sample whose sum is the median of `rounds` is the one written
                runs = sorted((_self_sum(out), out) for out in (
                    subprocess.run([command[0], "-X", "importtime", *command[1:]],
                                   capture_output=True, text=True).stderr
                    for _ in range(args.rounds)))
                total, text = runs[len(runs) // 2]
                print(f"{'':<13} importtime: {total:.0f} ms summed over "
                      f"{text.count('import time:') - 1} modules (median of {args.rounds})")
                Path(f"{args.importtime}-{name}.txt").write_text(text, encoding="utf-8")
    finally:
        server.stop()
        secure.stop()
    return 0


def https_feed(tmp: Path, page: DemoPage, env: dict[str, str],
               ) -> tuple[ReplayServer, Path, dict[str, dict[str, str]]]:
    """A started TLS server publishing `page`, the config of one feed of it
    (tmp/https/config.yaml), and the environments (from `env`) of a run that trusts the
    server as it trusts by itself: "system" (the certificate in the system's directory
    and in certifi's bundle) and "certifi" (no system directory)."""
    secure = _tls_server(tmp).start()
    url = secure.publish(page, padding=padding_for(300_000, page))
    (tmp / "https").mkdir()
    config = tmp / "https" / "config.yaml"
    config.write_text(f"feeds:\n  f:\n    url: {url}\n", encoding="utf-8")
    trust = _trust_stores(tmp, tmp / "cert.pem")
    plain = {k: v for k, v in env.items()
             if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")}
    path = os.pathsep.join(filter(None, (env.get("PYTHONPATH"), str(trust))))
    return secure, config, {
        kind: {**plain, "PYTHONPATH": path, "SSL_CERT_DIR": str(tmp / folder)}
        for kind, folder in (("system", "certs"), ("certifi", "certs-empty"))}


def https_row(bench: Any, folder: Path, rounds: int) -> None:
    """`make bench`'s row: a 304 `run` over https, trusting as `run-304-https` above."""
    folder.mkdir()
    page = live_page("4343", 30)
    secure, config, trusting = https_feed(folder, page, dict(os.environ))
    command = [sys.executable, "-m", "feedgen_dw", "run", "-q", "--config", str(config)]
    kept = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(trusting["system"])  # child() passes the environment on
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # first sight
        samples = [child(command) for _ in range(rounds)]
    finally:
        os.environ.clear()
        os.environ.update(kept)
        secure.stop()
    peak = max(r for _, r in samples)
    bench.row("start-up: feedgen-dw run, one feed answered 304 over https",
              statistics.median(c for c, _ in samples),
              f"median of {rounds}; peak RSS {peak:.1f} MB; system certificate directory",
              per_poll=False, peak_child_rss_mb=round(peak, 1))


def _tls_server(tmp: Path) -> ReplayServer:
    """A ReplayServer answering over TLS, with a self-signed certificate for 127.0.0.1
    (tmp/cert.pem)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    server = ReplayServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.base_url = server.base_url.replace("http://", "https://")
    return server


def _trust_stores(tmp: Path, cert: Path) -> Path:
    """`cert` added to both stores a run finds by itself: tmp/certs, the system's
    hashed directory with it linked in (tmp/certs-empty: none), and a copy of certifi
    with it appended to the bundle, in the folder returned (for PYTHONPATH)."""
    spec = importlib.util.find_spec("certifi")
    assert spec is not None and spec.origin is not None, "the bench needs certifi installed"
    site = tmp / "certifi-site"
    shutil.copytree(Path(spec.origin).parent, site / "certifi",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(site / "certifi" / "cacert.pem", "a", encoding="ascii") as bundle:
        bundle.write("\n" + cert.read_text(encoding="ascii"))
    compileall.compile_dir(site, quiet=1)
    certs = tmp / "certs"
    certs.mkdir()
    (tmp / "certs-empty").mkdir()
    system = ssl.get_default_verify_paths().capath
    for entry in os.scandir(system) if system else ():
        if re.fullmatch(r"[0-9a-f]{8}\.[0-9]+", entry.name):
            (certs / entry.name).symlink_to(entry.path)
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
                            check=True, capture_output=True, text=True).stdout.strip()
    n = 0
    while (certs / f"{digest}.{n}").exists():
        n += 1
    (certs / f"{digest}.{n}").symlink_to(cert)
    return site


def _self_sum(importtime: str) -> float:
    """The sum of the modules' own import times (ms) in `python -X importtime` output."""
    return sum(int(line.split("|")[0].split(":")[1]) for line in importtime.splitlines()
               if line.startswith("import time:") and "self" not in line) / 1000


if __name__ == "__main__":
    raise SystemExit(main())
