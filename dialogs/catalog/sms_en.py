"""Messages of the SMS channel (English). Keys and ``{placeholders}`` must match ``sms_zh.py``."""

MESSAGES: dict[str, str] = {
    "sms.more": "Reply N for more",
    "sms.practice": "[Practice]",
    "sms.help": "platebot: vehicle office plate services by SMS. Reply ? for help on this step, STOP to get no more SMS.",
    "sms.stopped": "You are unsubscribed: no more SMS from us, codes included. Reply START to resume.",
    "sms.started": "You will get our SMS again.",
    "sms.busy": "platebot is busy: please send your last SMS again shortly.",
}
