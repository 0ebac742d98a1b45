"""Command line: send one event or one user's traits from a shell script or a helpdesk hook.

    python -m ces_sdk track --user u1 --event ticket_closed --prop channel=chat
    python -m ces_sdk identify --user u1 --trait plan=pro
    python -m ces_sdk user-hash --user u1
    python -m ces_sdk opt-out --user u1

The secret key and URL come from ``CES_SECRET_KEY`` and ``CES_URL`` (or ``--secret-key`` and
``--host``; prefer the environment: a command line is visible to other users of the machine).
The call is sent at once (sync mode) with a few quick retries. Exit status: 0 delivered (the
decision is printed as JSON), 1 not delivered (why is on stderr), 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

from . import __version__
from .client import DEFAULT_HOST, Client
from .settings import server_url


def _pairs(values: List[str], option: str, as_json: bool) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: {option} expects KEY=VALUE, got {value!r}")
        if as_json:
            try:
                out[key] = json.loads(raw)
            except ValueError:
                raise SystemExit(f"error: {option} {key}: {raw!r} is not JSON")
        else:
            out[key] = raw
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ces_sdk", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"ces-sdk {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default=None, help=f"CES server URL (default: $CES_URL or {DEFAULT_HOST})")
    common.add_argument("--secret-key", default=None, help="site secret key (default: $CES_SECRET_KEY)")
    common.add_argument("--timeout", type=float, default=5.0, help="seconds per HTTP request (default 5)")
    common.add_argument("--retries", type=int, default=3, help="retries on network errors, 5xx, 408, 429 (default 3)")
    common.add_argument("-v", "--verbose", action="store_true", help="log retries to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    track = commands.add_parser("track", parents=[common], help="send one event and print the decision")
    track.add_argument("--user", required=True, help="user id")
    track.add_argument("--event", required=True, help="event name, e.g. ticket_closed")
    track.add_argument("--prop", action="append", default=[], metavar="KEY=VALUE",
                       help="a property with a string value (repeatable)")
    track.add_argument("--json-prop", action="append", default=[], metavar="KEY=JSON",
                       help="a property with a JSON value, e.g. total=42.5 (repeatable)")
    track.add_argument("--event-id", default=None, help="idempotency key: the same id is counted once")
    track.add_argument("--timestamp", default=None, help="ISO 8601 time of the event (default: now)")

    identify = commands.add_parser("identify", parents=[common], help="merge traits into a user")
    identify.add_argument("--user", required=True, help="user id")
    identify.add_argument("--trait", action="append", default=[], metavar="KEY=VALUE",
                          help="a trait with a string value (repeatable)")
    identify.add_argument("--json-trait", action="append", default=[], metavar="KEY=JSON",
                          help="a trait with a JSON value; null removes the trait (repeatable)")

    opt = commands.add_parser("opt-out", parents=[common], help="never ask a user again on the site")
    opt.add_argument("--user", required=True, help="user id")

    hash_ = commands.add_parser("user-hash", parents=[common], help="print the widget user_hash of a user id")
    hash_.add_argument("--user", required=True, help="user id")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, stream=sys.stderr,
                        format="%(message)s")
    secret_key = args.secret_key or os.environ.get("CES_SECRET_KEY", "")
    if not secret_key:
        print("error: no secret key: set CES_SECRET_KEY or pass --secret-key", file=sys.stderr)
        return 2
    host = args.host or server_url() or DEFAULT_HOST
    try:
        client = Client(secret_key, host, sync_mode=True, timeout=args.timeout, max_retries=args.retries,
                        backoff_base=0.25, backoff_max=2.0)
        if args.command == "user-hash":
            print(client.user_hash(args.user))
            return 0
        if args.command == "opt-out":
            if not client.opt_out(args.user, timeout=args.timeout * (args.retries + 1)):
                print("error: the opt-out was not delivered", file=sys.stderr)
                return 1
            print(json.dumps({"user_id": args.user, "opted_out": True}))
            return 0
        if args.command == "track":
            properties = {**_pairs(args.prop, "--prop", False), **_pairs(args.json_prop, "--json-prop", True)}
            result = client.track(args.user, args.event, properties or None,
                                  timestamp=args.timestamp, event_id=args.event_id)
            if result is None:
                print("error: the event was not delivered", file=sys.stderr)
                return 1
            print(json.dumps(result, ensure_ascii=False))
            return 0
        traits = {**_pairs(args.trait, "--trait", False), **_pairs(args.json_trait, "--json-trait", True)}
        if not client.identify(args.user, traits):
            print("error: the traits were not delivered", file=sys.stderr)
            return 1
        print(json.dumps({"users": 1}))
        return 0
    except (TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
