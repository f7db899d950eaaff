"""What checking a Twilio webhook signature costs the server per request: twilio's own
``RequestValidator.validate`` (what the SMS webhook uses) against the shortcut the webhook used
before (the library's ``compute_signature`` for the URL as configured, and the other form of the
URL only if that did not match), on a realistic signed inbound SMS form.

    python -m bench.signature [--number 20000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import hmac
import statistics
import timeit
from urllib.parse import parse_qsl, urlencode, urlparse

from twilio.request_validator import RequestValidator, add_port, remove_port

from sms.webhook import Form
from tests.sms_support import inbound_form, new_sid

URL = "https://platebot.example.org/sms/twilio"


def shortcut(validator: RequestValidator, url: str, form: Form, signature: str) -> bool:
    """The check the webhook had until 2026-12-06 (``signed_by_twilio``)."""
    parsed = urlparse(url)
    other = remove_port(parsed) if parsed.port else add_port(parsed)
    given = signature.encode()
    return any(
        hmac.compare_digest(validator.compute_signature(u, form).encode(), given)
        for u in (url, other)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="checks per timing")
    parser.add_argument("--repeat", type=int, default=7, help="timings of each")
    args = parser.parse_args()
    validator = RequestValidator("bench-auth-token")
    body = urlencode(inbound_form("+8613800138000", "深圳市福田区深南大道1号", new_sid()))
    form = Form(parse_qsl(body, keep_blank_values=True))
    signature = validator.compute_signature(URL, form)
    assert validator.validate(URL, form, signature) and shortcut(validator, URL, form, signature)
    checks = {
        "RequestValidator.validate": lambda: validator.validate(URL, form, signature),
        "the former shortcut": lambda: shortcut(validator, URL, form, signature),
    }
    for name, check in checks.items():
        runs = [
            timeit.timeit(check, number=args.number) / args.number * 1e6 for _ in range(args.repeat)
        ]
        print(f"{name}: {min(runs):.1f} µs a request (min), median {statistics.median(runs):.1f}")


if __name__ == "__main__":
    main()
