"""English texts of the live auction room (the Telegram room message, outbid and result notices)
and the practice auction. Keys and placeholders must match ``room_zh.py``."""

MESSAGES: dict[str, str] = {
    "room.screen": (
        "Lot {position} {plate}\n{what}: {price}\nLeading: {leader}\nMy bid: {mine}\n"
        "Closes: {deadline} ({left}s left)\nRecent bids:\n{recent}"
    ),
    "room.screen_sold": "Lot {position} {plate}\nSold: {price} to {leader}",
    "room.screen_unsold": "Lot {position} {plate}\nClosed: unsold",
    "room.screen_won": "Lot {position} {plate}\nYou won it at {price}. A message of its own tells you what follows.",
    "room.starting": "Starting price",
    "room.current": "Current price",
    "room.nobody": "nobody yet",
    "room.you": "you",
    "room.no_bid": "none",
    "room.no_bids": "none yet",
    "room.raise": "+{amount}",
    "room.start_bid": "Bid the starting price {amount}",
    "room.outbid": "Lot {position} {plate}: you were outbid. Now {price}, leader {leader}. Reply B {step} to raise.",
    "telegram/room.outbid": "Lot {position} {plate}: you were outbid. Now {price}, leader {leader}.",
    "room.maximum_exceeded": "Lot {position} {plate}: another bidder leads at {price}, beyond what your automatic maximum {maximum} can answer; automatic bidding stopped.",
    # kept for notices queued before the winner got one message (0019): never written now
    "room.won": "Lot {position} {plate}: you won it at {price}. Watch for the balance notice.",
    "room.sold": "Lot {position} {plate} sold at {price} to {leader}.",
    "room.unsold": "Lot {position} {plate} closed unsold.",
    # the practice auction
    "menu.practice_auction": "Practice auction",
    "practice_auction.banner": "[Practice auction: nothing saved]",
    "practice_auction.intro": "Bid against a simulated rival for a practice plate: short countdowns, nothing saved.",
    "practice_auction.refresh": "Refresh",
    "practice_auction.leave": "Leave",
    "practice_auction.again": "Practise again",
    "practice_auction.accepted": "Bid accepted: {amount}. You lead.",
    "practice_auction.rival_bid": "Rival {rival} bid {amount}: you were outbid.",
    "practice_auction.too_late": "Too late: the lot had closed, the bid does not count.",
    "practice_auction.won": "Practice result: you won at {price} (practice, not valid).",
    "practice_auction.lost": "Practice result: rival {rival} won at {price}.",
    "practice_auction.unsold": "Practice result: nobody bid, unsold.",
    "practice_auction.hint": "Pick a raise, or Refresh to see the time left.",
    "practice_auction.has_price": "The lot has a bid already: the price is {price}. Pick a raise.",
    "practice_auction.not_allowed": "Raises are ¥1,000, ¥2,000 or ¥3,000.",
    "practice_auction.already_leading": "You lead already: you cannot raise your own bid.",
    "sms/room.screen": "Lot {position} {plate}: {what} {price}, leading {leader}, mine {mine}, closes {deadline} ({left}s left)",
    "help.practice_auction": "The practice auction looks like the real one: each bid raises the price by one step, and the last bid before the deadline wins. Nothing is saved. MENU: menu.",
}
