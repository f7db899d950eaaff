"""The Telegram channel: the bot (webhook or polling), its rendering, and the outbox sender."""

import logging
import os

# httpx logs each request's URL at INFO, and a Bot API URL holds the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

# python-telegram-bot 22 warns on every read of a time period (such as a 429's ``retry_after``,
# which it reads itself) unless this opt-in is set; with it the values are timedeltas, as they
# will be in PTB 23 and as platebot reads them.
os.environ.setdefault("PTB_TIMEDELTA", "true")
