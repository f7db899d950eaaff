"""What an audit of the auction room (SPEC §7, §13) found, as transcripts in zh and en through
every renderer, on every database under test:

- a bare ``出价`` / ``B`` / ``BID`` on a lot that already has a price is the bid command, refused
  with the price and the raises, never taken for the option "自动出价" (automatic bidding, which
  asks for a maximum); ``自动出价`` typed in full still asks for one, ``出价 1000`` still raises;
- the room of a closed lot shows its result (sold at what price to which bidder, unsold; won by
  me: what to pay by when) and what to do next, not "Please wait:";
- a withdrawn lot's notice reaches each bidder of the period once, in their language, with the
  accounts read in one query.

English expectations leave the plate's words out (how English texts show a plate is changing)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import auctions, notices, settlement
from core.accounts import Account, Language
from core.auctions import YUAN
from core.clock import ManualClock, format_deadline
from core.outbox import Channel
from core.plates import PlateKind
from core.ports import Sender
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from platebot.staff_auctions import StaffAuctions
from store.repositories import SqlAccountRepository
from store.tables import outbox
from tests.auction_journey_world import JourneyWorld, Rival
from tests.auction_world import vin
from tests.preselect_world import add_office
from tests.settlement_world import GATEWAY, SettlementWorld
from tests.support import SMS, CapturingSender, Renderer, Transcript, choice_ids, flat

SAY = {
    "zh": {
        "has_price": "已有人出价，现价¥11,000",
        "raises": "加价须为¥1,000 ¥2,000 ¥3,000 ¥4,000 ¥5,000之一，如B 1000",
        "telegram_raises": "请选择加价",
        "ask_maximum": "自动出价最高到多少元",
        "pick_vin": "用哪辆车出价",
        "automatic": "自动出价",
        "raised": "出价成功：粤D·88888 ¥12,000，您领先",
    },
    "en": {
        "has_price": "The lot has a bid already: the price is ¥11,000.",
        "raises": "Raise by one of ¥1,000 ¥2,000 ¥3,000 ¥4,000 ¥5,000, e.g. B 1000.",
        "telegram_raises": "Press a raise.",
        "ask_maximum": "Bid automatically up to how many yuan?",
        "pick_vin": "Bid with which vehicle?",
        "automatic": "automatic bidding",
        "raised": "¥12,000, you lead.",
    },
}
# A bare bid as users type it: the Chinese command in either language (options are chosen by
# words of either language, SPEC §13), the English letters, and with a full stop typed after it.
BARE_BIDS = ("出价", "B", "BID", "bid", "出价。", "B.")


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def price(world: JourneyWorld, n: int = 0) -> int | None:
    with world.app.uow() as uow:
        lot = uow.auctions.lot(world.lot_ids[n])
    assert lot is not None
    return lot.price_fen


def enter(chat: Transcript, me: Rival, code: str) -> None:
    """From wherever the chat is to the room (the first open lot)."""
    chat.say("MENU")
    chat.pick("auction")
    chat.pick("room")
    chat.say(f"{me.bidder_number} {code}")


def priced_room(
    world: JourneyWorld, renderer: Renderer, lang: str, *, vins: int = 1
) -> tuple[Transcript, Rival, str]:
    """The world's user (``vins`` vehicles) in the room of a lot a rival has bid ¥11,000 on:
    the screen offers the raises and automatic bidding, no starting price."""
    period_id = world.period(bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(n) for n in range(1, vins + 1)])
    rival = world.rival(period_id)
    world.start()
    world.rival_bids(rival, world.lot_ids[0])  # ¥11,000
    chat = world.chat(renderer, lang)
    enter(chat, me, code)
    return chat, me, code


def assert_has_price(chat: Transcript, renderer: Renderer, say: dict[str, str], typed: str) -> None:
    shown = flat(chat.text)
    raises = say["telegram_raises"] if renderer.name == "telegram" else say["raises"]
    assert say["has_price"] in shown, f"{typed!r}:\n{chat.text}"
    assert raises in shown, f"{typed!r}:\n{chat.text}"
    assert say["ask_maximum"] not in shown, f"{typed!r} asked for a maximum"
    assert say["pick_vin"] not in shown, f"{typed!r} asked for a vehicle"


# -- a bare bid on a lot with a price ----------------------------------------------------------


def test_a_bare_bid_on_a_lot_with_a_price_is_refused_never_taken_for_automatic_bidding(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat, me, code = priced_room(world, renderer, lang)
    for typed in BARE_BIDS:
        assert "max" in choice_ids(chat), "the room offers automatic bidding"
        assert "bid:start" not in choice_ids(chat), "the lot has a price"
        chat.say(typed)
        assert_has_price(chat, renderer, say, typed)
        chat.say("30000")  # had it asked for a maximum, this would set one
        assert price(world) == 11_000 * YUAN, f"{typed!r}: nothing bid"
        with world.app.uow() as uow:
            assert not list(uow.auctions.active_maxima(world.lot_ids[0])), typed
        enter(chat, me, code)
    with world.app.uow() as uow:
        trail = list(uow.auctions.bids(world.lot_ids[0]))
    assert [(bid.amount_fen, bid.refusal) for bid in trail] == [
        (11_000 * YUAN, None),
        *((None, "auction.lot_has_price") for _ in BARE_BIDS),
    ], "each refusal kept in the lot's trail"

    for typed in ("自动出价", say["automatic"]):  # the option's own words still choose it
        chat.say(typed)
        assert say["ask_maximum"] in flat(chat.text), typed
        enter(chat, me, code)
    chat.say("出价 1000")  # and a bid of an amount raises
    assert say["raised"] in flat(chat.text)
    assert price(world) == 12_000 * YUAN


def test_a_bare_bid_of_a_bidder_with_two_free_vehicles_is_refused_before_a_vehicle_is_asked(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat, me, code = priced_room(world, renderer, lang, vins=2)
    for typed in ("出价", "B"):
        chat.say(typed)
        assert_has_price(chat, renderer, say, typed)
        enter(chat, me, code)
    assert price(world) == 11_000 * YUAN
    with world.app.uow() as uow:
        refusals = [bid.refusal for bid in uow.auctions.bids(world.lot_ids[0])][1:]
    assert refusals == ["auction.lot_has_price", "auction.lot_has_price"]


def test_a_plate_typed_in_the_lots_list_picks_that_lot_even_when_it_reads_as_a_raise(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    """In the list of lots, ``B 01000`` is the words of 粤B·01000 (``Yue B 01000``): that lot is
    shown, nothing is bid on the lot the bidder was in (a bid typed comes first only where
    automatic bidding is an option: the room's screen)."""
    add_office(world.app, code="粤B", region="4403", name="深圳市车辆管理所")
    period_id = world.period(lots=1, bid_countdown_s=60)  # 粤D·88888
    with world.app.uow() as uow:
        shenzhen = auctions.add_lot(uow, clock=world.clock, period_id=period_id,
                                    office_code="粤B", kind=PlateKind.SMALL, serial="01000",
                                    starting_price_fen=10_000 * YUAN)  # fmt: skip
        uow.commit()
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    world.rival_bids(rival, world.lot_ids[0])  # ¥11,000
    chat = world.chat(renderer, lang)
    enter(chat, me, code)
    chat.pick("lots")
    chat.say("B 01000")
    assert ("Yue B 01000" if lang == "en" else "粤B·01000") in chat.text.splitlines()[0]
    assert price(world) == 11_000 * YUAN
    with world.app.uow() as uow:
        assert len(uow.auctions.bids(world.lot_ids[0])) == 1
        assert uow.auctions.bids(shenzhen.id or 0) == []


def test_a_bare_bid_on_a_closed_lot_says_it_has_ended_without_asking_for_a_vehicle(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period(lots=2, bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(1), vin(2)])
    rival = world.rival(period_id)
    world.start()
    world.rival_bids(rival, world.lot_ids[0])  # ¥11,000, then it closes
    chat = world.chat(renderer, lang)
    enter(chat, me, code)
    world.clock.advance(timedelta(seconds=61))
    world.run_timers()
    for typed in ("B", "出价", "B 1000"):
        chat.say(typed)
        shown = flat(chat.text)
        assert ENDED[lang] in shown, f"{typed!r}:\n{chat.text}"
        assert SAY[lang]["pick_vin"] not in shown and "VIN" not in shown.replace("VINs", "")
    assert price(world) == 11_000 * YUAN


ENDED = {"zh": "已结束", "en": "has ended"}


# -- the room of a closed lot ------------------------------------------------------------------

CLOSED = {
    "zh": {
        "won": "已结束：您竞得，成交价¥10,000。",
        "due": "保证金¥5,000已抵价款。请于{due}前在“我的订单”支付余款¥5,000（订单{order}），"
        "逾期保证金不予退还。",
        "issued": f"号牌已登记给车架号{vin(1)}的车辆。",
        "sold": "已结束：已成交，成交价¥12,000，竞得人{leader}。",
        "mine": "我的出价¥11,000",
        "unsold": "已结束：流拍，无人出价。",
        "next": "接下来您可以：",
        "wait": "请稍候",
        "results": "2026年第12期结果：成交2个，共3个",
        "live_won": "第1号拍品 粤D·88888\n您已竞得，成交价¥10,000，后续事项另行通知。",
    },
    "en": {
        "won": "Ended: you won it at ¥10,000.",
        "due": "Your deposit of ¥5,000 counts towards it. Pay the balance of ¥5,000 (order "
        "{order}) in My orders by {due} (China time), or the deposit is forfeited.",
        "issued": f"The plate is issued to the vehicle with VIN {vin(1)}.",
        "sold": "Ended: sold at ¥12,000 to bidder {leader}.",
        "mine": "My bid ¥11,000",
        "unsold": "Ended: unsold, nobody bid.",
        "next": "What next?",
        "wait": "Please wait",
        "results": "results: 2 of 3 sold",
        "live_won": "You won it at ¥10,000. A message of its own tells you what follows.",
    },
}
# what the room of a closed lot offers: the other lots, the auctions, the menu; once the period
# has closed, its results too; never a raise, automatic bidding or a refresh
NEXT = ["lots", "home", "menu"]
NEXT_WITH_RESULTS = ["lots", "results", "home", "menu"]


def masked(number: str) -> str:
    return f"{number[:2]}****{number[-2:]}"


def lot_choice(world: JourneyWorld, n: int) -> str:
    return f"lot:{world.lot_ids[n]}"


def closed_lots(world: JourneyWorld, renderer: Renderer, lang: str) -> tuple[Transcript, Rival]:
    """Three lots: lot 1 won by the world's user at its starting price, lot 2 sold to a rival
    who outbid them (¥12,000), both closed; lot 3 open till 11:05, nobody bidding. The user's
    chat shows lot 1 as it was before its close."""
    period_id = world.period(lots=3, bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    world.rival_bids(me, world.lot_ids[1])  # lot 2: mine ¥11,000 (its VIN freed when outbid)
    world.rival_bids(rival, world.lot_ids[1])  # ¥12,000
    chat = world.chat(renderer, lang)
    enter(chat, me, code)
    chat.pick("bid:start")  # lot 1: ¥10,000
    world.clock.advance(timedelta(seconds=61))
    world.run_timers()
    return chat, rival


def test_the_room_of_a_closed_lot_shows_who_won_at_what_price_and_the_winner_what_to_pay(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = CLOSED[lang]
    chat, rival = closed_lots(world, renderer, lang)
    chat.pick("refresh")  # lot 1: won
    with world.app.uow() as uow:
        won = uow.settlements.of_lot(world.lot_ids[0])
        assert won is not None and won.balance_order_id is not None
        order = uow.orders.get(won.balance_order_id)
        assert order is not None
    shown = flat(chat.text)
    assert say["won"] in shown
    assert say["due"].format(due=format_deadline(won.due_at), order=order.id) in shown
    assert chat.reply is not None
    assert [link.url for link in chat.reply.links] == [world.app.payments.pay_url(order)]
    assert chat.reply.keep, "Telegram leaves the result in the chat: what follows is new"
    assert say["next"] in shown
    assert say["wait"] not in shown
    assert choice_ids(chat) == NEXT

    chat.pick("lots")
    chat.pick(lot_choice(world, 1))  # lot 2: sold to the rival, who outbid me
    shown = flat(chat.text)
    assert say["sold"].format(leader=masked(rival.bidder_number)) in shown
    assert say["mine"] in shown
    assert say["next"] in shown
    assert say["wait"] not in shown
    assert choice_ids(chat) == NEXT
    assert chat.reply is not None and not chat.reply.keep

    world.pay_deposit(world.app.payments.pay_url(order))  # the balance, on the pay page
    chat.pick("lots")
    chat.pick(lot_choice(world, 0))  # lot 1 again: paid
    assert say["won"] in flat(chat.text)
    assert say["issued"] in flat(chat.text)
    assert chat.reply is not None and chat.reply.links == ()


def test_the_room_of_an_unsold_lot_says_so_and_offers_the_results_once_the_period_closed(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = CLOSED[lang]
    chat, _ = closed_lots(world, renderer, lang)
    world.clock.advance(timedelta(minutes=10))  # lot 3 closes unsold: the period closes
    world.run_timers()
    chat.pick("lots")
    chat.pick(lot_choice(world, 2))
    shown = flat(chat.text)
    assert say["unsold"] in shown
    assert say["next"] in shown
    assert say["wait"] not in shown
    assert choice_ids(chat) == NEXT_WITH_RESULTS
    chat.pick("results")
    assert say["results"] in flat(chat.text)


@pytest.fixture
def telegram_world(db: Engine, clock: ManualClock, sms: CapturingSender) -> JourneyWorld:
    """The journey's world on a server that sends on Telegram too."""
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    senders: dict[Channel, Sender] = {Channel.SMS: sms, Channel.TELEGRAM: CapturingSender()}
    return JourneyWorld(build_app(settings, clock=clock, senders=senders, db=db, upgrade=False))


def test_the_live_room_message_of_a_won_lot_tells_the_winner_without_buttons(
    telegram_world: JourneyWorld, lang: str
) -> None:
    """The room message a Telegram user watches (edited in place as the lot changes) shows the
    winner that they won, not their own masked number; its raise buttons are gone."""
    world = telegram_world
    period_id = world.period(bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    with world.app.uow() as uow:
        uow.contacts.link(
            channel="telegram", address="701", account_id=me.account_id, now=world.clock.now()
        )
        uow.accounts.set_language(me.account_id, Language(lang))
        uow.commit()
    world.start()
    chat = world.chat(SMS, lang)
    enter(chat, me, code)  # in the room: watching it on Telegram
    chat.pick("bid:start")
    world.run_timers()
    world.clock.advance(timedelta(seconds=61))
    world.run_timers()
    query = (
        sa.select(outbox.c.key, outbox.c.params, outbox.c.choices, outbox.c.language)
        .where(outbox.c.live_key == f"room:{world.lot_ids[0]}", outbox.c.recipient == "701")
        .order_by(outbox.c.id)
    )
    with world.app.db.connect() as conn:
        last = conn.execute(query).all()[-1]
    live = render_text(Text(last.key, last.params), last.language, "telegram")
    assert CLOSED[lang]["live_won"] in live
    assert masked(me.bidder_number) not in live
    assert last.choices == []
    assert rival.bidder_number not in live


# -- a withdrawn lot's notice ------------------------------------------------------------------


WITHDRAWN_ZH = "号牌助手：竞价期“2026年第12期”的号牌粤D·88888已由车管所撤拍，其余号牌照常竞买。"


def test_a_withdrawn_lot_is_told_once_to_each_bidder_in_their_language_with_one_read_of_accounts(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = SettlementWorld(db)
    period = world.period()
    world.lot(period, "66666")
    withdrawn = world.lot(period, "88888")
    paid = [world.paid_bidder(period).account_id for _ in range(3)]
    unpaid = world.account()  # signed up, deposit not paid yet: told too
    world.signup(period, world.new_vins(1), unpaid)
    english = {paid[1], unpaid}
    with world.uow() as uow:
        for account_id in english:
            uow.accounts.set_language(account_id, Language.EN)
        uow.commit()
    bidders = [*paid, unpaid]

    reads: list[str] = []  # the accounts read by the withdrawal, but by each notice's own routing
    routing = [False]
    real_view, real_views = SqlAccountRepository.view, SqlAccountRepository.views

    def notify(*args: Any, **kwargs: Any) -> int:
        routing[0] = True
        try:
            return notices.notify(*args, **kwargs)
        finally:
            routing[0] = False

    def view(self: SqlAccountRepository, account_id: int) -> Account | None:
        if not routing[0]:
            reads.append(f"view {account_id}")
        return real_view(self, account_id)

    def views(self: SqlAccountRepository, account_ids: Collection[int]) -> dict[int, Account]:
        reads.append(f"views {sorted(account_ids)}")
        return real_views(self, account_ids)

    monkeypatch.setattr(settlement, "notify", notify)
    monkeypatch.setattr(SqlAccountRepository, "view", view)
    monkeypatch.setattr(SqlAccountRepository, "views", views)
    StaffAuctions(world.uow, world.clock, GATEWAY).withdraw_lot(withdrawn)
    assert reads == [f"views {sorted(bidders)}"], "the bidders' accounts, read in one query"

    query = sa.select(outbox.c.account_id, outbox.c.key, outbox.c.params, outbox.c.language)
    with world.engine.connect() as conn:
        rows = [row for row in conn.execute(query.order_by(outbox.c.id)) if "withdrawn" in row.key]
    assert sorted(row.account_id for row in rows) == sorted(bidders), "one notice each"
    for row in rows:
        language = Language.EN if row.account_id in english else Language.ZH
        assert row.language is language
        told = render_text(Text(row.key, row.params), language)
        if language is Language.ZH:
            assert told == WITHDRAWN_ZH
        else:  # the plate's and the period's English words left out
            assert told.startswith("platebot: the office withdrew ")
            assert told.endswith('"; bidding on the other plates goes ahead.')
            assert told.isascii(), "one GSM-7 SMS"
