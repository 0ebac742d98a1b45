"""Settings read from the environment: the server's URL is ``CES_URL``.

``CES_HOST`` was the old name; the server used the same name for the address it binds, so one
variable meant two things on a machine running both. It still works here, with a warning.
"""
from __future__ import annotations

import os
import warnings
from typing import Mapping, Optional


class SettingDeprecationWarning(DeprecationWarning):
    """A setting that still works under an old name (shown: DeprecationWarning alone is hidden)."""


warnings.simplefilter("default", SettingDeprecationWarning)


def server_url(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """``CES_URL``, else the deprecated ``CES_HOST`` (with a warning), else None."""
    environ = os.environ if environ is None else environ
    url = environ.get("CES_URL")
    if url:
        return url
    old = environ.get("CES_HOST")
    if old:
        warnings.warn("CES_HOST is deprecated for the SDK: set CES_URL to the server's URL.",
                      SettingDeprecationWarning, stacklevel=3)
        return old
    return None
