"""The operational measures the source articles tie to effort, as conventional event property
names. A site that sends them under these names gets them ranked as drivers and bucketed with
the same fixed buckets (core/drivers.py) as every other number; the demo sends them.

Nothing requires these names: every property is ranked. They are the shared vocabulary of the
docs (docs/insights.md), the demo and the benchmarks.
"""
from __future__ import annotations

import random
from typing import Any

OPERATIONAL_PROPERTIES: dict[str, str] = {
    "transfers": "times the customer was passed to another agent or team (integer)",
    "repeat_contacts": "earlier contacts about the same issue before this one (integer)",
    "channel_switches": "times the customer had to change channel: chat to phone, email to chat (integer)",
    "wait_seconds": "seconds the customer waited to reach someone or to be served (number)",
    "channel": "the channel of the interaction: chat, phone, email, web (text)",
}


def demo_support_properties(rng: random.Random) -> dict[str, Any]:
    """A pretend support ticket's measures, as the demo's backend sends them: more transfers and
    longer waits are more likely together, as in a real queue."""
    transfers = min(int(rng.expovariate(1.2)), 5)
    return {"channel": rng.choice(("chat", "phone", "email")), "transfers": transfers,
            "repeat_contacts": min(int(rng.expovariate(1.5)), 4), "channel_switches": min(int(rng.expovariate(2.5)), 3),
            "wait_seconds": int(rng.expovariate(1 / 120)) + 60 * transfers}
