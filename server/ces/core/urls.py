"""What a URL field (a webhook's address) may hold: an absolute http(s) URL with a real host.

`urllib.parse.urlsplit` is lenient (it silently drops tabs and newlines, accepts `http://`
without a host) and raises ValueError on some inputs (`http://[::1`): every such case is
answered here with a sentence, so an API can refuse it with a 400 naming the field.
"""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

MAX_URL = 2048
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")


def http_url_problem(value: str) -> str | None:
    """None for a usable http:// or https:// URL, else what is wrong with it."""
    if len(value) > MAX_URL:
        return f"Longer than {MAX_URL} characters."
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        return "Must not contain spaces or control characters."
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port  # .port raises on "x:99999" and "x:port"
    except ValueError as err:
        return f"Not a valid URL ({err})."
    if parts.scheme not in ("http", "https"):
        return "Must be an http:// or https:// URL."
    if not host:
        return "Must have a host (http://host/...)."
    if port == 0:
        return "Port 0 is not a port."
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("[") and not re.fullmatch(r"\[[^\]]*\](:\d*)?", hostport):
        return "Only a port may follow an IPv6 address ([::1]:8080)."
    return _host_problem(host)


def _host_problem(host: str) -> str | None:
    if ":" in host:  # inside [...]: an IPv6 address
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"'{host}' is not an IPv6 address."
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")  # bücher.example -> xn--bcher-kva.example
    except UnicodeError:
        return "The host is not a valid domain name."
    if len(ascii_host) > 253 or not _HOST_NAME.fullmatch(ascii_host):
        return "The host is not a valid domain name."
    return None
