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
    "telegram.stale": "That menu is out of date: use the newest message.",
    # Other areas' texts as Telegram says them: buttons are pressed, text is typed; nothing is
    # "replied" as in an SMS.
    "telegram/session.expired": "Your session ended after {minutes} min without a message. Main menu:",
    "telegram/menu.title": "Main menu:",
    "telegram/input.pick_number": "Please press one of the buttons (or type its number, 1 to {count}).",
    "telegram/input.not_understood": "Sorry, I did not understand. /help for help, /menu for the menu.",
    "telegram/help.general": (
        "Press a button, or type its number or words. /menu: main menu, /cancel: stop, "
        "/lang: language, BACK: previous step."
    ),
    "telegram/help.code": "The 6-digit code is in the SMS we sent. None came? Press «New code».",
    "telegram/error.otp.not_requested": "No code was sent yet. Press «New code».",
    "telegram/error.otp.exhausted": "Too many wrong entries for that code. Press «New code» for another.",
    "telegram/error.otp.expired": "That code has expired (codes last 5 minutes). Press «New code» for another.",
    "telegram/error.account.phone_taken": "This number already has an account. Send /menu and sign in with it.",
    "telegram/error.account.required": "You need an account for that. Send /menu and register first.",
    "telegram/help.info": "Guides, how to reach the offices, and system announcements. Press a button to read one; BACK: previous step, /menu: main menu.",
    "telegram/info.pick_guide": "Guides. Press one to read it:",
    "telegram/info.pick_announcement": "Announcements. Press one to read it:",
    "telegram/pre.ask_vin": "Enter the VIN (17 characters). Where is it? Send /help",
    "telegram/pre.ask_cert": "Enter the vehicle certificate number (imported car: import certificate number). Where is it? Send /help",
    "telegram/pre.batch": "Held for you {minutes} min; press a number to take it ({prefix}):",
    "telegram/error.vin.invalid": "A VIN has 17 letters and digits (no I, O or Q). Enter it again; /help says where to find it.",
    "telegram/error.vehicle.not_found": "That VIN is not in the vehicle certificate registry. Send BACK to check it; if it is right, ask the dealer or the office.",
    "telegram/error.vehicle.registered": "That vehicle is registered already; no plate can be pre-selected for it. Send /menu.",
    "telegram/error.vehicle.preselected": "A plate has been pre-selected for that vehicle already. Send /menu.",
    "telegram/error.office.unknown": 'No office "{office}" to choose. Press one of the list.',
}
