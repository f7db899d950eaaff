"""Practice selection (SPEC §4 "simulation mode"): the same rules and the real pool, with
nothing saved. No registry check, no allowance used, no number held or taken: the practice
pre-selection lives only in the conversation, and the pool is only read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.basic_information import check_open
from core.offices import Office
from core.plate_errors import NumberNotHeld, PoolEmpty
from core.plates import PlateKind
from core.pools import random_start
from core.ports import UnitOfWork
from core.preselection import Preselection, PreselectionState
from core.selection import OwnCheck, deadline_for, first_available, parse_candidates

PRACTICE_VIN = "PRACTICE"


def new_run(office: Office, kind: PlateKind, now: datetime) -> Preselection:
    """A practice pre-selection with the office's full allowances; never stored."""
    return Preselection(
        account_id=0,
        office_id=office.id or 0,
        vin=PRACTICE_VIN,
        plate_kind=kind,
        owner_id="",
        self_choice_left=office.self_choice_allowance,
        batches_left=office.batch_allowance,
        created_at=now,
    )


def to_data(run: Preselection) -> dict[str, Any]:
    """What the conversation keeps of a practice run."""
    return {
        "office_id": run.office_id,
        "kind": run.plate_kind.value,
        "self_left": run.self_choice_left,
        "batches_left": run.batches_left,
        "serial": run.serial,
        "deadline": run.deadline.isoformat() if run.deadline else None,
        "created_at": run.created_at.isoformat(),
    }


def from_data(data: dict[str, Any]) -> Preselection:
    run = Preselection(
        account_id=0,
        office_id=int(data["office_id"]),
        vin=PRACTICE_VIN,
        plate_kind=PlateKind(data["kind"]),
        owner_id="",
        self_choice_left=int(data["self_left"]),
        batches_left=int(data["batches_left"]),
        created_at=datetime.fromisoformat(data["created_at"]).astimezone(UTC),
    )
    if data.get("serial"):
        run.state = PreselectionState.SELECTED
        run.serial = str(data["serial"])
        run.deadline = datetime.fromisoformat(str(data["deadline"]))
    return run


def practice_draw(
    uow: UnitOfWork, *, now: datetime, office: Office, run: Preselection, no_four: bool
) -> list[str]:
    """A batch read from the pool (nothing held); the practice allowance goes down."""
    check_open(office, now)
    run.check_batch()
    serials = uow.pool.sample(
        office.id or 0, run.plate_kind, office.batch_size, no_four=no_four, start=random_start()
    )
    if not serials:
        raise PoolEmpty()
    run.spend_batch()
    return sorted(serials)


def practice_take(
    uow: UnitOfWork,
    *,
    now: datetime,
    office: Office,
    run: Preselection,
    serial: str,
    batch: list[str],
) -> None:
    check_open(office, now)
    if serial not in batch:
        raise NumberNotHeld(serial=serial)
    run.select(serial, now=now, deadline=deadline_for(uow, office, now))


def practice_choose(
    uow: UnitOfWork, *, now: datetime, office: Office, run: Preselection, typed: str
) -> OwnCheck:
    check_open(office, now)
    candidates = parse_candidates(office, run.plate_kind, typed, run)
    taken, skipped = first_available(
        uow, office, run.plate_kind, candidates, session_id=None, lock=False
    )
    if taken is not None:
        run.select(taken, now=now, deadline=deadline_for(uow, office, now))
        return OwnCheck(taken, candidates, 0, run.self_choice_left, skipped)
    run.spend_self_choice(len(candidates))
    return OwnCheck(None, candidates, len(candidates), run.self_choice_left, skipped)
