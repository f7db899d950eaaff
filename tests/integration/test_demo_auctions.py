"""The demo data's auctions: timed from the clock when it is loaded, one period in its signup
window and one about to start, with held-back numbers of 粤D as lots; loading twice adds none."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from core.auctions import list_periods
from core.clock import ManualClock
from platebot.demo import load_demo_data
from store.uow import UnitOfWorkFactory


def test_demo_data_has_a_period_in_signup_and_one_about_to_start(db: Engine) -> None:
    clock = ManualClock()
    uow = UnitOfWorkFactory(db)
    load_demo_data(uow, clock)
    now = clock.now()
    with uow() as work:
        listing = list_periods(work, now=now)
        assert listing.current == [] and listing.past == []
        signup, soon = sorted(listing.upcoming, key=lambda p: p.starts_at, reverse=True)
        assert signup.signup_open(now) and signup.starts_at == now + timedelta(days=3)
        assert soon.signup_open(now) and soon.starts_at == now + timedelta(minutes=10)
        office = work.offices.by_code("粤D")
        assert office is not None and office.id is not None
        plates = {
            period.name: [office.plate(lot.serial) for lot in work.auctions.lots(period.id or 0)]
            for period in (signup, soon)
        }
        held = work.pool.states(office.id, work.auctions.lots(soon.id or 0)[0].plate_kind,
                                ["11111", "88888", "99999"], lock=False)  # fmt: skip
    assert plates == {
        "演示竞价期（报名中）": ["粤D·88888", "粤D·99999"],
        "演示竞价期（即将开始）": ["粤D·11111"],
    }
    assert held == {}, "held back: never in the pool"
    clock.advance(timedelta(minutes=1))
    summary = load_demo_data(uow, clock)
    assert [entry for entry in summary.created if entry.startswith("auction")] == []
    with uow() as work:
        assert len(work.auctions.periods()) == 2
