"""Which shipped profile (feedgen_dw/profiles/*.yaml) serves which hosts: named in the
error when `auto` cannot read a page of one of them."""

from __future__ import annotations

from urllib.parse import urlsplit

SHIPPED_HOSTS = {"br24": ("br.de",), "sportowefakty": ("sportowefakty.wp.pl",)}


def profiles_for(url: str) -> list[str]:
    """Shipped profiles whose hosts serve `url`."""
    host = (urlsplit(url).hostname or "").lower()
    return [name for name, hosts in SHIPPED_HOSTS.items()
            if any(host == h or host.endswith("." + h) for h in hosts)]
