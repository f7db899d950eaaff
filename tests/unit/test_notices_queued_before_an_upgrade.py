"""A notice written before an upgrade and still queued in the outbox is rendered when it is sent,
from its key: keys that the code no longer writes stay in the catalogs, in both languages, so such
a notice still goes out after the upgrade."""

from __future__ import annotations

import pytest

from core.accounts import Language
from dialogs.catalog import render_text
from dialogs.replies import Text

QUEUED_BEFORE_0019 = [
    Text("room.won", {"position": 1, "plate": "粤D·88888", "price": "¥31,000"}),
    Text(
        "settlement.balance_due",
        {
            "plate": "粤D·88888",
            "price": "¥31,000",
            "deposit": "¥10,000",
            "amount": "¥21,000",
            "order": "A1",
            "deadline": "2026-10-09 17:00",
        },
    ),
]


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("text", QUEUED_BEFORE_0019, ids=lambda text: text.key)
def test_a_notice_queued_before_the_winner_got_one_message_is_still_sent(
    text: Text, language: Language
) -> None:
    rendered = render_text(text, language, "sms")
    assert "¥31,000" in rendered and "{" not in rendered
