"""Who did what, when: the service's audit log, with the review decisions of the cluster state.

Every write through the service (stored opinions, drafts, batches uploaded or deleted) records the
name of the key that made it; review decisions (:mod:`nlp.clustering.review`) record their
reviewer in the library's own log, and :func:`read_audit` lists both.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nlp.core.ids import now
from service.db import audit

__all__ = ["read_audit", "record"]


def record(engine: Engine, who: str, action: str, target: str = "", detail: str = "") -> None:
    """Add one line to the audit log."""
    row = {"at": now(), "who": who, "action": action, "target": target, "detail": detail}
    with engine.begin() as conn:
        conn.execute(audit.insert().values(**row))


def read_audit(
    engine: Engine, who: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict]:
    """The audit log and the review decisions, newest first."""
    a = audit.c
    service = sa.select(
        a.at, a.who, a.action, a.target, a.detail, sa.literal("service").label("source")
    )
    parts = [service.where(a.who == who) if who else service]
    if "decisions" in sa.inspect(engine).get_table_names():
        names = ("at", "who", "action", "args", "why")
        d = sa.table("decisions", *(sa.column(n) for n in names))
        action = (sa.literal("review.") + d.c.action).label("action")
        source = sa.literal("review").label("source")
        review = sa.select(
            d.c.at, d.c.who, action, d.c.args.label("target"), d.c.why.label("detail"), source
        )
        parts.append(review.where(d.c.who == who) if who else review)
    union = sa.union_all(*parts).subquery()
    query = sa.select(union).order_by(union.c.at.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
