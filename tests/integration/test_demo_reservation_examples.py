"""The numbers the reservation prompt gives as examples can be reserved in the demo data: a
newcomer who types the example gets a pending reservation, not "already in the pool"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.clock import ManualClock
from core.reservations import check_free, parse_number
from dialogs.catalog import CATALOGS
from platebot.demo import load_demo_data
from store.uow import UnitOfWorkFactory


@pytest.mark.parametrize("key", ["reservation.ask_number", "reservation.help.number"])
@pytest.mark.parametrize("language", list(Language))
def test_the_prompts_examples_are_free_in_the_demo(
    db: Engine, language: Language, key: str
) -> None:
    examples = re.findall(r"(?<![0-9A-Z])[0-9A-Z]{5}(?![0-9A-Z])", CATALOGS[language][key])
    assert len(examples) == 2, CATALOGS[language][key]
    uow = UnitOfWorkFactory(db)
    load_demo_data(uow, ManualClock())
    with uow() as work:
        office = work.offices.by_code("粤D")
        assert office is not None
        for example in examples:
            check_free(work, account_id=1, office=office, serial=parse_number(example))
