"""English texts of auction settlement (notices to winners and bidders) and of the staff's
auction refusals. Keys and placeholders must match ``settlement_zh.py``."""

MESSAGES: dict[str, str] = {
    "settlement.won": "platebot: you won {plate} at {price}; your deposit of {deposit} counts towards it. Pay the balance of {amount} (order {order}) by {deadline} (China time), or the deposit is forfeited. Pay here: {url}",
    "sms/settlement.won": "platebot: you won {plate} at {price}. Pay {amount} by {deadline} China time or lose the deposit: {url}",
    "settlement.won_issued": "platebot: you won {plate} at {price}, paid by your deposit. The plate is issued to the vehicle with VIN {vin}.",
    # kept for notices queued before the winner got one message (0019): never written now
    "settlement.balance_due": "platebot: you won {plate} at {price}; your deposit of {deposit} counts towards it. Pay the balance of {amount} (order {order}) in My orders by {deadline} (China time), or the deposit is forfeited.",
    "settlement.balance_issued": "platebot: balance of {amount} received. Plate {plate} is issued to the vehicle with VIN {vin}.",
    # kept for notices queued before a payment was told in one message: never written now
    "settlement.issued": "platebot: balance paid. Plate {plate} is issued to the vehicle with VIN {vin}.",
    "settlement.given_up": "platebot: the balance order for {plate} was cancelled, so the plate goes back to the office and your deposit of {deposit} is forfeited.",
    "settlement.forfeited": "platebot: the balance for {plate} was not paid in time. Your deposit of {deposit} is forfeited and the plate goes back to the office.",
    "settlement.lot_withdrawn": 'platebot: the office withdrew {plate} from the auction period "{period}"; bidding on the other plates goes ahead.',
    "settlement.lot_withdrawn_last": 'platebot: the office withdrew {plate}, the last plate of "{period}". The auction ends at its start and paid deposits are refunded.',
    "settlement.period_cancelled": 'platebot: the auction period "{period}" is cancelled. The deposit you paid ({deposit}) is refunded the way you paid it.',
    "settlement.period_cancelled_unpaid": 'platebot: the auction period "{period}" is cancelled, and so are your signup and its unpaid deposit order ({deposit}).',
    "settlement.period_cancelled_counter": 'platebot: the auction period "{period}" is cancelled. Collect the deposit you paid ({deposit}) at the counter where you paid it.',
    "settlement.refund.lost": 'platebot: the auction period "{period}" is over. {amount} of your deposit not used for a plate price is refunded the way you paid it.',
    "settlement.refund.lost_counter": 'platebot: the auction period "{period}" is over. Collect {amount} of your deposit not used for a plate price at the counter.',
    # kept for notices queued before the refund was told in one message: never written now
    "settlement.refunded.lost": "platebot: {amount} of your auction deposit that no plate price used has been refunded the way you paid it.",
    "settlement.refunded.cancelled": "platebot: the auction was cancelled; your deposit of {amount} has been refunded the way you paid it.",
    "settlement.rescheduled": 'platebot: the auction period "{period}" now starts at {starts} (China time); signup closes at {signup_closes}.',
    "settlement.rescheduled_before_signup": 'platebot: the auction period "{period}" now starts at {starts} (China time); signup opens at {signup_opens}.',
    "settlement.rescheduled_signup_closed": 'platebot: the auction period "{period}" now starts at {starts} (China time).',
    "settlement.rescheduled_at_start": 'platebot: the auction period "{period}" now starts at {starts} (China time); you can sign up until then.',
    "error.auction.nothing_to_amend": "Nothing to change: give the new value of at least one setting of the period (name, times, deposit, increments, countdowns, balance days).",
    "error.auction.signup_opened": "Signup for this period has opened: its opening can no longer move, and its close and the start can only move later. Give later times, or cancel the period and publish a new one.",
    "error.auction.terms_fixed": "Bidders have signed up on this period's terms: its {setting:setting} can no longer change. Cancel the period and publish a new one to change it.",
    "error.auction.name_en_invalid": "The English name of a period is 1 to {most} characters: letters, digits, spaces and . , ' ( ) / & : # + - (so that English SMS stay cheap).",
    "error.auction.setting_invalid": "The period's {setting:setting}{value:given} is not valid{setting:rule}: correct it and try again.",
    "error.auction.period_unknown": "No such auction period: list the periods to find its number.",
    "error.auction.period_started": "The auction period has started or ended: it can no longer be changed.",
    "error.auction.lot_unknown": "No such lot: list the period's lots to find its number.",
    "error.auction.plate_not_held_back": "{plate} is not held back (it is in the pool, someone's, or awaiting a winner's balance): it cannot be auctioned.",
    "error.auction.plate_in_auction": "{plate} is already a lot of an open auction.",
    "error.auction.plate_reserved": "{plate} is reserved by a user: it goes to auction through the reservation (review it under reservations).",
}
