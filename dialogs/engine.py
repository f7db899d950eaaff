"""The dialog engine: one inbound message is one transaction.

Lock the conversation row, drop a duplicate inbound id, fire one transition of the current
flow, run core, write the new state and any outgoing messages, commit. Replies are data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import timedelta

from transitions import MachineError

from core.accounts import Language
from core.conversation import AlreadyHandled, Conversation, DialogUnitOfWork
from core.errors import DomainError
from core.masking import describe_error, mask_phone
from core.plates import plates_in_text
from core.ports import StoreBusy
from dialogs.catalog import CATALOGS, render_text
from dialogs.flow import Commands, Event, Flow, Services, Shortcuts, Turn
from dialogs.keywords import (
    END_MARKS,
    Keyword,
    clean_input,
    is_number,
    match_keyword,
    normalise,
)
from dialogs.replies import Choice, Inbound, Reply

log = logging.getLogger(__name__)

MENU = "menu"


class Engine:
    def __init__(
        self,
        uow_factory: Callable[[], DialogUnitOfWork],
        services: Services,
        flows: Iterable[Flow],
    ) -> None:
        self.uow_factory = uow_factory
        self.services = services
        self.flows: Mapping[str, Flow] = {flow.name: flow for flow in flows}
        if MENU not in self.flows:
            raise ValueError("the engine needs a 'menu' flow")
        self.shortcuts = [flow for flow in self.flows.values() if isinstance(flow, Shortcuts)]
        self.commands = {name: f for name, f in self.flows.items() if isinstance(f, Commands)}

    def handle(self, inbound: Inbound) -> Reply:
        """Run one turn for ``inbound`` and return the reply (the same one for a duplicate).

        A turn that fails unexpectedly is rolled back whole; the user is told and taken to the
        main menu (in a second transaction), so one bad state never traps anyone. A turn whose
        database connection was lost before it committed (the server restarted, or dropped an
        idle connection) is run once more, on a fresh connection: nothing of it was kept, and
        the user should not pay for a connection the pool could not know was dead.
        """
        inbound = replace(inbound, text=clean_input(inbound.text))
        try:
            try:
                return self._transaction(inbound, self._turn)
            except _LostBeforeCommit as lost:
                log.warning(
                    "%s turn lost its database connection; run again: %s",
                    inbound.channel,
                    describe_error(lost.__cause__ or lost),
                )
                return self._transaction(inbound, self._turn)
        except AlreadyHandled:
            # Delivered again while the first delivery's turn ran: that turn's work stands,
            # this one is dropped, and the reply is the one the first gave.
            log.info("%s message %s handled meanwhile", inbound.channel, inbound.message_id)
            return self._transaction(inbound, self._turn)
        except StoreBusy:
            raise  # nothing was done: the channel tells the user to send it again
        except Exception as error:
            log.error(
                "%s turn failed; conversation reset to the menu: %s",
                inbound.channel,
                describe_error(error),
            )
            return self._transaction(inbound, self._recover)

    def _transaction(self, inbound: Inbound, step: Callable[[Turn, Inbound], Reply]) -> Reply:
        with self.uow_factory() as uow:
            try:
                reply, new = self._work(uow, inbound, step)
            except Exception as error:
                if getattr(error, "connection_invalidated", False) is True:
                    raise _LostBeforeCommit from error
                raise
            if new:
                # Never run again if the connection is lost here: the commit may have been made.
                uow.commit()
            return reply

    def _work(
        self, uow: DialogUnitOfWork, inbound: Inbound, step: Callable[[Turn, Inbound], Reply]
    ) -> tuple[Reply, bool]:
        """The turn up to its commit: the reply, and whether it is new (not a duplicate's)."""
        now = self.services.clock.now()
        conversation, earlier = uow.conversations.lock_for_turn(
            channel=inbound.channel,
            user_key=inbound.user_key,
            new=self._new(inbound),
            message_id=inbound.message_id,
        )
        if earlier is not None:
            log.info("duplicate %s message %s dropped", inbound.channel, inbound.message_id)
            return Reply.from_json(earlier), False
        turn = Turn(conversation, uow, self.services, now)
        turn.sender_phone = inbound.sender_phone
        reply = step(turn, inbound)
        conversation.choices = [choice.to_json() for choice in reply.choices]
        conversation.updated_at = now
        conversation.expires_at = now + timedelta(minutes=self.services.idle_minutes)
        if inbound.message_id is None:
            uow.conversations.save(conversation)
            return replace(reply, prompt_token=str(conversation.version)), True
        # the version the save gives it; the reply kept for a second delivery is the one sent
        reply = replace(reply, prompt_token=str(conversation.version + 1))
        uow.conversations.save_answered(conversation, inbound.message_id, reply.to_json(), now)
        return reply, True

    def _recover(self, turn: Turn, inbound: Inbound) -> Reply:
        turn.note("error.internal")
        return self._restart(turn)

    # -- one turn -----------------------------------------------------------------------

    def _new(self, inbound: Inbound) -> Conversation:
        now = self.services.clock.now()
        return Conversation(
            channel=inbound.channel,
            user_key=inbound.user_key,
            flow=MENU,
            state="",
            language=inbound.language or self.services.default_language,
            updated_at=now,
            expires_at=now + timedelta(minutes=self.services.idle_minutes),
        )

    def _turn(self, turn: Turn, inbound: Inbound) -> Reply:
        conversation = turn.conversation
        self._recognise_sender(turn, inbound)
        keyword = match_keyword(inbound.text) if inbound.choice is None else None
        if keyword in (Keyword.ENGLISH, Keyword.CHINESE, Keyword.LANGUAGE):
            self._switch_language(turn, keyword)
        if conversation.state == "":
            turn.note("welcome")
            return self._restart(turn)
        if turn.now >= conversation.expires_at:
            turn.note("session.expired", minutes=self.services.idle_minutes)
            return self._restart(turn)
        if keyword is not None:
            return self._keyword(turn, keyword)
        if not inbound.text.strip() and inbound.choice is None and inbound.contact_phone is None:
            return self._prompt_current(turn)
        if inbound.choice is None and (reply := self._shortcut(turn, inbound)) is not None:
            return reply
        try:
            flow = self.flows[conversation.flow]
            turn.state = flow.state_of(conversation.state)
        except KeyError:
            log.warning(
                "conversation %s in unknown %s:%s, reset",
                conversation.id,
                conversation.flow,
                conversation.state,
            )
            return self._restart(turn)
        event = self._understand(turn, flow, inbound)
        if event is not None:
            self._fire(turn, flow, event)
        if turn.switch_to is not None:
            self._enter(turn, turn.switch_to)
        return self._prompt(turn)

    def _shortcut(self, turn: Turn, inbound: Inbound) -> Reply | None:
        """A command of a flow that works from anywhere (see ``Shortcuts``)."""
        for owner in self.shortcuts:
            event = owner.shortcut(turn, inbound)
            if event is None:
                continue
            flow = self.flows[owner.name]
            self._enter(turn, f"{owner.name}:{owner.shortcut_state}")
            self._fire(turn, flow, event)
            if turn.switch_to is not None:
                self._enter(turn, turn.switch_to)
            return self._prompt(turn)
        return None

    def _recognise_sender(self, turn: Turn, inbound: Inbound) -> None:
        """A number the channel vouches for (an SMS sender) is that number's account: looked up
        when the number is first seen here, and again whenever a flow is entered."""
        conversation = turn.conversation
        if inbound.sender_phone is None or conversation.phone == inbound.sender_phone:
            return
        conversation.phone = inbound.sender_phone
        conversation.account_id = None
        self._recognise_phone(turn)

    def _recognise_phone(self, turn: Turn) -> None:
        conversation = turn.conversation
        if conversation.account_id is not None or conversation.phone is None:
            return
        account_id = turn.uow.accounts.id_by_phone(conversation.phone)
        if account_id is not None:
            conversation.account_id = account_id
            log.info(
                "conversation %s recognised as %s", conversation.id, mask_phone(conversation.phone)
            )

    def _understand(self, turn: Turn, flow: Flow, inbound: Inbound) -> Event | None:
        choices = [Choice.from_json(c) for c in turn.conversation.choices]
        if inbound.choice is not None:
            token = inbound.prompt_token
            current = token is None or token == str(turn.conversation.version)
            if current and any(c.id == inbound.choice for c in choices):
                return _event(inbound.choice)
            turn.note("menu.stale")
            return None
        commands = self.commands.get(flow.name)  # before the options' words (``Commands``)
        typed = None if commands is None else commands.typed_command(turn, inbound.text)
        if typed is not None:
            return typed
        picked = _match_choice(inbound.text, choices)
        if picked is not None:
            return _event(picked)
        try:
            event = flow.read(turn, inbound)
        except DomainError as error:
            turn.note(f"error.{error.code}", **error.params)
            return None
        if event is None:
            if choices and not inbound.contact_phone:
                turn.note("input.pick_number", count=len(choices))
            else:
                turn.note("input.not_understood")
        return event

    def _fire(self, turn: Turn, flow: Flow, event: Event) -> None:
        before = turn.state
        try:
            fired = flow.machine.events[event.trigger].trigger(turn, **event.args)
        except (KeyError, MachineError):
            turn.note("input.not_understood")
            return
        except DomainError as error:
            turn.note(f"error.{error.code}", **error.params)
            return
        if fired and turn.state is not before and turn.switch_to is None:
            if turn.state.name in flow.checkpoints:
                turn.conversation.history.clear()  # what came before is done with
            else:
                turn.conversation.history.append(before.name)
        turn.conversation.state = turn.state.name

    def _keyword(self, turn: Turn, keyword: Keyword) -> Reply:
        conversation = turn.conversation
        if keyword is Keyword.MENU:
            return self._restart(turn)
        if keyword is Keyword.CANCEL:
            turn.note("menu.cancelled")
            return self._restart(turn)
        flow = self.flows.get(conversation.flow)
        if flow is None:
            return self._restart(turn)
        turn.state = flow.state_of(conversation.state)
        if keyword is Keyword.HELP:
            turn.notes.append(flow.help(turn))
        elif keyword is Keyword.BACK:
            if conversation.history:
                conversation.state = conversation.history.pop()
                turn.state = flow.state_of(conversation.state)
            elif conversation.state in flow.checkpoints:
                turn.note("back.done")  # the step before is done with: stay here
            else:
                return self._restart(turn)
        return self._prompt(turn)

    def _switch_language(self, turn: Turn, keyword: Keyword) -> None:
        if keyword is Keyword.ENGLISH:
            turn.set_language(Language.EN)
        elif keyword is Keyword.CHINESE:
            turn.set_language(Language.ZH)
        else:
            turn.toggle_language()

    # -- moving between flows -----------------------------------------------------------

    def _restart(self, turn: Turn) -> Reply:
        """Back to the main menu; whatever was being filled in is dropped."""
        turn.conversation.returns = []
        self._enter(turn, MENU)
        return self._prompt(turn)

    def _enter(self, turn: Turn, target: str) -> None:
        """Start ``target`` (``flow`` or ``flow:STATE``); a flow that needs an account leads
        through registration first, then back to ``target``."""
        conversation = turn.conversation
        name, _, state = target.partition(":")
        flow = self.flows[name]
        self._recognise_phone(turn)  # registered meanwhile on another channel?
        if flow.requires_account and not turn.registered:
            turn.note("account.required_first")
            conversation.returns.append(target)
            name, state, flow = "register", "", self.flows["register"]
        if name == MENU:
            conversation.returns = []
        conversation.data = {}
        conversation.flow = name
        conversation.history = []
        turn.switch_to = None
        turn.state = flow.state_of(state) if state else flow.entry(turn)
        conversation.state = turn.state.name
        if turn.switch_to is not None:  # entry() may decide the flow has nothing to do
            self._enter(turn, turn.switch_to)

    def _prompt_current(self, turn: Turn) -> Reply:
        """An empty message shows where the user stands, changing nothing."""
        if turn.conversation.flow not in self.flows:
            return self._restart(turn)
        return self._prompt(turn)

    def _prompt(self, turn: Turn) -> Reply:
        flow = self.flows[turn.conversation.flow]
        turn.state = flow.state_of(turn.conversation.state)
        prompt = flow.prompt(turn)
        return Reply(
            lines=(*turn.notes, *prompt.lines),
            choices=prompt.choices,
            ask_contact=prompt.ask_contact,
            practice=prompt.practice,
            language=turn.language,
            keep=prompt.keep,
            links=prompt.links,
        )


class _LostBeforeCommit(Exception):
    """A turn's database connection was lost before the turn committed, so none of it was kept.
    Told by the storage library's ``connection_invalidated`` flag on the error (SQLAlchemy's
    ``DBAPIError``; the dialogs do not import it)."""


def _event(choice_id: str) -> Event:
    trigger, _, arg = choice_id.partition(":")
    return Event(trigger, {"arg": arg} if arg else {})


def _match_choice(text: str, choices: list[Choice]) -> str | None:
    """A reply of a choice's number, or of its words in either language, picks it: the whole
    label, the label without what stands in brackets (``自编号码`` for ``自编号码（剩20个）``),
    or any part of it that belongs to that choice alone (``注册``, ``own numbers``), outside
    the brackets first, and only then English words that are the label's in the plural
    (``auction`` for "Plate auctions"). Words that fit several choices pick none: the step asks
    again."""
    word = normalise(text).strip(END_MARKS)  # "auction." "注册。" "1!"
    if not word or not choices:
        return None
    if is_number(word):  # a number is an option's number or nothing (never ``int("❶")``)
        index = int(word) - 1 if len(word) <= 3 else -1
        return choices[index].id if 0 <= index < len(choices) else None
    labels = [(choice.id, _labels(choice)) for choice in choices]
    for test in (_whole, _core, _part_of_core, _part, _plural_part_of_core, _plural_part):
        found = {choice_id for choice_id, names in labels if any(test(word, n) for n in names)}
        if len(found) == 1:
            return found.pop()
        if found:
            return None  # the words fit several options: ask for the number
    return None


def _labels(choice: Choice) -> list[str]:
    """The label in each language, as a user reads it there: a plate in English as ``Yue D
    12345`` (``plates_in_text``); in Chinese as ``粤D·12345``, so either form picks it."""
    return [
        normalise(plates_in_text(render_text(choice.label, language), language))
        for language in CATALOGS
    ]


_BRACKETS = re.compile(r"[(（【\[][^)）】\]]*[)）】\]]")
_MIN_PART = 2
_SPACES = r"\s+"


def _whole(word: str, label: str) -> bool:
    return word == label


def _core(word: str, label: str) -> bool:
    return word == _BRACKETS.sub("", label).strip(" ,，:：")


def _part_of_core(word: str, label: str) -> bool:
    """Part of the label outside brackets: "person" is a natural person, not a "unit (legal
    person)"."""
    return _part(word, _BRACKETS.sub("", label))


def _part(word: str, label: str) -> bool:
    """Part of the label: whole words of it in a language with spaces, any two or more
    characters of it in Chinese."""
    if len(word) < _MIN_PART or is_number(word):
        return False
    if word.isascii():
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", label) is not None
    return word in label


def _plural_part_of_core(word: str, label: str) -> bool:
    return _plural_part(word, _BRACKETS.sub("", label))


def _plural_part(word: str, label: str) -> bool:
    """English words that are whole words of the label with one of them in the plural:
    ``auction`` in "Plate auctions", ``order`` in "My orders", ``history`` in "Histories"."""
    tokens = word.split()
    if not word.isascii() or not tokens or is_number(word):
        return False
    escaped = [re.escape(token) for token in tokens]
    for index, token in enumerate(tokens):
        plural = _plural(token)
        if plural is None:
            continue
        words = [*escaped[:index], re.escape(plural), *escaped[index + 1 :]]
        phrase = _SPACES.join(words)
        if re.search(rf"(?<!\w){phrase}(?!\w)", label) is not None:
            return True
    return False


def _plural(token: str) -> str | None:
    """The plural of an English word of three letters or more (``auction`` → ``auctions``,
    ``box`` → ``boxes``, ``history`` → ``histories``); None for anything else."""
    if len(token) < 3 or not (token.isascii() and token.isalpha()):
        return None
    if token.endswith(("s", "x", "z", "ch", "sh")):
        return token + "es"
    if token.endswith("y") and token[-2] not in "aeiou":
        return token[:-1] + "ies"
    return token + "s"


__all__ = ["Engine", "Event", "Services", "Turn"]
