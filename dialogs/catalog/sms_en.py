"""Messages of the SMS channel (English). Keys and ``{placeholders}`` must match ``sms_zh.py``."""

MESSAGES: dict[str, str] = {
    "sms.more": "Reply N for more",
    "sms.practice": "[Practice]",
    "sms.help": "platebot: vehicle office plate services by SMS. Reply ? for help on this step, STOP to get no more SMS.",
    "sms.stopped": "You are unsubscribed: no more SMS from us, codes included. Reply START to resume.",
    "sms.started": "You will get our SMS again.",
    "sms.busy": "platebot is busy: please send your last SMS again shortly.",
    # Shorter wording of other areas' texts for SMS (and the console): every character counts.
    "sms/welcome": "Welcome to platebot.",
    "sms/reg.summary_person": "Please check: {name}, ID {id_number}, {region}, {address}, {category}",
    "sms/reg.summary_unit": "Please check: {name}, code {unit_code}, {region}, {address}, rep. {rep_name}, ID {id_number}",
    "sms/reg.registered": "Registered. Welcome, {name}!",
    "sms/pre.intro": ("Steps: car details, phone code, pick. Confirm at the office or it lapses."),
    "sms/pre.office.info": "{office} {name}, hours {opens}-{closes}, {address}",
    "sms/pre.business": "{office} notice: {notice}",
    "sms/pre.ask_vin": "Enter the VIN (17 characters), then a space and the certificate number if you like. Where are they? Reply ?",
    "sms/pre.ask_cert": "Enter the vehicle certificate number (imported: import certificate). Where is it? Reply ?",
    "sms/pre.notice": "Car ...{vin}: {self} own {self:plural:one=number;other=numbers} and {batches} {batches:plural:one=batch;other=batches} left. Confirm at the office within {days} working days.",
    "sms/pre.batch": "Held for you {minutes} min. Reply a number to take it:",
    "sms/pre.result": (
        "Pre-selected: {plate}, valid to the end of {date} ({weekday}). Confirm at {name}, {address}, "
        "with ID, certificate, invoice, insurance."
    ),
    "sms/reservation.sent": "Reservation sent: {plate}. Staff will review it and tell you.",
}
