"""Tables of the SMS channel: inbound MessageSids handled, opt-outs, pages waiting for "N",
and the delivery status Twilio reports."""

from __future__ import annotations

import sqlalchemy as sa

from core.accounts import Language
from store.tables import metadata
from store.types import UTCDateTime, enum_column

# One row per inbound MessageSid of a number: a second delivery gets the same messages back. The
# number is part of the key: a MessageSid from another number is another message.
sms_inbound = sa.Table(
    "sms_inbound",
    metadata,
    sa.Column("phone", sa.String(20), primary_key=True),
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("messages", sa.JSON, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index("ix_sms_inbound_received_at", "received_at"),
)

# A number that sent STOP (or that Twilio refused with 21610): nothing is sent to it.
sms_opt_outs = sa.Table(
    "sms_opt_outs",
    metadata,
    sa.Column("phone", sa.String(20), primary_key=True),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("opted_out_at", UTCDateTime, nullable=False),
)

# The rest of a reply too long for one SMS, sent page by page when the user replies "N".
# ``token`` is the prompt the pages belong to (the conversation's version after that turn):
# once the conversation has moved on, they are stale and "N" is just a word to the dialogs.
sms_pages = sa.Table(
    "sms_pages",
    metadata,
    sa.Column("phone", sa.String(20), primary_key=True),
    sa.Column("token", sa.String(32), nullable=False),
    sa.Column("pages", sa.JSON, nullable=False),
    sa.Column("language", enum_column(Language), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# What Twilio's status callbacks said about a message we sent (its MessageSid).
sms_deliveries = sa.Table(
    "sms_deliveries",
    metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("error_code", sa.Integer),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
