"""The yearly transparency report: what the system was used for, in counts, from the audit
log (verified first). No personal data: no names, no references, no plates, no queries."""

from __future__ import annotations

from collections import Counter

from relecture.requisitions import audit
from relecture.requisitions.audit_verify import verify_home
from relecture.settings import Home


def transparency_report(home: Home, year: int, public_key=None) -> dict:
    """Counts of `year`'s audited actions (UTC year of each entry). IntegrityError when the
    audit log does not verify: a report from a broken log would prove nothing."""
    verify_home(home, public_key).check()
    prefix = f"{int(year):04d}-"
    actions: Counter = Counter()
    req_types: Counter = Counter()
    cameras: set[str] = set()
    sums: Counter = Counter()
    for r in audit.read_records(home.audit_log):
        if r.get("record") != "event" or not str(r.get("time", "")).startswith(prefix):
            continue
        if r.get("result") == "refused":  # counted apart: nothing was done or reached
            sums["refused"] += 1
            continue
        action, objects = r.get("action"), r.get("objects") or {}
        actions[action] += 1
        counts = objects.get("counts") or {}
        if action == "requisition_open":
            req_types[(r.get("legal_basis") or {}).get("type") or "unknown"] += 1
        elif action in ("search", "view", "export", "synopsis"):
            cameras.update(objects.get("cameras") or [])
            if action == "export":
                sums["sightings_exported"] += len(objects.get("sightings") or [])
        elif action == "purge":
            sums["recordings_purged"] += counts.get("recordings", 0)
            sums["sightings_purged"] += counts.get("sightings", 0)
        elif action == "legal_hold":
            sums["holds_placed"] += counts.get("placed", 0)
            sums["holds_released"] += counts.get("released", 0)
    return {
        "year": int(year),
        "requisitions_opened": actions["requisition_open"],
        "requisitions_by_type": dict(sorted(req_types.items())),
        "requisitions_closed": actions["requisition_close"],
        "searches": actions["search"],
        "sightings_viewed": actions["view"],
        "exports": actions["export"],
        "sightings_exported": sums["sightings_exported"],
        "purges": actions["purge"],
        "recordings_purged": sums["recordings_purged"],
        "sightings_purged": sums["sightings_purged"],
        "legal_holds_placed": sums["holds_placed"],
        "legal_holds_released": sums["holds_released"],
        "index_jobs": actions["index_job"],
        "distinct_cameras_accessed": len(cameras),
        "actions_refused": sums["refused"],
        "source": "audit log, verified (hash chain and signatures) before counting",
    }
