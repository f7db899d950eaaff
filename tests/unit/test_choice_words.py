"""Which option typed words pick, on the app's own labels (both languages): exact words first,
then an English word whose plural the label has."""

from dialogs.engine import _match_choice
from dialogs.replies import Choice, Text

ORDER_LIST = [
    Choice("pay:12", Text("orders.pay", {"id": 12})),
    Choice("cancel:12", Text("orders.cancel", {"id": 12})),
    Choice("history", Text("orders.history")),
    Choice("menu", Text("menu.back")),
]
SHARES = [Choice(f"shares:{n}", Text("auction.shares_choice", {"n": n})) for n in (1, 2, 3)]


def test_a_word_as_the_label_has_it_wins_over_a_plural() -> None:
    assert _match_choice("orders", ORDER_LIST) == "history"  # "Past orders", not "Cancel order 12"
    assert _match_choice("share", SHARES) == "shares:1"  # "1 share", not "2 shares"
    assert _match_choice("Shares", SHARES) is None  # "2 shares" and "3 shares": ask for the number


def test_an_english_word_fits_the_labels_plural() -> None:
    menu = [
        Choice("auction", Text("menu.auction")),
        Choice("orders", Text("menu.orders")),
        Choice("info", Text("menu.info")),
    ]
    assert _match_choice("auction", menu) == "auction"  # "Plate auctions"
    assert _match_choice("PLATE AUCTION", menu) == "auction"
    assert _match_choice("order", menu) == "orders"  # "My orders"
    assert _match_choice("notice", menu) == "info"  # "Guides, notices, contacts"
    assert _match_choice("auctionz", menu) is None


def test_a_plural_that_fits_several_options_picks_none() -> None:
    choices = [Choice("history", Text("orders.history")), Choice("to_pay", Text("orders.to_pay"))]
    assert _match_choice("order", choices) is None  # "Past orders", "Orders to pay"
    assert _match_choice("past order", choices) == "history"


def test_punctuation_around_the_words_is_left_out() -> None:
    menu = [Choice("auction", Text("menu.auction")), Choice("register", Text("menu.register"))]
    assert _match_choice("Auctions!", menu) == "auction"
    assert _match_choice("注册。", menu) == "register"
    assert _match_choice("2.", menu) == "register"
