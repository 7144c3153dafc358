"""https on the fetcher's plain path (http.client with the fetcher's TLS context) and on
the pooled one: pages are fetched, 304s answered and certificates checked against the CA
bundle the environment names, or the system's hashed directory without certifi."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

PAGE = b"<html><head><title>t</title></head><body><p>tls</p></body></html>"
PROBE = """
import json, sys
from feedgen_dw.fetch import Fetcher
out = {}
fetcher = Fetcher(retries=0)
first = fetcher.get(sys.argv[1])
again = fetcher.get(sys.argv[1], validators=first.validators)
out.update(first=[first.status, first.text], again=again.status,
           urllib3="urllib3" in sys.modules,  # the full path was not needed
           certifi="certifi" in sys.modules)
if len(sys.argv) > 2:  # a redirect: urllib3's pools, with the same trust
    moved = fetcher.get(sys.argv[2])
    out.update(moved=[moved.status, moved.url], urllib3="urllib3" in sys.modules)
fetcher.close()
print(json.dumps(out))
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/page")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/page", cert
    finally:
        server.shutdown()
        server.server_close()


CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _probe(url: str, ca: Path, *more: str,
           variable: str = "REQUESTS_CA_BUNDLE") -> subprocess.CompletedProcess[str]:
    # this process's environment (a faked clock is in it: the certificate was made on that
    # clock and must be checked on it), with no CA variable but the one given
    env = {key: value for key, value in os.environ.items() if key not in CA_VARIABLES}
    env[variable] = str(ca)
    return subprocess.run([sys.executable, "-c", PROBE, url, *more], capture_output=True,
                          text=True, env=env, timeout=60)


def _hashed_folder(folder: Path, cert: Path) -> Path:
    """A folder holding `cert` under its subject hash, as update-ca-certificates lays out
    the system's."""
    folder.mkdir()
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
                            check=True, capture_output=True, text=True).stdout.strip()
    (folder / f"{digest}.0").symlink_to(cert)
    return folder


def _other_certificate(tmp_path: Path) -> Path:
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(other), "-subj", "/CN=x"],
                   check=True, capture_output=True)
    return other


def test_https_page_and_304_over_the_plain_path(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    out = _probe(url, cert)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.splitlines()[-1])
    assert seen["first"] == [200, PAGE.decode()] and seen["again"] == 304
    assert not seen["urllib3"]  # the plain path, not the pooled one


def test_a_certificate_not_trusted_is_a_failed_fetch(
        tls_server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = tls_server
    out = _probe(url, _other_certificate(tmp_path))
    assert out.returncode != 0 and "certificate" in out.stderr.lower()
    assert "Traceback" in out.stderr and "FetchError" in out.stderr


def test_the_system_directory_is_trusted_without_certifi(
        tls_server: tuple[str, Path], tmp_path: Path) -> None:
    url, cert = tls_server
    folder = _hashed_folder(tmp_path / "certs", cert)
    out = _probe(url, folder, url.replace("/page", "/moved"), variable="SSL_CERT_DIR")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.splitlines()[-1])
    assert seen["first"] == [200, PAGE.decode()] and seen["again"] == 304
    assert seen["moved"] == [200, url] and seen["urllib3"]  # the pooled path trusts it too
    assert not seen["certifi"]  # neither imported nor its bundle read


def test_a_certificate_not_in_the_system_directory_is_a_failed_fetch(
        tls_server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = tls_server
    folder = _hashed_folder(tmp_path / "certs", _other_certificate(tmp_path))
    out = _probe(url, folder, variable="SSL_CERT_DIR")
    assert out.returncode != 0 and "certificate" in out.stderr.lower()
    assert "FetchError" in out.stderr


def test_trust_is_a_named_bundle_else_the_hashed_system_folder_else_certifi(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    from feedgen_dw.trust import ca_locations

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "ca.pem").write_text("not hashed", encoding="ascii")
    monkeypatch.setenv("SSL_CERT_DIR", str(plain))
    assert ca_locations() == (certifi.where(), None)
    hashed = tmp_path / "hashed"
    hashed.mkdir()
    (hashed / "0a1b2c3d.0").write_text("a certificate", encoding="ascii")
    monkeypatch.setenv("SSL_CERT_DIR", str(hashed))
    assert ca_locations() == (None, str(hashed))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "system.pem"))
    assert ca_locations() == (str(tmp_path / "system.pem"), None)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(plain))
    assert ca_locations() == (None, str(plain))
