"""Calling off pending delayed prompts (a trigger's cancel events): status `cancelled`."""
from __future__ import annotations

from typing import Any, Sequence


def cancel_pending(conn: Any, site_id: int, user_id: str, trigger_ids: Sequence[int], transaction: str | None,
                   now: float) -> list[str]:
    """Cancel the user's prompts from these triggers still waiting for their delay (issued,
    deliver_after in the future), only those of `transaction` when given; their ids.

    Inside the batch's write transaction: a prompt being delivered right now is already
    `delivered` (or past its delay) and is left alone."""
    if not trigger_ids:
        return []
    marks = ",".join("?" * len(trigger_ids))
    sql = (f"update prompts set status = 'cancelled', closed_at = ? where site_id = ? and user_id = ? "
           f"and status = 'issued' and deliver_after > ? and trigger_id in ({marks})")
    params: list[Any] = [now, site_id, user_id, now, *trigger_ids]
    if transaction is not None:
        sql += ' and "transaction" = ?'
        params.append(transaction)
    return [row[0] for row in conn.execute(sql + " returning id", params).fetchall()]
