"""CPU of sending one-time codes from the outbox: the dispatcher's claim, the twilio client to a
local Twilio stand-in, and recording each result.

    python -m bench.outbox_sends                     # 300 codes, fresh SQLite file
    python -m bench.outbox_sends --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.outbox_sends --no-http           # the dispatcher's own part alone

Queues ``--codes`` one-time codes (as the registration's code step writes them), then runs
``dispatcher.run_once()`` until nothing is left, and prints the CPU time of this thread per code
(``time.thread_time()``: the stand-in answers from threads of its own, not counted) and the wall
time. With ``--no-http`` the SMS sender only renders the code and says it was sent. Run it a few
times taking turns with the code it is compared with: the VM's speed drifts.
"""

from __future__ import annotations

import argparse
import secrets
import time
from datetime import timedelta

from bench.preselect_pool import database
from core import verification
from core.accounts import Language
from core.clock import ManualClock
from core.outbox import Channel, Outcome, Outgoing, Sent
from core.ports import Sender
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from store import migrate
from tests.standins.twilio_api import TwilioStandIn

ACCOUNT_SID = "AC" + "c" * 32
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 - the stand-in's, not a secret
OUR_NUMBER = "+15005550006"
WARM_UP = 20


class NoHttp:
    """An SMS sender that sends nothing: what is left is the dispatcher's own work."""

    def send(self, message: Outgoing) -> Outcome:
        return Sent("SM" + "0" * 32)


def queue_codes(app: App, clock: ManualClock, count: int, first: int) -> None:
    with app.uow() as uow:
        for n in range(first, first + count):
            verification.send_code(
                uow,
                clock=clock,
                key=app.dispatcher.code_key or b"",
                phone=f"+86139{n:08d}",
                purpose=verification.REGISTER,
                language=Language.ZH,
            )
        uow.commit()


def send_all(app: App) -> int:
    sent = 0
    while done := app.dispatcher.run_once():
        sent += done
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=300)
    parser.add_argument("--database-url", help="a PostgreSQL server (a scratch database on it)")
    parser.add_argument("--no-http", action="store_true", help="an SMS sender that does nothing")
    args = parser.parse_args()
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin, database(args.database_url) as db:
        migrate.upgrade(db)
        clock = ManualClock()
        settings = Settings(
            database_url=db.url.render_as_string(hide_password=False),
            secret_key=secrets.token_hex(16),
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from=OUR_NUMBER,
            twilio_api_base=standin.url,
            sms_segments_per_second=1000,  # the pacer does not hold the codes back
        )
        senders: dict[Channel, Sender] | None = {Channel.SMS: NoHttp()} if args.no_http else None
        app = build_app(settings, clock=clock, db=db, upgrade=False, senders=senders)
        queue_codes(app, clock, WARM_UP, 0)
        send_all(app)
        clock.advance(timedelta(minutes=1))
        queue_codes(app, clock, args.codes, WARM_UP)
        cpu, wall = time.thread_time(), time.perf_counter()
        sent = send_all(app)
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        if sent != args.codes or (not args.no_http and len(standin.delivered) != sent + WARM_UP):
            raise SystemExit(f"only {sent} of {args.codes} codes were sent")
        print(
            f"{db.dialect.name}{' (no HTTP)' if args.no_http else ''}: {sent} codes, "
            f"{1000 * cpu / sent:.3f} ms CPU and {1000 * wall / sent:.3f} ms wall a code"
        )


if __name__ == "__main__":
    main()
