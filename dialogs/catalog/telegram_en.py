"""English texts of the Telegram channel. Keys and placeholders match ``telegram_zh.py``."""

MESSAGES: dict[str, str] = {
    "telegram.share_contact": "📱 Share my number",
    "telegram.contact_not_own": (
        "That is someone else's contact. Tap «📱 Share my number» below to share your own "
        "number, or type it."
    ),
    "telegram.text_only": "I can read text, buttons and your shared contact only. This is the current step:",
    "telegram.command.start": "Start: welcome and main menu",
    "telegram.command.menu": "Main menu",
    "telegram.command.cancel": "Stop what you are doing (nothing is saved)",
    "telegram.command.help": "Help for this step",
    "telegram.command.lang": "中文 / English",
}
