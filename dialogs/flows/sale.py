"""Buying a plate at a fixed price (SPEC §6): region → price tier → a page of plates → a plate →
the VIN it is for → confirm → the order, with its amount, deadline and pay link; the user may
cancel it there, or come back to see it paid (the plate is theirs), expired or cancelled.

A signed-in user sees the plates of their certificate location and personalised plates; a
question with one answer (one region) is not asked.
"""

from __future__ import annotations

import enum
from typing import Any

from transitions import EventData

from core import sale
from core.accounts import Language
from core.clock import format_local
from core.orders import Order, OrderState
from core.regions import get_region
from core.sale import Listing, ListingState, Shelf, Tier
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.money import format_yuan
from dialogs.replies import Choice, Inbound, Link, Reply, Text

PAGE = 5


class State(enum.Enum):
    EMPTY = enum.auto()
    REGION = enum.auto()
    TIER = enum.auto()
    LIST = enum.auto()
    PLATE = enum.auto()
    VIN = enum.auto()
    CONFIRM = enum.auto()
    ORDER = enum.auto()


S = State
_FINISHED = {
    OrderState.PAID: "sale.sold",
    OrderState.CANCELLED: "sale.cancelled",
    OrderState.EXPIRED: "sale.expired",
}


class SaleFlow(BaseFlow):
    """Browse plates for sale by region and price, buy one for a vehicle, pay or cancel."""

    name = "sale"
    requires_account = True
    State = State
    help_key = "help.sale"
    checkpoints = frozenset({"ORDER"})  # the order is placed: BACK never goes behind it

    def transitions(self) -> list[dict[str, Any]]:
        browse = [S.TIER, S.LIST, S.PLATE, S.VIN, S.CONFIRM, S.ORDER]
        return [
            {"trigger": "region", "source": S.REGION, "dest": S.TIER, "before": self.take_region},
            {"trigger": "tier", "source": S.TIER, "dest": S.LIST, "before": self.take_tier},
            {"trigger": "more", "source": S.LIST, "dest": S.LIST, "before": self.next_page},
            {"trigger": "plate", "source": S.LIST, "dest": S.PLATE, "before": self.take_plate},
            {"trigger": "buy", "source": S.PLATE, "dest": S.VIN},
            {"trigger": "vin", "source": S.VIN, "dest": S.CONFIRM, "before": self.take_vin},
            {"trigger": "confirm", "source": S.CONFIRM, "dest": S.ORDER, "before": self.order},
            {"trigger": "check", "source": S.ORDER, "dest": S.ORDER},
            {
                "trigger": "cancel_order",
                "source": S.ORDER,
                "dest": S.ORDER,
                "before": self.cancel,
            },
            {"trigger": "list", "source": [S.PLATE, S.VIN, S.CONFIRM], "dest": S.LIST},
            {"trigger": "tiers", "source": [S.LIST], "dest": S.TIER},
            {
                "trigger": "regions",
                "source": browse,
                "dest": S.REGION,
                "conditions": self.several_regions,
                "before": self.forget,
            },
            {"trigger": "regions", "source": browse, "dest": S.TIER, "before": self.forget},
            {"trigger": "menu", "source": list(S), "dest": None, "before": self.to_menu},
        ]

    def entry(self, turn: Turn) -> S:
        regions = self.regions(turn)
        if not regions:
            return S.EMPTY
        if len(regions) == 1:
            turn.data["region"] = regions[0][0]
            return S.TIER
        return S.REGION

    def help(self, turn: Turn) -> Text:
        return Text("sale.help.vin") if turn.state is S.VIN else Text(self.help_key)

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        if turn.state is not S.VIN:
            return None
        account = turn.account
        listing = self.listing(turn)
        if account is None or listing is None:  # pragma: no cover - the flow requires both
            return None
        vin = sale.check_vehicle(
            turn.uow, account=account, vin=inbound.text, kind=listing.plate_kind
        )
        return Event("vin", {"arg": vin})

    # -- moves ---------------------------------------------------------------------------------

    def take_region(self, event: EventData) -> None:
        """A region (``all``: every region the user may see)."""
        arg = str(event.kwargs["arg"])
        turn_of(event).data["region"] = "" if arg == "all" else arg

    def take_tier(self, event: EventData) -> None:
        """A price tier (``any``: every price)."""
        arg = str(event.kwargs["arg"])
        data = turn_of(event).data
        data["tier"] = "" if arg == "any" else arg
        data["page"] = 0

    def next_page(self, event: EventData) -> None:
        """The next page (after the last, the first again)."""
        data = turn_of(event).data
        data["page"] = int(data.get("page", 0)) + 1

    def take_plate(self, event: EventData) -> None:
        turn = turn_of(event)
        turn.data["listing"] = int(str(event.kwargs["arg"]))
        if self.listing(turn) is None:
            raise sale.ListingUnknown(listing=turn.data["listing"])

    def take_vin(self, event: EventData) -> None:
        """The VIN, checked when read (registry, owner, no plate yet, the plate's kind)."""
        turn_of(event).data["vin"] = str(event.kwargs["arg"])

    def order(self, event: EventData) -> None:
        """The order, holding the plate until it is paid, cancelled or expires."""
        turn = turn_of(event)
        account = turn.account
        if account is None:  # pragma: no cover - the flow requires an account
            return
        placed = sale.buy(
            turn.uow,
            account=account,
            listing_id=int(turn.data["listing"]),
            vin=str(turn.data["vin"]),
            now=turn.now,
            minutes=turn.services.order_minutes,
        )
        turn.data["order"] = placed.id

    def cancel(self, event: EventData) -> None:
        """Give up the order; the plate goes back on sale."""
        turn = turn_of(event)
        account = turn.account
        if account is None or account.id is None:  # pragma: no cover - requires an account
            return
        sale.cancel_purchase(
            turn.uow, account_id=account.id, order_id=int(turn.data["order"]), now=turn.now
        )

    def several_regions(self, event: EventData) -> bool:
        return len(self.regions(turn_of(event))) > 1

    def forget(self, event: EventData) -> None:
        """Browse afresh (an order placed stays in "My orders")."""
        data = turn_of(event).data
        regions = self.regions(turn_of(event))
        data.clear()
        if len(regions) == 1:
            data["region"] = regions[0][0]

    def to_menu(self, event: EventData) -> None:
        turn_of(event).go("menu")

    # -- what the screens are about ------------------------------------------------------------

    def shelf(self, turn: Turn) -> Shelf:
        return Shelf.of(turn.account)

    def regions(self, turn: Turn) -> list[tuple[str, int]]:
        return sale.regions_on_sale(turn.uow, self.shelf(turn))

    def region(self, turn: Turn) -> str | None:
        return str(turn.data.get("region") or "") or None

    def tier(self, turn: Turn) -> Tier | None:
        return sale.tier(str(turn.data.get("tier") or ""))

    def listing(self, turn: Turn) -> Listing | None:
        found = turn.uow.sales.get(int(turn.data.get("listing", 0)))
        return found if found is not None and sale.visible(found, self.shelf(turn)) else None

    # -- screens -------------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        state = turn.state
        if state is S.EMPTY:
            return Reply(lines=(Text("sale.empty"),), choices=(_menu(),))
        if state is S.REGION:
            return self._regions(turn)
        if state is S.TIER:
            return self._tiers(turn)
        if state is S.LIST:
            return self._list(turn)
        if state is S.ORDER:
            return self._order(turn)
        listing = self.listing(turn)
        if listing is None or listing.state is not ListingState.LISTED:
            return Reply(lines=(Text("sale.gone"),), choices=(_back_to_list(), _menu()))
        if state is S.PLATE:
            return self._plate(turn, listing)
        if state is S.VIN:
            return Reply(
                lines=(Text("sale.ask_vin", {"plate": listing.plate}),),
                choices=(_back_to_list(), _menu()),
            )
        return self._confirm(turn, listing)

    def _regions(self, turn: Turn) -> Reply:
        english = turn.language is Language.EN
        choices = [
            Choice(
                f"region:{code}",
                Text("sale.region", {"name": get_region(code).name_in(english), "count": n}),
            )
            for code, n in self.regions(turn)
        ]
        choices += [Choice("region:all", Text("sale.all_regions")), _menu()]
        return Reply(lines=(Text("sale.pick_region"),), choices=tuple(choices))

    def _tiers(self, turn: Turn) -> Reply:
        tiers = sale.tiers_on_sale(turn.uow, self.shelf(turn), self.region(turn))
        choices = [Choice(f"tier:{t.id}", _tier_label(t, n)) for t, n in tiers]
        choices.append(Choice("tier:any", Text("sale.all_tiers")))
        if len(self.regions(turn)) > 1:
            choices.append(Choice("regions", Text("sale.other_region")))
        choices.append(_menu())
        return Reply(lines=(Text("sale.pick_tier"),), choices=tuple(choices))

    def _list(self, turn: Turn) -> Reply:
        page = sale.on_sale(
            turn.uow,
            self.shelf(turn),
            region=self.region(turn),
            price_tier=self.tier(turn),
            page=int(turn.data.get("page", 0)),
            size=PAGE,
        )
        footer = [Choice("tiers", Text("sale.other_tier")), _menu()]
        if not page.listings:
            return Reply(lines=(Text("sale.none_here"),), choices=tuple(footer))
        choices = [Choice(f"plate:{item.id}", _item(item)) for item in page.listings]
        if page.pages > 1:
            choices.append(Choice("more", Text("sale.more")))
        params: dict[str, str | int] = {
            "page": page.number + 1,
            "pages": page.pages,
            "total": page.total,
        }
        return Reply(lines=(Text("sale.list", params),), choices=(*choices, *footer))

    def _plate(self, turn: Turn, listing: Listing) -> Reply:
        office = turn.uow.offices.get(listing.office_id)
        english = turn.language is Language.EN
        params: dict[str, str | int] = {
            "plate": listing.plate,
            "kind_key": f"plate.kind.{listing.plate_kind.value}",
            "office": office.name_in(turn.language) if office is not None else "",
            "region": get_region(listing.region_code).name_in(english),
            "price": format_yuan(listing.price),
        }
        lines = [Text("sale.plate", params)]
        if listing.personalised:
            lines.append(Text("sale.personalised"))
        return Reply(
            lines=tuple(lines),
            choices=(Choice("buy", Text("sale.buy")), _back_to_list(), _menu()),
        )

    def _confirm(self, turn: Turn, listing: Listing) -> Reply:
        params: dict[str, str | int] = {
            "plate": listing.plate,
            "price": format_yuan(listing.price),
            "vin": str(turn.data.get("vin", "")),
            "minutes": turn.services.order_minutes,
        }
        return Reply(
            lines=(Text("sale.confirm", params), Text("sale.confirm_q")),
            choices=(
                Choice("confirm", Text("sale.confirm_button")),
                _back_to_list(),
                _menu(),
            ),
            keep=True,
        )

    def _order(self, turn: Turn) -> Reply:
        order = turn.uow.orders.get(int(turn.data.get("order", 0)))
        again = (Choice("regions", Text("sale.browse_again")), _menu())
        if order is None:  # pragma: no cover - the order was placed in this flow
            return Reply(lines=(Text("sale.gone"),), choices=again)
        if order.state is OrderState.PENDING:
            return self._pending(turn, order)
        listing = sale.listing_of_order(turn.uow, order)
        params: dict[str, str | int] = {"plate": order.subject, "vin": _vin(listing)}
        key = _FINISHED.get(order.state)
        if key is None:
            line = Text("sale.order_state", {"state_key": f"order.state.{order.state.value}"})
        else:
            line = Text(key, params)
        return Reply(lines=(line,), choices=again, keep=True)

    def _pending(self, turn: Turn, order: Order) -> Reply:
        params: dict[str, str | int] = {
            "plate": order.subject,
            "amount": format_yuan(order.amount),
            "deadline": format_local(order.deadline),
        }
        payments = turn.services.payments
        links = (
            (Link(Text("sale.pay_link"), payments.pay_url(order)),) if payments is not None else ()
        )
        return Reply(
            lines=(Text("sale.ordered", params), Text("sale.after_paying")),
            choices=(
                Choice("check", Text("sale.check")),
                Choice("cancel_order", Text("sale.cancel_order")),
                _menu(),
            ),
            links=links,
            keep=True,
        )


def _menu() -> Choice:
    return Choice("menu", Text("menu.back"))


def _back_to_list() -> Choice:
    return Choice("list", Text("sale.back_to_list"))


def _vin(listing: Listing | None) -> str:
    return (listing.vin or "") if listing is not None else ""


def _item(listing: Listing) -> Text:
    key = "sale.item_personalised" if listing.personalised else "sale.item"
    return Text(key, {"plate": listing.plate, "price": format_yuan(listing.price)})


def _tier_label(tier: Tier, count: int) -> Text:
    if tier.low is None and tier.high is not None:
        return Text("sale.tier.below", {"high": format_yuan(tier.high), "count": count})
    if tier.high is None and tier.low is not None:
        return Text("sale.tier.above", {"low": format_yuan(tier.low), "count": count})
    low, high = format_yuan(tier.low or 0), format_yuan(tier.high or 0)
    return Text("sale.tier.between", {"low": low, "high": high, "count": count})


__all__ = ["SaleFlow", "State"]
