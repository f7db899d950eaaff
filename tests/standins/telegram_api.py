"""A stand-in for the Telegram Bot API, on 127.0.0.1, and users who talk to the bot through it.

``BotApiStandIn`` answers the methods platebot calls (getMe, setWebhook, deleteWebhook,
setMyCommands, sendMessage, editMessageText, answerCallbackQuery, getUpdates) the way the Bot API
does, records every call with the time of the injected clock, keeps what each chat shows (edits
applied), and can answer 429 (with ``parameters.retry_after``) or 403 (a user who blocked the
bot) on request. ``TelegramUser`` is a user's app: it posts updates to the webhook as Telegram
does, and presses buttons of the messages the stand-in recorded.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from fastapi.testclient import TestClient

from platebot.settings import Settings
from tests.standins import StandInServer

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret_1"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "platebot",
    "username": "platebot_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_PARAMETERS = {"reply_markup", "allowed_updates", "commands", "scope", "entities"}
_LONG_POLL = 0.2  # seconds getUpdates waits for an update before answering []


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    at: datetime
    status: int

    @property
    def chat_id(self) -> str | None:
        chat = self.params.get("chat_id")
        return None if chat is None else str(chat)


@dataclass
class Shown:
    """A message of the bot as the user's app shows it now."""

    message_id: int
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    """Inline buttons: (label, callback data)."""
    keyboard: list[tuple[str, bool]] = field(default_factory=list)
    """Reply keyboard: (label, asks for the contact)."""


class BotApiStandIn:
    def __init__(self, *, now: Callable[[], datetime] | None = None, token: str = TOKEN) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        self.token = token
        self.calls: list[Call] = []
        self.chats: dict[str, list[Shown]] = {}
        self.blocked: set[str] = set()
        self._scripted: list[tuple[str, tuple[int, dict[str, Any]]]] = []  # (method, answer)
        self._flood_every: tuple[int, int] | None = None
        self._limits = False
        self._sent_at: dict[str, list[datetime]] = {}  # per chat: messages and edits taken
        self._edited_at: dict[str, list[datetime]] = {}  # per chat: edits taken
        self._sends = 0
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._updates: list[dict[str, Any]] = []
        self._lock = threading.Condition()
        self.connections = 0  # clients connected now (keep-alive connections stay open)
        self._server = StandInServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> BotApiStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def all_connections_closed(self, within: float = 10.0) -> bool:
        """Whether every client has closed its connection (the server side sees the close a
        moment after the client makes it)."""
        deadline = time.monotonic() + within
        with self._lock:
            while self.connections and time.monotonic() < deadline:
                self._lock.wait(0.02)
            return self.connections == 0

    # -- what the test arranges ----------------------------------------------------------------

    def flood(self, times: int = 1, retry_after: int = 1, method: str = "sendMessage") -> None:
        """Answer the next ``times`` calls of ``method`` with 429 Too Many Requests."""
        with self._lock:
            self._scripted += [(method, _too_many(retry_after))] * times

    def refuse(self, method: str, description: str) -> None:
        """Answer the next call of ``method`` with 400 Bad Request."""
        with self._lock:
            self._scripted.append((method, _error(HTTPStatus.BAD_REQUEST, description)))

    def flood_every(self, n: int, retry_after: int) -> None:
        """Answer every ``n``-th sendMessage with 429."""
        self._flood_every = (n, retry_after)

    def enforce_limits(self) -> None:
        """Answer 429 as Telegram does for a chat sent to faster than once a second, or edited
        more than 20 times in a minute."""
        self._limits = True

    def _over_limit(self, method: str, chat_id: str) -> tuple[int, dict[str, Any]] | None:
        if not self._limits or method not in {"sendMessage", "editMessageText"}:
            return None
        now = self.now()
        sent = self._sent_at.setdefault(chat_id, [])
        if sent and (now - sent[-1]).total_seconds() < 1:
            return _too_many(1)
        edits = self._edited_at.setdefault(chat_id, [])
        recent = [at for at in edits if (now - at).total_seconds() < 60]
        if method == "editMessageText" and len(recent) >= 20:
            return _too_many(int(60 - (now - recent[0]).total_seconds()) + 1)
        sent.append(now)
        if method == "editMessageText":
            edits.append(now)
        return None

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: sending to the chat answers 403."""
        self.blocked.add(str(chat_id))

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_message_id(self) -> int:
        """The id of a message a user sends: the bot's and the user's messages are numbered in
        one sequence, as in a private chat."""
        with self._lock:
            return next(self._message_ids)

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (polling); a ``TelegramUser`` may post with this."""
        with self._lock:
            self._updates.append(update)
            self._lock.notify_all()
        return HTTPStatus.OK

    # -- what the test reads -------------------------------------------------------------------

    def calls_to(self, method: str, chat_id: int | str | None = None) -> list[Call]:
        with self._lock:
            return [
                call
                for call in self.calls
                if call.method == method and (chat_id is None or call.chat_id == str(chat_id))
            ]

    def wait_for_calls(self, method: str, count: int, timeout: float = 10) -> list[Call]:
        """The calls of ``method`` once there are ``count`` (for a bot that polls by itself)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.calls_to(method)) >= count, timeout=timeout)
        return self.calls_to(method)

    def delivered(self, chat_id: int | str | None = None) -> list[Call]:
        """sendMessage calls that succeeded."""
        return [c for c in self.calls_to("sendMessage", chat_id) if c.status == HTTPStatus.OK]

    def shown(self, chat_id: int | str) -> list[Shown]:
        with self._lock:
            return list(self.chats.get(str(chat_id), []))

    # -- the Bot API ---------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            return self._get_updates(params)
        with self._lock:
            status, body = self._answer(method, params)
            self.calls.append(Call(method, params, self.now(), status))
            self._lock.notify_all()
            return status, body

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        scripted = next((s for s in self._scripted if s[0] == method), None)
        if scripted is not None:
            self._scripted.remove(scripted)
            return scripted[1]
        chat_id = str(params.get("chat_id", ""))
        over = self._over_limit(method, chat_id)
        if over is not None:
            return over
        if method == "sendMessage":
            if chat_id in self.blocked:
                return _error(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
            if "text" not in params:  # a request cut short (its sender was killed mid-way)
                return _error(HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
            self._sends += 1
            if self._flood_every and self._sends % self._flood_every[0] == 0:
                return _too_many(self._flood_every[1])
            shown = Shown(next(self._message_ids), str(params["text"]))
            _apply_markup(shown, params.get("reply_markup"))
            self.chats.setdefault(chat_id, []).append(shown)
            return _ok(self._message(chat_id, shown))
        if method == "editMessageText":
            for shown in self.chats.get(chat_id, []):
                if shown.message_id == int(params["message_id"]):
                    edited = Shown(shown.message_id, str(params["text"]))
                    _apply_markup(edited, params.get("reply_markup"))
                    if (edited.text, edited.buttons) == (shown.text, shown.buttons):
                        return _error(
                            HTTPStatus.BAD_REQUEST, "Bad Request: message is not modified"
                        )
                    shown.text, shown.buttons = edited.text, edited.buttons
                    return _ok(self._message(chat_id, shown))
            return _error(HTTPStatus.BAD_REQUEST, "Bad Request: message to edit not found")
        if method == "getMe":
            return _ok(BOT_USER)
        if method in {"setWebhook", "deleteWebhook", "setMyCommands", "answerCallbackQuery"}:
            return _ok(True)
        return _error(HTTPStatus.NOT_FOUND, "Not Found")

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset", 0))
        with self._lock:
            self._lock.wait_for(
                lambda: any(u["update_id"] >= offset for u in self._updates), timeout=_LONG_POLL
            )
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            return _ok(list(self._updates))

    def _message(self, chat_id: str, shown: Shown) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(self.now().timestamp()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT_USER,
            "text": shown.text,
        }
        if shown.buttons:
            message["reply_markup"] = {
                "inline_keyboard": [[{"text": t, "callback_data": d}] for t, d in shown.buttons]
            }
        return message


def _apply_markup(shown: Shown, markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        shown.buttons += [(b["text"], b["callback_data"]) for b in row]
    for row in markup.get("keyboard", []):
        shown.keyboard += [(b["text"], bool(b.get("request_contact"))) for b in row]


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return HTTPStatus.OK, {"ok": True, "result": result}


def _error(status: HTTPStatus, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"ok": False, "error_code": int(status), "description": description}


def _too_many(retry_after: int) -> tuple[int, dict[str, Any]]:
    status, body = _error(
        HTTPStatus.TOO_MANY_REQUESTS, f"Too Many Requests: retry after {retry_after}"
    )
    body["parameters"] = {"retry_after": retry_after}
    return status, body


def _handler(api: BotApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the Bot API server does
        # The headers and the body go out in two writes: with Nagle's algorithm the second
        # waits for the client's delayed ACK, 40 ms on every answer.
        disable_nagle_algorithm = True  # answers go out at once, not after a delayed ACK

        def setup(self) -> None:
            super().setup()
            with api._lock:
                api.connections += 1

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                with api._lock:
                    api.connections -= 1

        def do_POST(self) -> None:
            prefix = f"/bot{api.token}/"
            if not self.path.startswith(prefix):
                self._reply(*_error(HTTPStatus.UNAUTHORIZED, "Unauthorized"))
                return
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) if length else b""
            if len(raw) < length:  # cut short (the client was killed): Telegram takes nothing
                self.close_connection = True
                return
            self._reply(*api.answer(self.path[len(prefix) :], self._params(raw.decode())))

        do_GET = do_POST  # noqa: N815 - the name http.server calls

        def _params(self, body: str) -> dict[str, Any]:
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return dict(json.loads(body or "{}"))
            return {
                key: json.loads(value) if key in _JSON_PARAMETERS else value
                for key, value in parse_qsl(body)
            }

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def settings_for(api: BotApiStandIn, database_url: str, **overrides: object) -> Settings:
    """Settings of a server whose bot talks to ``api``."""
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": "test-secret",
        "telegram_token": TOKEN,
        "telegram_secret": SECRET,
        "telegram_api_base": api.url,
        "public_url": "https://platebot.example",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def running_bot_api(now: Callable[[], datetime] | None = None) -> Iterator[BotApiStandIn]:
    api = BotApiStandIn(now=now).start()
    try:
        yield api
    finally:
        api.stop()


# -- users ------------------------------------------------------------------------------------


class TelegramUser:
    """A user's Telegram app in a private chat with the bot. ``post`` delivers an update the way
    Telegram does (to the webhook, with the secret token) and returns the HTTP status."""

    def __init__(
        self,
        api: BotApiStandIn,
        post: Callable[[dict[str, Any]], int],
        user_id: int,
        first_name: str = "张三",
        language_code: str | None = None,
    ) -> None:
        self.api = api
        self.post = post
        self.user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:  # as the user's app is set
            self.user["language_code"] = language_code
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self.chat_id = user_id
        self.last_status = 0
        self.last_update: dict[str, Any] = {}

    # what the user does

    def say(self, text: str) -> int:
        """Type ``text`` (a ``/command`` is marked as one, as the app does)."""
        message = self._message(text=text)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.send({"message": message})

    def share_contact(self, phone_number: str, *, owner_id: int | None = None) -> int:
        """Share a contact: by default the user's own (the request-contact button)."""
        contact = {
            "phone_number": phone_number,
            "first_name": "联系人",
            "user_id": self.chat_id if owner_id is None else owner_id,
        }
        return self.send({"message": self._message(contact=contact)})

    def send_sticker(self) -> int:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.send({"message": self._message(sticker=sticker)})

    def press(self, choice_id: str, message: Shown | None = None) -> int:
        """Press the button for ``choice_id`` on ``message`` (default: the newest with buttons)."""
        message = message or self.last_with_buttons()
        data = next((d for _, d in message.buttons if d.split("|", 1)[-1] == choice_id), None)
        assert data is not None, f"no button for {choice_id!r} on: {message}"
        query = {
            "id": f"cq{self.api.next_update_id()}",
            "from": self.user,
            "chat_instance": f"ci{self.chat_id}",
            "data": data,
            "message": {
                "message_id": message.message_id,
                "date": int(self.api.now().timestamp()),
                "chat": self.chat,
                "from": BOT_USER,
                "text": message.text,
            },
        }
        return self.send({"callback_query": query})

    def send(self, update: dict[str, Any]) -> int:
        """Deliver an update (a new update id unless it has one)."""
        update = {"update_id": self.api.next_update_id(), **update}
        self.last_update = update
        self.last_status = self.post(update)
        return self.last_status

    # what the user sees

    @property
    def messages(self) -> list[Shown]:
        return self.api.shown(self.chat_id)

    @property
    def screen(self) -> Shown:
        """The newest message of the bot in this chat."""
        assert self.messages, "the bot has not written to this chat"
        return self.messages[-1]

    @property
    def text(self) -> str:
        return self.screen.text

    def last_with_buttons(self) -> Shown:
        return next(m for m in reversed(self.messages) if m.buttons)

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": self.api.next_message_id(),
            "date": int(self.api.now().timestamp()),
            "chat": self.chat,
            "from": self.user,
            **content,
        }


def webhook_poster(client: TestClient, secret: str | None = SECRET) -> Callable[..., int]:
    """Posts updates to ``/telegram/webhook`` of ``client`` (a TestClient) with ``secret``."""

    def post(update: dict[str, Any]) -> int:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return int(client.post("/telegram/webhook", json=update, headers=headers).status_code)

    return post
