"""Staff broadcasts: what a recipient gets, refusals, and the Telegram staff commands (English)."""

MESSAGES = {
    "broadcast.body": "{text}",
    "error.broadcast.not_found": "No such broadcast.",
    "error.broadcast.text_invalid": "The {language} text is missing or longer than {maximum} characters: write both texts and try again.",
    "error.broadcast.audience_invalid": "The audience needs a {reason} (a known region, an auction period, or numbers to send to).",
    "error.broadcast.numbers_invalid": "{count} {count:plural:one=line is;other=lines are} not a mobile number (line {lines}): correct the list and try again; nothing was sent.",
    "error.broadcast.wrong_state": "Not possible: the broadcast is {state}.",
    "error.broadcast.send_time_passed": "That time has passed: give a later one, or send now.",
    "broadcast.staff_only": "This command is for office staff only.",
    "broadcast.usage": "Write the broadcast after the command: the audience and channels on the first line (everyone, region 4405, bidders 3 or unfinished-orders; then telegram-else-sms, sms or telegram), the Chinese text, a line with ---, then the English text.",
    "broadcast.preview": "Broadcast #{id} to {audience}: {recipients} {recipients:plural:one=recipient;other=recipients}, {telegram} by Telegram and {sms} by SMS ({segments} SMS segments). Passed over: {opted_out} opted out, {blocked} blocked, {unreachable} without Telegram.",
    "broadcast.send_now": "Send now",
    "broadcast.discard": "Discard",
    "broadcast.started": "Broadcast #{id} is being sent. /broadcasts shows how far it is.",
    "broadcast.discarded": "Broadcast #{id} discarded; nothing was sent.",
    "broadcast.none": "No broadcasts yet.",
    "broadcast.line": "#{id} {status}: {sent} of {total} sent, {delivered} delivered, {failed} failed, {opted_out} opted out, {left} left.",
    "broadcast.stats": "Today ({day}, China time): {registrations} registrations, {preselections} pre-selections, {sales} sales paid, {bids} bids.",
}
