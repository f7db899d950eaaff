"""All configuration, read once from ``PLATEBOT_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.accounts import Language
from core.outbox import Channel

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


# Defaults that the parts built without settings take too (``sms.webhook``, ``web.health``,
# ``platebot.dispatcher``): one place for each.
SMS_TURN_DEADLINE = 8.0  # seconds after an SMS arrived by which its turn must have the database
SMS_ANSWER_WITHIN = 12.0  # seconds after which the webhook answers, whatever happened (Twilio: 15)
HEALTH_WAIT = 5.0  # seconds a /healthz check may take (a database write waits this for the lock)
LANE_LEASE_SECONDS = 10.0  # seconds a dispatcher holds a channel's sending lane unless renewed


class Settings(BaseSettings):
    """SPEC §12. Unset Twilio credentials: SMS goes to the log. Unset Telegram token: off."""

    model_config = SettingsConfigDict(
        env_prefix="PLATEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///platebot.db"
    public_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base: AnyHttpUrl | None = None
    telegram_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    telegram_api_base: AnyHttpUrl | None = None
    staff_token: SecretStr | None = None
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for hashing one-time codes; unset: one is made and kept in the database.",
    )
    default_language: Language = Language.ZH
    idle_minutes: int = Field(default=20, ge=1, le=24 * 60)
    sms_segment_budget: int = Field(
        default=2, ge=1, le=10, description="Most SMS segments one reply may take."
    )
    sms_segments_per_second: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="Sending rate of the SMS sender (all server processes together).",
    )
    payment_provider: Literal["sandbox"] = Field(
        default="sandbox", description="Payment gateway; the sandbox serves its own pay page."
    )
    payment_secret: SecretStr | None = Field(
        default=None,
        description="Key the gateway's callbacks are signed with; unset: derived from the secret "
        "key.",
    )
    order_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="Minutes to pay an order before it expires."
    )
    telegram_messages_per_second: int = Field(
        default=30,
        ge=1,
        le=10_000,
        description="Telegram messages sent a second overall (Telegram's broadcast limit is "
        "about 30; a local Bot API stand-in takes more).",
    )
    telegram_staff_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(),
        description="Telegram user ids allowed the staff commands (/broadcast, /broadcasts, "
        "/stats), separated by commas; unset: nobody.",
    )
    sms_turn_deadline: float = Field(
        default=SMS_TURN_DEADLINE,
        gt=0,
        lt=15,
        description="Seconds after an SMS arrived by which its dialog turn must have the "
        "database, else nothing of it runs and the user is asked to send it again (SQLite's "
        "write lock held elsewhere).",
    )
    sms_answer_within: float = Field(
        default=SMS_ANSWER_WITHIN,
        gt=0,
        lt=15,
        description="Seconds after an SMS arrived by which the webhook answers Twilio (which "
        "waits 15), whatever happened; a turn that ran after that sends its reply by SMS.",
    )
    health_wait: float = Field(
        default=HEALTH_WAIT,
        gt=0,
        le=60,
        description="Seconds each /healthz check may take (a database write waits this long "
        "for SQLite's write lock).",
    )
    lane_lease_seconds: float = Field(
        default=LANE_LEASE_SECONDS,
        ge=1,  # shorter, processes would take a lane from one another between two rounds
        le=600,
        description="Seconds a server process's dispatcher holds a channel's sending lane "
        "unless it renews it; another process (or the turn process started after a crash) takes "
        "the lane this long after it stops.",
    )
    turn_process: bool | None = Field(
        default=None,
        description="A SQLite file: run the SMS dialog turns and the background jobs in a child "
        "process of the HTTP server (unset: on under `platebot serve`, off where the app is "
        "built in-process).",
    )

    @field_validator("telegram_staff_ids", mode="before")
    @classmethod
    def _staff_ids(cls, value: object) -> object:
        if isinstance(value, str):  # "123, 456" as the variable is written
            parts = [part for part in value.replace(" ", "").split(",") if part]
            if not all(part.isdigit() for part in parts):
                raise ValueError("Telegram user ids are numbers, separated by commas")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {exc}") from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("platebot runs on sqlite or postgresql")
        return value

    @model_validator(mode="after")
    def _twilio_complete(self) -> Settings:
        """Half a Twilio configuration would quietly log one-time codes instead of sending
        them: refuse it, naming what is missing."""
        given = {
            "PLATEBOT_TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "PLATEBOT_TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "PLATEBOT_TWILIO_FROM": self.twilio_from,
        }
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError(f"Twilio is half configured: set {', '.join(missing)} too")
        return self

    @model_validator(mode="after")
    def _turn_process_on_sqlite(self) -> Settings:
        if self.turn_process and not self.sqlite_file:
            raise ValueError(
                "PLATEBOT_TURN_PROCESS is for a SQLite file: with PostgreSQL turns run in "
                "parallel threads, and more server processes (--workers) scale out; an "
                "in-memory database cannot be shared with another process"
            )
        return self

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels the server sends on: SMS always (to the log without Twilio), Telegram
        with a bot token. Notices are routed over these only (SPEC §12: Telegram "where linked
        and reachable"): without Telegram, a chat linked before is not reachable."""
        if self.telegram_token is None:
            return frozenset({Channel.SMS})
        return frozenset({Channel.SMS, Channel.TELEGRAM})

    @property
    def sqlite_file(self) -> bool:
        """The database is a SQLite file (not PostgreSQL, not in memory)."""
        url = make_url(self.database_url)
        return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


class SettingsError(Exception):
    """Raised with a message naming each malformed variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["loc"]:
                name = "PLATEBOT_" + "_".join(str(part) for part in error["loc"]).upper()
                problems.append(f"{name}: {error['msg']}")
            else:
                problems.append(str(error["msg"]).removeprefix("Value error, "))
        raise SettingsError("; ".join(problems)) from exc
