"""One HTTP POST to the server, with urllib only; no retries here (see ``sender.py``)."""
from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Mapping

from . import __version__

USER_AGENT = f"ces-sdk-python/{__version__}"


class NetworkError(Exception):
    """The request got no HTTP answer: refused, reset, timed out, DNS failure..."""


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def post(url: str, body: bytes, secret_key: str, timeout: float) -> Response:
    """POST ``body`` (JSON bytes) to ``url``; return the answer whatever its status.

    Raises ``NetworkError`` when there is no answer at all.
    """
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {secret_key}",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:  # a non-2xx answer is still an answer
        try:
            payload = error.read()
        except (OSError, http.client.HTTPException):
            payload = b""
        return Response(error.code, error.headers or {}, payload)
    except (OSError, http.client.HTTPException, socket.timeout, ValueError) as error:
        # URLError, ConnectionError, TimeoutError are OSErrors; RemoteDisconnected and
        # BadStatusLine are HTTPExceptions; ValueError covers a malformed host URL.
        raise NetworkError(f"{type(error).__name__}: {error}") from error
