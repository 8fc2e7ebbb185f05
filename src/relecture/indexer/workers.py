"""Where tasks run: in this process, in a local process pool, or on a Ray cluster. Each
executor yields every task's `FileOutcome` as it finishes (order not kept).

Pool workers live and die with the job: each one watches the job's process and exits the
moment it ends, so a job killed with `kill -9` leaves no worker finishing shards behind it.
(`prctl(PR_SET_PDEATHSIG)` would not do: a worker's parent is multiprocessing's forkserver,
not the job, and the forkserver stays alive as long as any worker holds its liveness pipe.)
Workers ignore Ctrl-C, which is the job's to handle: it stops the pool and its workers.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

from relecture.errors import ModelUnavailable
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.task import FileTask, index_task

WATCH_S = 0.5  # how often a worker checks on the job where the kernel cannot tell it


def execute(tasks: list[FileTask], workers: int, ray_address: str | None,
            advanced: Callable[[FileTask, float], None]) -> Iterator[FileOutcome]:
    """Run every task, yielding each outcome as it finishes. `advanced(task, seconds)` is
    told how much of a file's footage is done. Closing the iterator stops the workers."""
    if not tasks:
        return
    if ray_address:
        yield from _ray(tasks, workers, ray_address, advanced)
    elif workers <= 1:
        for t in tasks:
            yield index_task(t, lambda s, t=t: advanced(t, s))
    else:
        yield from _pool(tasks, workers, advanced)


def crashed(task: FileTask, how: str, e: BaseException) -> FileOutcome:
    """The outcome of a task whose worker died (killed, out of memory, node lost)."""
    return FileOutcome(task.file.path, "failed", f"{how} ({type(e).__name__}); redone next run",
                       camera=task.file.hints.camera)


def _bounded(submit, tasks: list[FileTask], in_flight: int):
    """Submit lazily, keeping at most `in_flight` tasks queued (memory and fairness)."""
    it = iter(tasks)
    pending = {}
    for t in it:
        pending[submit(t)] = t
        if len(pending) >= in_flight:
            break
    return it, pending


def _pool(tasks: list[FileTask], workers: int, advanced) -> Iterator[FileOutcome]:
    import multiprocessing

    # forkserver: workers start from a clean process, not a fork of this one (its threads,
    # open catalog and index.lock descriptor must not be inherited)
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                               initializer=worker_init, initargs=(os.getpid(),))
    finished = False
    try:
        it, pending = _bounded(lambda t: pool.submit(index_task, t), tasks, 2 * workers)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                t = pending.pop(fut)
                try:
                    outcome = fut.result()
                except ModelUnavailable:
                    raise
                except Exception as e:
                    outcome = crashed(t, "worker crashed", e)
                advanced(t, t.duration_s)
                yield outcome
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(index_task, nxt)] = nxt
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # stopped early (Ctrl-C, missing model): do not wait for the running files
            # the executor has no public way to stop running workers before Python 3.14
            running = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in running:
                p.terminate()


def worker_init(job_pid: int) -> None:
    """Initialise a pool worker: ignore Ctrl-C, and exit as soon as process `job_pid` (the
    job that started the pool, alive while its workers start) has ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_job, args=(job_pid,), daemon=True,
                     name="relecture-job-watch").start()


def _watch_job(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)  # Linux 5.3+: readable once the process has exited
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:  # elsewhere: poll (a killed job counts as gone once its parent has reaped it)
        while _exists(pid):
            time.sleep(WATCH_S)
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process: not the job
        return False
    return True


def _ray(tasks: list[FileTask], workers: int, address: str, advanced
         ) -> Iterator[FileOutcome]:
    import ray  # only when --ray is used

    started_here = False
    if not ray.is_initialized():
        if address == "local":
            ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        started_here = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(index_task)
        cpus = int(ray.cluster_resources().get("CPU", workers)) or 1
        it, pending = _bounded(lambda t: remote.remote(t), tasks, 2 * cpus)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                t = pending.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ModelUnavailable:  # Ray's error derives from the task's own
                    raise
                except Exception as e:  # a node or worker died
                    outcome = crashed(t, "Ray task failed", e)
                advanced(t, t.duration_s)
                yield outcome
                nxt = next(it, None)
                if nxt is not None:
                    pending[remote.remote(nxt)] = nxt
    finally:
        if started_here:
            ray.shutdown()
