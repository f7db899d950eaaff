"""Random sequences of everything that can happen to orders — gateway callbacks (some delivered
twice, some late), counter payments, cancels, the clock passing deadlines, refunds whole and in
part, forfeits — on the real database. After every step each order is where a plain model of
SPEC §5 says it must be, it only ever made legal moves, and the money it received minus the money
it gave back is what its ledger adds up to."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.clock import ManualClock
from core.errors import DomainError
from core.events import EventBus
from core.orders import Cause, MoveKind, OrderEvent, OrderExpired, OrderState
from core.payments import (
    CallbackStale,
    Outcome,
    cancel_order,
    forfeit_order,
    pay_at_counter,
    receive_payment,
    refund_order,
)
from core.timers import Timers
from core.wiring import wire_core
from platebot.bootstrap import App
from store.uow import UnitOfWorkFactory
from tests.order_world import Seen, account, pending_order
from web.sandbox import TOLERANCE, SandboxGateway

P, E, C, R, F = (
    OrderState.PAID,
    OrderState.EXPIRED,
    OrderState.CANCELLED,
    OrderState.REFUNDED,
    OrderState.FORFEITED,
)
PENDING = OrderState.PENDING
AMOUNTS = st.integers(min_value=1, max_value=10_000_000)
# Of the amount: nothing, shares, all, too much; None: whatever the order still holds.
PARTS = st.sampled_from([0.0, 0.2, 1 / 3, 0.5, 1.0, 1.1]) | st.floats(0.0, 1.2) | st.none()
LEGAL = {
    (None, PENDING),
    (PENDING, P),
    (PENDING, E),
    (PENDING, C),
    (P, P),  # a part refunded
    (P, R),
    (P, F),
}
# Late money given back changes no state: any state but pending to itself.
LEGAL |= {(state, state) for state in OrderState if state is not PENDING}


@dataclass
class Model:
    """What SPEC §5 says an order is, kept beside the real one."""

    amount: int
    deadline_minutes: float
    state: OrderState = PENDING
    received: int = 0
    refunded: int = 0
    counter: bool = False


@dataclass(frozen=True)
class Sent:
    order: int
    body: bytes
    headers: dict[str, str]
    signed_minute: float


class Orders(RuleBasedStateMachine):
    app: App
    minute: float

    def __init__(self) -> None:
        super().__init__()
        clock = self.app.clock
        assert isinstance(clock, ManualClock)
        clock.set(START)  # each history starts at the same time; orders are placed at it
        self.clock = clock
        self.minute = 0.0
        self.seen = Seen()
        bus = EventBus()
        bus.subscribe(OrderEvent, self.seen)
        self.uow = UnitOfWorkFactory(self.app.db, bus=bus)
        self.timers = Timers(self.uow, self.clock, wire_core().timers)
        gateway = self.app.payments
        assert isinstance(gateway, SandboxGateway)
        self.gateway = gateway
        self.owner = account(self.app, phone=f"+86138{len(ACCOUNTS):08d}")
        ACCOUNTS.append(self.owner)
        self.models: dict[int, Model] = {}
        self.sent: list[Sent] = []

    def _tick(self, minutes: float) -> None:
        self.minute += minutes
        self.clock.advance(timedelta(minutes=minutes))

    def _order(self, index: int) -> int:
        ids = sorted(self.models)
        return ids[index % len(ids)]

    def _try(self, action: object) -> bool:
        """Run ``action(uow)`` in one unit of work; a refusal rolls back and leaves no trace."""
        with self.uow() as uow:
            try:
                action(uow)  # type: ignore[operator]
            except DomainError:
                return False
            uow.commit()
        return True

    # -- what happens ---------------------------------------------------------------------

    @initialize(amounts=st.lists(AMOUNTS, min_size=2, max_size=2))
    def two_orders(self, amounts: list[int]) -> None:
        for amount in amounts:
            self.place(amount)

    @rule(amount=AMOUNTS)
    def place(self, amount: int) -> None:
        if len(self.models) >= 4:
            return
        order = pending_order(self.app, self.owner, amount=amount, reference=f"x:{amount}")
        self.models[order.id or 0] = Model(amount=amount, deadline_minutes=self.minute + 30)

    @rule(index=st.integers(min_value=0, max_value=3))
    def gateway_callback(self, index: int) -> None:
        if not self.models:
            return
        order_id = self._order(index)
        with self.uow() as uow:
            order = uow.orders.get(order_id)
            assert order is not None
        body, headers = self.gateway.callback_for(order, self.clock.now())
        self.sent.append(Sent(order_id, body, headers, self.minute))
        outcome = self._callback(body, headers)
        model = self.models[order_id]
        if model.state is PENDING and self.minute <= model.deadline_minutes:
            assert outcome is Outcome.PAID
            model.state, model.received = P, model.received + model.amount
        else:
            assert outcome is Outcome.REFUNDED
            if model.state is PENDING:
                model.state = E
            model.received += model.amount
            model.refunded += model.amount

    @rule(which=st.integers(min_value=0, max_value=50))
    def duplicate_callback(self, which: int) -> None:
        if not self.sent:
            return
        sent = self.sent[which % len(self.sent)]
        try:
            outcome = self._callback(sent.body, sent.headers)
        except CallbackStale:
            assert (self.minute - sent.signed_minute) * 60 > TOLERANCE.total_seconds()
            return
        assert outcome is Outcome.DUPLICATE

    def _callback(self, body: bytes, headers: dict[str, str]) -> Outcome:
        notice = self.gateway.verify_callback(body, headers, self.clock.now())
        with self.uow() as uow:
            outcome = receive_payment(uow, self.gateway, notice, self.clock.now())
            uow.commit()
        return outcome

    @rule(index=st.integers(min_value=0, max_value=3))
    def pay_at_counter(self, index: int) -> None:
        if not self.models:
            return
        order_id = self._order(index)
        done = self._try(
            lambda uow: pay_at_counter(
                uow, order_id=order_id, receipt="R-1", staff="clerk", now=self.clock.now()
            )
        )
        model = self.models[order_id]
        assert done == (model.state is PENDING and self.minute <= model.deadline_minutes)
        if done:
            model.state, model.received, model.counter = P, model.received + model.amount, True

    @rule(index=st.integers(min_value=0, max_value=3), by_staff=st.booleans())
    def cancel(self, index: int, by_staff: bool) -> None:
        if not self.models:
            return
        order_id = self._order(index)
        cause = Cause.STAFF if by_staff else Cause.USER
        done = self._try(
            lambda uow: cancel_order(uow, order_id=order_id, now=self.clock.now(), cause=cause)
        )
        model = self.models[order_id]
        assert done == (model.state is PENDING)
        if done:
            model.state = C

    @rule(minutes=st.sampled_from([0.5, 3, 10, 29, 31]))
    def time_passes(self, minutes: float) -> None:
        self._tick(minutes)
        self.timers.run_once()
        for model in self.models.values():
            if model.state is PENDING and self.minute > model.deadline_minutes:
                model.state = E

    @rule(index=st.integers(min_value=0, max_value=3), part=PARTS)
    def refund(self, index: int, part: float | None) -> None:
        if not self.models:
            return
        order_id = self._order(index)
        model = self.models[order_id]
        held = model.received - model.refunded
        amount = None if part is None else int(model.amount * part)
        done = self._try(
            lambda uow: refund_order(
                uow,
                self.gateway,
                order_id=order_id,
                amount=amount,
                now=self.clock.now(),
                cause=Cause.STAFF,
                receipt="RF-1",
            )
        )
        wanted = held if amount is None else amount
        assert done == (model.state is P and 0 < wanted <= held)
        if done:
            model.refunded += wanted
            if model.received == model.refunded:
                model.state = R

    @rule(index=st.integers(min_value=0, max_value=3))
    def forfeit(self, index: int) -> None:
        if not self.models:
            return
        order_id = self._order(index)
        done = self._try(
            lambda uow: forfeit_order(
                uow, order_id=order_id, now=self.clock.now(), cause=Cause.TIMER
            )
        )
        model = self.models[order_id]
        assert done == (model.state is P)
        if done:
            model.state = F

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def orders_are_where_the_rules_say_and_their_ledgers_add_up(self) -> None:
        with self.uow() as uow:
            for order_id, model in self.models.items():
                order = uow.orders.get(order_id)
                assert order is not None
                assert (order.state, order.received, order.refunded) == (
                    model.state,
                    model.received,
                    model.refunded,
                )
                assert 0 <= order.refunded <= order.received
                moves = list(uow.orders.moves(order_id))
                assert sum(move.amount for move in moves) == order.received - order.refunded
                assert moves[0].kind is MoveKind.PLACED
                for before, after in itertools.pairwise(moves):
                    assert after.from_state is before.to_state, "the ledger is a chain"
                for move in moves:
                    assert (move.from_state, move.to_state) in LEGAL, move
                assert moves[-1].to_state is order.state

    @invariant()
    def each_order_is_expired_at_most_once(self) -> None:
        expired = [e.order_id for e in self.seen.events if isinstance(e, OrderExpired)]
        assert len(expired) == len(set(expired))


ACCOUNTS: list[int] = []
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_random_order_histories_stay_legal_and_their_ledgers_add_up(app: App) -> None:
    Orders.app = app
    ACCOUNTS.clear()
    run_state_machine_as_test(
        Orders,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
