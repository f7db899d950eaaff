"""Stage 2 of pre-selection (SPEC §4): phone verification, random batches, own numbers — the
callbacks of ``PreselectFlow``'s stage 2 transitions, in practice mode too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from transitions import EventData

from core import basic_information, practice, selection, verification
from core.accounts import Account
from core.offices import Office
from core.plate_errors import PreselectionNotOpen, SelectionSessionEnded
from core.preselection import Preselection
from dialogs.flow import Turn, turn_of

T = TypeVar("T")


class StageTwo:
    """Mixed into ``PreselectFlow``, which says which office and vehicle a turn is about."""

    name: ClassVar[str]
    practice: ClassVar[bool]

    def office(self, turn: Turn) -> Office:
        raise NotImplementedError

    def current(self, turn: Turn) -> Preselection | None:
        raise NotImplementedError

    def run(self, turn: Turn) -> Preselection:
        raise NotImplementedError

    def send_code(self, event: EventData) -> None:
        """Phone verification: a code to the account's mobile (none in practice)."""
        turn = turn_of(event)
        if self.practice:
            basic_information.check_open(self.office(turn), turn.now)
            return
        self._send(turn, quiet_if_recent=True)

    def resend_code(self, event: EventData) -> None:
        turn = turn_of(event)
        self._send(turn, quiet_if_recent=False)
        turn.note("reg.code_resent")

    def _code_args(self, turn: Turn) -> dict[str, Any] | None:
        """What sending and checking the stage 2 code need (None: nothing to verify for)."""
        account, current = turn.account, self.current(turn)
        if account is None or current is None or current.id is None:
            return None
        return {
            "clock": turn.services.clock,
            "key": turn.services.code_key,
            "account": account,
            "preselection_id": current.id,
            "requester": turn.requester(account.phone),
        }

    def _send(self, turn: Turn, *, quiet_if_recent: bool) -> None:
        args = self._code_args(turn)
        if args is None:
            return
        sending = self._in_session(
            turn,
            lambda _session: selection.send_selection_code(
                turn.uow, language=turn.language, reuse_recent=quiet_if_recent, **args
            ),
        )
        if sending is verification.Sending.STILL_VALID:
            turn.note("reg.code_still_valid")

    def phone_verified(self, event: EventData) -> bool:
        """This chat verified the account's phone a few minutes ago (registering, signing in,
        an earlier session): no new code for the next step of the same journey."""
        turn = turn_of(event)
        account = turn.account
        if self.practice or account is None:
            return False
        return verification.verified_recently(
            turn.uow,
            clock=turn.services.clock,
            phone=account.phone,
            requester=turn.requester(account.phone),
        )

    def open_verified_session(self, event: EventData) -> None:
        """Stage 2 opens on the phone verified a moment ago."""
        turn = turn_of(event)
        if self._open(turn, None):
            turn.note("pre.phone_verified")

    def open_session(self, event: EventData) -> None:
        """The code is right: stage 2 opens for 20 minutes of activity."""
        turn = turn_of(event)
        if self.practice:
            return
        self._open(turn, str(event.kwargs["arg"]))

    def _open(self, turn: Turn, entered: str | None) -> bool:
        args = self._code_args(turn)
        if args is None:
            return False
        session = self._in_session(
            turn,
            lambda _session: selection.start_session(turn.uow, entered_code=entered, **args),
        )
        if session is None:
            return False
        turn.data["session_id"] = session.id
        return True

    def _act(
        self,
        turn: Turn,
        in_practice: Callable[[Preselection, Office], T],
        for_real: Callable[[Account, int], T],
    ) -> T | None:
        """A stage 2 action: on the practice run (kept in the conversation), or for real in the
        account's selection session."""
        if self.practice:
            run = self.run(turn)
            result = in_practice(run, self.office(turn))
            turn.data["run"] = practice.to_data(run)
            return result
        account = turn.account
        if account is None:  # pragma: no cover - the flow requires an account
            return None
        return self._in_session(turn, lambda session_id: for_real(account, session_id))

    def draw(self, event: EventData) -> None:
        """A random batch (``draw_no4``: without the digit 4); costs one batch."""
        turn = turn_of(event)
        uow, now, no_four = turn.uow, turn.now, event.event.name == "draw_no4"
        batch = self._act(
            turn,
            lambda run, office: practice.practice_draw(
                uow, now=now, office=office, run=run, no_four=no_four
            ),
            lambda account, session_id: (
                selection.draw_batch(
                    uow, now=now, account=account, session_id=session_id, no_four=no_four
                ).serials
            ),
        )
        if batch is not None:
            turn.data["batch"] = batch

    def take(self, event: EventData) -> None:
        """The user picks one number of the batch: it is pre-selected for the vehicle."""
        turn = turn_of(event)
        uow, now, serial = turn.uow, turn.now, str(event.kwargs["arg"])
        batch = list(turn.data.get("batch", []))
        self._act(
            turn,
            lambda run, office: practice.practice_take(
                uow, now=now, office=office, run=run, serial=serial, batch=batch
            ),
            lambda account, session_id: selection.take_from_batch(
                uow, now=now, account=account, session_id=session_id, serial=serial
            ),
        )

    def check_own(self, event: EventData) -> None:
        """Self-chosen candidates checked in order; the first available one is taken."""
        turn = turn_of(event)
        uow, now, typed = turn.uow, turn.now, str(event.kwargs["arg"])
        turn.data.pop("own", None)
        outcome = self._act(
            turn,
            lambda run, office: practice.practice_choose(
                uow, now=now, office=office, run=run, typed=typed
            ),
            lambda account, session_id: selection.choose_own(
                uow, now=now, account=account, session_id=session_id, typed=typed
            ),
        )
        if outcome is None:
            return
        turn.data["own"] = {"taken": outcome.taken, "spent": outcome.spent}
        for serial, why in outcome.skipped:
            turn.note(f"pre.own_skipped.{why.value}", serial=serial)
        if outcome.taken is None:
            numbers = " ".join(outcome.checked)
            turn.note("pre.own_none", numbers=numbers, spent=outcome.spent, left=outcome.left)

    def own_taken(self, event: EventData) -> bool:
        return bool(turn_of(event).data.get("own", {}).get("taken"))

    def own_left(self, event: EventData) -> bool:
        turn = turn_of(event)
        current = self.current(turn)
        return "own" not in turn.data or (current is not None and current.self_choice_left > 0)

    def batches_left(self, event: EventData) -> bool:
        current = self.current(turn_of(event))
        return current is not None and current.batches_left > 0

    def _in_session(self, turn: Turn, action: Callable[[int], T]) -> T | None:
        """Run a stage 2 action; when the vehicle no longer stands where this step assumed (the
        session ended, a number was taken from another chat), start again where it stands."""
        try:
            return action(int(turn.data.get("session_id") or 0))
        except SelectionSessionEnded as ended:
            turn.note(f"error.{ended.code}", **ended.params)
        except PreselectionNotOpen:
            pass
        turn.go(self.name)
        return None
