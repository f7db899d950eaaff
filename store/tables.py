"""Tables, and the imperative mapping of core's dataclasses onto them."""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from sqlalchemy.orm import registry

from core.accounts import Account, AccountKind, Category, Language
from core.otp import OneTimeCode
from core.outbox import Channel, OutboxMessage, OutboxStatus
from store.types import UTCDateTime, enum_column

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
mapper_registry = registry(metadata=metadata)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False, unique=True),
    sa.Column("kind", enum_column(AccountKind), nullable=False),
    sa.Column("category", enum_column(Category), nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("id_number", sa.String(18), nullable=False),
    sa.Column("permit_number", sa.String(30)),
    sa.Column("unit_code", sa.String(18)),
    sa.Column("legal_rep_name", sa.String(120)),
    sa.Column("region_code", sa.String(4), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("language", enum_column(Language), nullable=False),
    sa.Column("window_user", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

one_time_codes = sa.Table(
    "one_time_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("wrong_entries", sa.Integer, nullable=False, default=0),
    sa.Column("used_at", UTCDateTime),
    sa.Column("requester", sa.String(100), nullable=False, default="", server_default=""),
    sa.Column("vouched", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Index("ix_one_time_codes_phone_created", "phone", "created_at"),
    sa.Index("ix_one_time_codes_requester_created", "requester", "created_at"),
    sa.Index("ix_one_time_codes_created_at", "created_at"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", enum_column(Channel), nullable=False),
    sa.Column("recipient", sa.String(64), nullable=False),
    sa.Column("account_id", sa.Integer),
    sa.Column("key", sa.String(80), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("choices", sa.JSON, nullable=False),
    sa.Column("language", enum_column(Language), nullable=False),
    sa.Column("dedupe_key", sa.String(120), nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("live_key", sa.String(80)),
    sa.Column("coalesce_key", sa.String(80)),
    sa.Column("sensitive", sa.Boolean, nullable=False, default=False),
    sa.Column("status", enum_column(OutboxStatus), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("sending_since", UTCDateTime),
    sa.Column("in_doubt", sa.Boolean, nullable=False, default=False),
    sa.Column("last_error", sa.String(500)),
    sa.Column("provider_id", sa.String(64)),
    sa.Column("broadcast_id", sa.Integer),
    sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    # The dispatcher's claim walks this in order (a channel's open rows, most urgent first), so
    # a code is found at once however many broadcast rows wait behind it.
    sa.Index(
        "ix_outbox_claim",
        "channel",
        "priority",
        "due_at",
        "id",
        sqlite_where=sa.text("status IN ('pending', 'sending')"),
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    ),
    # The live message an update replaces, and the pending updates it coalesces.
    sa.Index(
        "ix_outbox_live",
        "channel",
        "recipient",
        "live_key",
        sqlite_where=sa.text("live_key IS NOT NULL"),
        postgresql_where=sa.text("live_key IS NOT NULL"),
    ),
    # The pending notice a later one with the same key replaces, or a withdrawal skips.
    sa.Index(
        "ix_outbox_coalesce",
        "coalesce_key",
        sqlite_where=sa.text("coalesce_key IS NOT NULL"),
        postgresql_where=sa.text("coalesce_key IS NOT NULL"),
    ),
    # A staff broadcast's deliveries, by outcome (progress, pause, the report).
    sa.Index(
        "ix_outbox_broadcast",
        "broadcast_id",
        "status",
        sqlite_where=sa.text("broadcast_id IS NOT NULL"),
        postgresql_where=sa.text("broadcast_id IS NOT NULL"),
    ),
)

# Which dispatcher sends a channel's messages: one for all server processes, so that the
# channel's pace (SMS segments a second, Telegram's 30 a second) holds whatever runs. The holder
# renews its lease every round; when it stops (or dies), another takes the lane after it. A
# dispatcher that holds no lane asks for one (``wanted_by`` until ``wanted_until``), and one that
# holds another lane as well hands it over: with several server processes, the channels are
# sent by different processes (each one interpreter's worth of CPU).
dispatch_lanes = sa.Table(
    "dispatch_lanes",
    metadata,
    sa.Column("channel", enum_column(Channel), primary_key=True),
    sa.Column("holder", sa.String(40), nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=False),
    sa.Column("wanted_by", sa.String(40), nullable=True),
    sa.Column("wanted_until", UTCDateTime, nullable=True),
)

# Where an account can be reached: its SMS number (written with the account) and each Telegram
# chat signed in to it. Whether one can be reached now is read from the channel's own records
# (``sms_opt_outs``: STOP; ``telegram_chats.unreachable_since``: the bot was blocked), which the
# channels keep up to date as before.
contact_points = sa.Table(
    "contact_points",
    metadata,
    sa.Column("channel", enum_column(Channel), primary_key=True),
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("linked_at", UTCDateTime, nullable=False),
    sa.Index("ix_contact_points_account", "account_id"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("user_key", sa.String(64), nullable=False),
    sa.Column("flow", sa.String(32), nullable=False),
    sa.Column("state", sa.String(48), nullable=False),
    sa.Column("language", enum_column(Language), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("history", sa.JSON, nullable=False),
    sa.Column("returns", sa.JSON, nullable=False),
    sa.Column("choices", sa.JSON, nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
    sa.Column("phone", sa.String(20)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.UniqueConstraint("channel", "user_key", name="uq_conversations_channel_user"),
    sa.Index("ix_conversations_account", "account_id"),
)

# The reply given to each inbound message, by channel, sender (the conversation's user) and the
# channel's message id: a second delivery gets it again; the same id from another sender is
# another message.
inbound_messages = sa.Table(
    "inbound_messages",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("user_key", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("reply", sa.JSON, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index("ix_inbound_messages_received_at", "received_at"),
)

app_secrets = sa.Table(
    "app_secrets",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)

_mapped = False


def map_entities() -> None:
    """Map core's dataclasses onto the tables (once per process)."""
    global _mapped  # noqa: PLW0603 - mapping is process-wide by nature
    if _mapped:
        return
    mapper_registry.map_imperatively(Account, accounts)
    mapper_registry.map_imperatively(OneTimeCode, one_time_codes)
    mapper_registry.map_imperatively(OutboxMessage, outbox)
    importlib.import_module("store.preselection_tables").map_preselection_entities(mapper_registry)
    importlib.import_module("store.order_tables").map_order_entities(mapper_registry)
    importlib.import_module("store.sale_tables").map_sale_entities(mapper_registry)
    importlib.import_module("store.reservation_tables").map_reservation_entities(mapper_registry)
    importlib.import_module("store.broadcast_tables").map_broadcast_entities(mapper_registry)
    _mapped = True


# Each area's tables, imported last so that ``metadata`` is complete.
from store import (  # noqa: E402
    auction_tables,  # noqa: F401 - auctions
    broadcast_tables,  # noqa: F401 - staff broadcasts
    health,  # noqa: F401 - what /healthz writes
    order_tables,  # noqa: F401 - orders, their ledger, payment callbacks
    preselection_tables,  # noqa: F401 - offices, pools, pre-selections, info
    reservation_tables,  # noqa: F401 - plate reservations
    room_tables,  # noqa: F401 - who is in an auction room
    sale_tables,  # noqa: F401 - plates for sale
    settlement_tables,  # noqa: F401 - auction settlement: balances, deposit refunds
    sms_tables,  # noqa: F401 - SMS channel
    staff_tables,  # noqa: F401 - staff members, sign-ins, the audit
    telegram_tables,  # noqa: F401 - Telegram channel
)
