"""The compact JSON text of a value, as stored, sent and measured everywhere.

`json.dumps(value, separators=...)` builds a new encoder on every call, which costs more than
encoding a small object does; on the event path that is paid per event, so the encoder is built once.
"""
from __future__ import annotations

import json

compact_json = json.JSONEncoder(separators=(",", ":")).encode
