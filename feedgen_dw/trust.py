"""Which CA certificates TLS is checked against, for both HTTP clients (fetch.py and
pooled.py): loading them is most of what https adds to a short run's start-up."""

from __future__ import annotations

import os
import re

HASHED_RE = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def ca_locations() -> tuple[str | None, str | None]:
    """(cafile, capath): the CA certificates TLS is checked against. A bundle named by
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (requests' variables) or SSL_CERT_FILE; else the
    system's hashed directory (OpenSSL's, SSL_CERT_DIR honoured), where OpenSSL reads only
    the roots a handshake needs; else certifi's bundle, as requests trusts. Reading a
    bundle means decoding all its certificates: about 40 ms of CPU for certifi's 117 with
    OpenSSL 3.0, plus 20-30 ms to import certifi (importlib.resources), in every cron
    run with an https feed; a lookup in the directory costs a millisecond or
    two. The system directory is what the system's own tools trust, local CAs an
    administrator added included."""
    ca = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
          or os.environ.get("SSL_CERT_FILE"))
    if ca:
        return (None, ca) if os.path.isdir(ca) else (ca, None)
    import ssl

    system = ssl.get_default_verify_paths().capath
    if system and _hashed(system):
        return None, system
    return _certifi_bundle(), None


def _hashed(folder: str) -> bool:
    """True when a folder holds certificates under OpenSSL's subject hashes (c_rehash,
    update-ca-certificates), the only names OpenSSL looks up there."""
    try:
        with os.scandir(folder) as entries:
            return any(HASHED_RE.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


def _certifi_bundle() -> str:
    """certifi.where() for an installed certifi, found without importing it (its import
    brings importlib.resources, pathlib and tempfile); certifi itself when the bundle
    is elsewhere (a zip, a distribution's certifi pointing at the system's bundle)."""
    from importlib.util import find_spec

    spec = find_spec("certifi")
    if spec is not None and spec.origin and spec.submodule_search_locations:
        bundle = os.path.join(os.path.dirname(spec.origin), "cacert.pem")
        if os.path.isfile(bundle):
            return bundle
    import certifi

    return certifi.where()
