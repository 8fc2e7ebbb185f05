"""What killed or interrupted index jobs left behind, put in order by the next job before it
starts (under the job lock, so none of them is still running):

- half-written shards, and thumbnails half-written by a killed load, are deleted;
- complete shards are committed for the job that wrote them (`recordings.job_id` names
  that job, never the one recovering them);
- a job that never recorded its end (killed: `kill -9`, power cut, out of memory) is marked
  interrupted in `index_jobs`, and its missing audit entry is written: `index_job` with
  result "interrupted", naming every recording it committed;
- recordings committed now from the kept shards of a job that did record its end (Ctrl-C
  with a pool, disk full while committing) are audited as `index_job_recovery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from relecture.catalog import Catalog
from relecture.files import remove_temporaries
from relecture.indexer import shards as shardlib
from relecture.indexer.loader import commit
from relecture.indexer.outcome import FileOutcome
from relecture.requisitions.audit import AuditEvent, append
from relecture.requisitions.site import Site
from relecture.settings import Home


@dataclass(frozen=True)
class JobRecord:
    """Who ran an earlier job and under which legal basis (from its `index_jobs` row)."""

    job_id: str
    actor: str
    role: str = "operator"
    requisition: str | None = None
    requisition_type: str | None = None


@dataclass
class Recovery:
    """What `recover` did."""

    temporaries_removed: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)  # shards committed or kept


def recover(home: Home, site: Site, by_job: str, actor: str) -> Recovery:
    """Put earlier jobs in order (see the module doc) before job `by_job` of `actor` starts."""
    sroot = shardlib.shards_dir(home)
    # a kill during a load can leave a thumbnail half-written beside the committed ones
    done = Recovery(shardlib.remove_temporaries(sroot) + remove_temporaries(home.thumbnails_dir))
    committed: dict[str, list[FileOutcome]] = {}
    for directory in shardlib.job_dirs(sroot):
        for shard in shardlib.complete_shards(directory):
            stand_in = FileOutcome(Path(shard.name), "indexed")
            outcome = commit(home, shard, directory.name, stand_in)
            if outcome.status == "skipped":  # killed between COMMIT and the shard's delete
                continue
            note = (f"committed for interrupted job {directory.name[:8]} from its shard"
                    if outcome.status == "indexed" else outcome.message)
            outcome = replace(outcome, message=note)
            done.outcomes.append(outcome)
            if outcome.status == "indexed":
                committed.setdefault(directory.name, []).append(outcome)
        shardlib.remove_if_empty(directory)
    with Catalog(home) as catalog:
        killed = [_record(j, a, p) for j, a, p in catalog.unfinished_jobs()]
        for job in killed:
            catalog.finish_job(job.job_id, len(catalog.job_recordings(job.job_id)), 0, 0,
                               status="interrupted")
        rows = {job.job_id: catalog.job_recordings(job.job_id) for job in killed}
        known = {j: _record(j, a, p) for j, a, p in catalog.jobs(list(committed))}
    for job in killed:
        reason = (f"index job {job.job_id[:8]} ended without recording its end (killed); "
                  f"recorded by job {by_job[:8]}")
        append(home, _event(job, "index_job", rows[job.job_id], reason, "interrupted"),
               site.audit_checkpoint_every)
    for job_id, outcomes in committed.items():
        if any(k.job_id == job_id for k in killed):
            continue  # named by the killed job's entry above
        job = known.get(job_id, JobRecord(job_id, actor))
        recs = [(o.sha256, o.camera, o.sightings) for o in outcomes]
        append(home, _event(job, "index_job_recovery", recs,
                            f"kept shards of index job {job_id[:8]} committed by job "
                            f"{by_job[:8]}", "done"), site.audit_checkpoint_every)
    return done


def _record(job_id: str, actor: str, parameters: dict) -> JobRecord:
    req = parameters.get("requisition") or {}
    return JobRecord(job_id, actor, parameters.get("role") or "operator",
                     req.get("reference"), req.get("type"))


def _event(job: JobRecord, action: str, recordings: list[tuple], reason: str,
           result: str) -> AuditEvent:
    """The entry for what `job` committed: `recordings` are (sha256, camera, sightings)."""
    sightings = sum(int(n) for _, _, n in recordings)
    return AuditEvent(
        actor=job.actor, role=job.role, action=action,
        objects={"index_job": job.job_id,
                 "recordings": sorted({sha for sha, _, _ in recordings}),
                 "cameras": sorted({cam for _, cam, _ in recordings if cam}),
                 "counts": {"files_indexed": len(recordings), "sightings": sightings}},
        requisition=job.requisition, requisition_type=job.requisition_type,
        reason=reason, result_count=sightings, result=result)
