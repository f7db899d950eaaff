"""Pool benchmark: drawing a random batch and checking 5 self-chosen candidates, as the
pre-selection use cases do them (one transaction each, row locks included), against a pool of
1,000,000 numbers and one of 10,000, on SQLite and on PostgreSQL.

    python -m bench.preselect_pool                                   # SQLite file in /tmp
    python -m bench.preselect_pool --db postgresql://postgres@127.0.0.1:5432/test
    python -m bench.preselect_pool --sizes 10000 --iterations 100    # quick look

``--db`` with PostgreSQL creates a scratch database on that server and drops it afterwards.
The pools are loaded through the staff use case (``load_pool``); loading is timed apart. Each
timed operation is a whole use case: ``draw_batch`` (hold 10 random numbers for the session,
release the previous batch, spend one batch) and ``choose_own`` with 5 candidates that are all
taken already (5 locked look-ups, allowance spent). Each operation comes a second after the one
before, as a user's turns do, so each also moves the selection session's expiry on. Allowances
are reset between operations, outside the timing. Target: p99 under 5 ms, the same at both pool
sizes. Each operation is shown twice: wall-clock time, and (``/cpu``) the CPU time of this
process alone, which on a busy machine tells the code's own cost apart from waiting for a core
(PostgreSQL's work is not in it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import basic_information, office_admin, pools, selection
from core.accounts import Account, Category, Language, PersonDetails
from core.clock import ManualClock
from core.plates import PlateKind
from core.pools import NumberState
from core.preselection import SESSION_IDLE, SelectionSession
from core.registry import import_registry_csv, vin_check_digit
from store import migrate
from store.db import create_engine, is_postgres, scratch_database
from store.preselection_tables import plate_numbers, preselections
from store.uow import UnitOfWorkFactory

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 at the office
OWNER = "440304199001011233"
TAKEN = 2000  # numbers per pool marked as issued: self-chosen candidates come from these

# 1,000,000 ordinary numbers: four one-letter patterns of 240,000 and 40,000 all-digit ones.
PATTERNS_1M = ("LDDDD", "DLDDD", "DDLDD", "DDDLD")
RANGES_1M = ("10000-49999",)


@dataclass
class Pool:
    code: str
    size: int
    session_id: int
    preselection_id: int
    taken: list[str]


def _vin(n: int) -> str:
    body = f"LGBH52E00NY{n:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def _pool_sources(size: int) -> dict[str, tuple[str, ...]]:
    if size == 1_000_000:
        return {"patterns": PATTERNS_1M, "ranges": RANGES_1M}
    return {"ranges": (f"{10000}-{10000 + size - 1}",)}


def set_up(
    uows: UnitOfWorkFactory, account: Account, code: str, size: int, n: int
) -> tuple[Pool, float]:
    """An office with a pool of ``size`` and one vehicle in stage 2; the seconds loading took."""
    with uows() as uow:
        office_admin.create_office(
            uow,
            code=code,
            name=f"bench {code}",
            region_code="4405",
            hours="00:00-23:59",
            self_choice_allowance=1000,
            batch_allowance=1000,
        )
        uow.commit()
    started = time.perf_counter()
    with uows() as uow:
        report = pools.load_pool(uow, office_code=code, kind=PlateKind.SMALL, **_pool_sources(size))
        uow.commit()
    loading = time.perf_counter() - started
    assert report.added == size, report
    with uows() as uow:
        office = uow.offices.by_code(code)
        assert office is not None and office.id is not None
        taken = uow.pool.sample(office.id, PlateKind.SMALL, TAKEN, no_four=False, start=0)
        for serial in taken:
            uow.pool.set_state(office.id, PlateKind.SMALL, serial, NumberState.ISSUED)
        csv = f"vin,certificate_no,owner_id,plate_kind\n{_vin(n)},WAC{n:012d},{OWNER},small"
        import_registry_csv(uow, text=csv, now=NOW, today=NOW.date())
        preselection = basic_information.begin(
            uow,
            now=NOW,
            account=account,
            office_code=code,
            vin=_vin(n),
            certificate_no=f"WAC{n:012d}",
        )
        session = SelectionSession(
            preselection_id=preselection.id or 0,
            account_id=account.id or 0,
            started_at=NOW,
            expires_at=NOW + SESSION_IDLE,
        )
        uow.sessions.add(session)
        uow.commit()
    return Pool(code, size, session.id or 0, preselection.id or 0, taken), loading


def _reset(engine: Engine, pool: Pool) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(preselections)
            .where(preselections.c.id == pool.preselection_id)
            .values(self_choice_left=1000, batches_left=1000)
        )


def measure(
    uows: UnitOfWorkFactory, engine: Engine, account: Account, pool: Pool, iterations: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {
        "draw a batch": [],
        "check 5 candidates": [],
        "draw a batch/cpu": [],
        "check 5 candidates/cpu": [],
    }
    clock = ManualClock(NOW)

    def draw() -> None:
        with uows() as uow:
            selection.draw_batch(
                uow, now=clock.now(), account=account, session_id=pool.session_id, no_four=False
            )
            uow.commit()

    def check() -> None:
        typed = " ".join(random.sample(pool.taken, 5))
        with uows() as uow:
            outcome = selection.choose_own(
                uow, now=clock.now(), account=account, session_id=pool.session_id, typed=typed
            )
            uow.commit()
        assert outcome.taken is None and outcome.spent == 5

    operations: dict[str, Callable[[], None]] = {"draw a batch": draw, "check 5 candidates": check}
    for index in range(iterations + iterations // 10):
        if index % 50 == 0:
            _reset(engine, pool)
        for name, operation in operations.items():
            clock.advance(timedelta(seconds=1))  # a later turn: the session's expiry moves on
            started, cpu = time.perf_counter(), time.process_time()
            operation()
            if index >= iterations // 10:  # the first tenth warms up
                timings[name].append((time.perf_counter() - started) * 1000)
                timings[f"{name}/cpu"].append((time.process_time() - cpu) * 1000)
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def database(url: str | None) -> Iterator[Engine]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    with scratch_database(url, "platebot_bench") as engine:
        yield engine


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument(
        "--sizes", default="1000000,10000", help="pool sizes (1000000 or up to 90000)"
    )
    parser.add_argument("--iterations", type=int, default=500, help="timed operations of each kind")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with database(args.db) as engine:
        migrate.upgrade(engine)
        backend = "PostgreSQL" if is_postgres(engine) else "SQLite"
        uows = UnitOfWorkFactory(engine)
        account = Account.for_person(
            phone="+8613800138000",
            details=PersonDetails("张三", OWNER, "4405", "汕头市某路1号", Category.EXISTING_OWNER),
            language=Language.ZH,
            now=NOW,
        )
        with uows() as uow:
            uow.accounts.add(account)
            uow.commit()
        print(
            f"{backend}: pools of {', '.join(f'{s:,}' for s in sizes)} numbers,"
            f" {args.iterations} operations each"
        )
        print(f"{'pool':>10} {'operation':<24} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for index, size in enumerate(sizes):
            code = "粤" + "DEFGHJ"[index]
            pool, loading = set_up(uows, account, code, size, index + 1)
            if is_postgres(engine):
                with engine.begin() as conn:
                    conn.execute(sa.text(f"ANALYZE {plate_numbers.name}"))
            for name, values in measure(uows, engine, account, pool, args.iterations).items():
                p50, p99 = statistics.median(values), percentile(values, 0.99)
                print(f"{size:>10,} {name:<24} {p50:>8.2f} {p99:>8.2f} {max(values):>8.2f}")
            print(f"{size:>10,} {'(loading the pool)':<24} {loading:>8.1f} s")


if __name__ == "__main__":
    main()
