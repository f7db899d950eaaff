"""English texts of plate reservations (SPEC §8). Keys and placeholders must match
``reservation_zh.py``."""

_ENTRY = "{plate} (VIN ending {vin}): {state}"
_COUNTER = (
    "Your reservation deposit of {amount:yuan} was paid at the counter: collect the refund there."
)

MESSAGES: dict[str, str] = {
    "menu.reserve": "Reserve a plate",
    "reservation.home": (
        "Reserve a plate: enter the last 5 characters of the plate you want and your VIN. Once "
        "staff approve it and you pay the reservation deposit, the plate goes into the next auction."
    ),
    "reservation.start": "Reserve a number",
    "reservation.history": "Reservation history",
    "reservation.no_office": "There is no office whose plates you may reserve.",
    "reservation.ask_office": "Choose the office:",
    "reservation.ask_number": "Enter the last 5 characters of the {office} plate you want (e.g. 26666, AC123):",
    "reservation.ask_vin": "Reserving {plate}. Enter your VIN (17 characters, on the vehicle certificate):",
    "reservation.sent": "Reservation sent: {plate}. Staff will review it; you will get a message with the result.",
    "reservation.history.none": "You have no reservations yet.",
    "reservation.history.title": "Your reservations:",
    "reservation.entry": _ENTRY,
    "reservation.entry.rejected": _ENTRY + "; reason: {reason}",
    "reservation.entry.approved": _ENTRY + "; pay the deposit of {amount:yuan} by {deadline}",
    "reservation.entry.placed": _ENTRY + ": {period}, starts {starts}",
    "reservation.pay": "Pay the deposit for {plate}",
    "reservation.state.pending": "waiting for review",
    "reservation.state.rejected": "rejected",
    "reservation.state.approved": "approved",
    "reservation.state.lapsed": "lapsed, deposit not paid in time",
    "reservation.state.paid": "deposit paid, waiting for the next auction",
    "reservation.state.placed": "in the auction",
    "reservation.state.won": "won by you, deposit refunded",
    "reservation.state.lost": "won by another bidder, deposit refunded",
    "reservation.state.unsold": "nobody bid, deposit refunded",
    "reservation.help": (
        "Reserving a plate: once staff approve it you get a message to pay the reservation "
        "deposit; paid, the plate goes into the next auction. To bid you sign up and pay the "
        "auction deposit like everyone. The reservation deposit is refunded when the lot closes."
    ),
    "reservation.help.number": "The last 5 characters: digits and letters (no I or O), at most 2 letters, e.g. 26666 or AC123.",
    "error.reservation.number_pooled": "{plate} is in the pool for new-car pre-selection, not for reservation (pick it there for a new car). Enter another number.",
    "error.reservation.number_taken": "{plate} is taken. Enter another number.",
    "error.reservation.number_for_sale": "{plate} is for sale at a fixed price, not for reservation. Enter another number.",
    "error.reservation.number_in_auction": "{plate} is in an auction already: sign up to bid for it. Enter another number.",
    "error.reservation.number_reserved": "{plate} is reserved by someone else. Enter another number.",
    "error.reservation.already_yours": "You have reserved {plate} already: see Reservation history. Enter another number.",
    "error.reservation.unknown": "No such reservation.",
    "error.reservation.not_pending": "The reservation is {state}: only pending ones can be reviewed.",
    "error.reservation.reason_required": "A reason is needed to reject a reservation.",
    "error.reservation.amount_invalid": "Invalid amount ({setting}): give a positive amount.",
    "reservation.notice.approved": "platebot: your reservation of {plate} is approved. Pay the reservation deposit of {amount:yuan} by {deadline} (China time): {url}",
    "reservation.notice.rejected": "platebot: your reservation of {plate} was rejected: {reason}",
    "reservation.notice.placed": 'platebot: {plate} is a lot of the auction period "{period}". Sign up by {signup_closes}, bid from {starts} (China time).',
    "reservation.notice.placed_at_start": 'platebot: {plate} is a lot of the auction period "{period}". Sign up before bidding starts at {starts} (China time).',
    "reservation.notice.placed_before_signup": 'platebot: {plate} is a lot of "{period}". Signup opens at {signup_opens}, bidding at {starts} (China time).',
    "reservation.notice.paid_placed_before_signup": 'platebot: deposit {amount:yuan} received: {plate} is a lot of "{period}". Signup opens at {signup_opens} (China time).',
    "reservation.notice.waiting": "platebot: deposit for {plate} received. The plate goes into the next auction period; you will be told when.",
    "reservation.notice.paid_waiting": "platebot: reservation deposit of {amount:yuan} for {plate} received. The plate goes into the next auction period; you will be told when.",
    "reservation.notice.paid_placed": 'platebot: deposit {amount:yuan} received. {plate} is in "{period}": sign up by {signup_closes}, bidding from {starts} (China time).',
    "reservation.notice.paid_placed_at_start": 'platebot: deposit {amount:yuan} received: {plate} is a lot of "{period}". Sign up before bidding starts at {starts} (China time).',
    "reservation.notice.lapsed": "platebot: the deposit for {plate} was not paid in time; the reservation has lapsed.",
    "reservation.notice.lapsed_cancelled": "platebot: the deposit order for {plate} was cancelled; the reservation has lapsed.",
    "reservation.notice.won": "platebot: you won {plate}. Your reservation deposit of {amount:yuan} has been refunded.",
    "reservation.notice.lost": "platebot: {plate} was won by another bidder. Your reservation deposit of {amount:yuan} has been refunded.",
    "reservation.notice.unsold": "platebot: nobody bid for {plate}. Your reservation deposit of {amount:yuan} has been refunded.",
    "reservation.notice.won_counter": "platebot: you won {plate}. " + _COUNTER,
    "reservation.notice.lost_counter": "platebot: {plate} was won by another bidder. " + _COUNTER,
    "reservation.notice.unsold_counter": "platebot: nobody bid for {plate}. " + _COUNTER,
}
