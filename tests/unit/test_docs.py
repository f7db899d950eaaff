"""The flow diagrams in docs/ are the ones the machines draw today."""

from __future__ import annotations

from pathlib import Path

from dialogs.diagram import flows_markdown, mermaid
from platebot.bootstrap import all_flows

ROOT = Path(__file__).resolve().parents[2]


def test_docs_hold_the_current_diagram_of_every_flow() -> None:
    written = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
    assert written == flows_markdown(all_flows()), "run `platebot docs` and commit docs/flows.md"


def test_diagram_shows_every_state_and_trigger_of_registration() -> None:
    register = next(f for f in all_flows() if f.name == "register")
    text = mermaid(register)
    assert text.count("stateDiagram-v2") == 1
    for state in register.states():
        assert f'state "{state.name}"' in text
    assert "PHONE --> SIGNIN_CODE: phone [phone_has_account]" in text
    assert "CONFIRM --> CODE: confirm" in text
