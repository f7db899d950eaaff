"""English message catalog. Keys and ``{placeholders}`` must match ``core_zh.py`` (a test checks)."""

MESSAGES: dict[str, str] = {
    "raw": "{text}",
    "welcome": "Welcome to platebot: licence-plate services of the vehicle office by chat or SMS.",
    "session.expired": "Your session ended after {minutes} min without a reply. Main menu:",
    "menu.title": "Main menu. Reply with a number:",
    "menu.register": "Register / sign in",
    "menu.account": "My account",
    "menu.help": "Help",
    "menu.back": "Main menu",
    "error.internal": "Sorry, something went wrong on our side and nothing was saved. Main menu:",
    "menu.cancelled": "Cancelled. Nothing was saved.",
    "back.done": "That step is done: no going back.",
    "menu.stale": "That menu is out of date. This is the current step:",
    "lang.other": "Chinese",  # not 中文: one Chinese character makes the whole SMS UCS-2
    "lang.name": "English",
    "lang.switched": "Language: English.",
    "input.pick_number": "Please reply with a number from 1 to {count}.",
    "input.not_understood": "Sorry, I did not understand. HELP for help, MENU for the menu.",
    "help.general": (
        "Reply with an option's number. MENU: main menu, BACK: previous step, CANCEL: stop, "
        "EN/中文: language."
    ),
    "help.register": (
        "Registering links your mobile number to your identity so you can do plate business. "
        "BACK goes one step back, CANCEL stops."
    ),
    "help.code": "The 6-digit code is in the SMS we sent. Reply 1 for a new code.",
    "account.required_first": "You need an account for that. Let us register first.",
    "reg.ask_phone": "Your mobile number (e.g. 138 0013 8000):",
    "reg.ask_kind": "Register as:",
    "reg.kind.person": "Natural person",
    "reg.kind.unit": "Unit (legal person)",
    "reg.ask_real_name": "Your real name, as on your ID card:",
    "reg.ask_id": "Your resident ID number (18 characters):",
    "reg.ask_permit": "Temporary residence permit number, if you have one:",
    "reg.skip": "Skip",
    "reg.ask_region": "Certificate location (city of your ID or permit; plates are sold by region):",
    "reg.ask_region_type": "Pick one or type the city name, e.g. Shenzhen:",
    "reg.ask_address": "Your address:",
    "reg.ask_category": "Which describes you?",
    "category.new_car_owner": "New-car owner",
    "category.student": "Student",
    "category.existing_owner": "Car owner or driver",
    "category.unit": "Unit",
    "reg.ask_unit_name": "Unit name, as on its registration:",
    "reg.ask_unit_code": "Unified social credit code (18 characters) or organisation code (9):",
    "reg.ask_unit_address": "Unit address:",
    "reg.ask_rep_name": "Legal representative's name:",
    "reg.ask_rep_id": "Legal representative's resident ID number:",
    "reg.summary_person": (
        "Please check:\n{name}, ID {id_number}\nPermit: {permit}\n{region}, {address}\n"
        "{category}, {phone}"
    ),
    "reg.summary_unit": (
        "Please check:\n{name}, code {unit_code}\n{region}, {address}\n"
        "Rep. {rep_name}, ID {id_number}\n{phone}"
    ),
    "reg.none": "none",
    "reg.confirm": "OK, send code",
    "reg.restart": "Start over",
    "reg.enter_code": "Enter the 6-digit code we sent by SMS to {phone}:",
    "reg.code_resent": "A new code is on its way.",
    "reg.code_still_valid": "A code was sent less than a minute ago; it is still valid.",
    "reg.resend": "New code",
    "reg.registered": "Registered. Welcome, {name}!",
    "reg.signin_code_sent": "{phone} has an account. Enter the code we sent by SMS to sign in:",
    "reg.signed_in": "Signed in as {name}.",
    "reg.already": "You are registered already.",
    "account.person": (
        "My account\n{name}, ID {id_number}\n{phone}, {region}\n{category}, {language}"
    ),
    "account.unit": (
        "My account\n{name}, code {unit_code}\nRep. {rep_name}, ID {id_number}\n{phone}, {region}"
    ),
    "error.phone.invalid": "That is not a mobile number. Enter one like 138 0013 8000 or +44 7911 123456.",
    "error.phone.contact_required": "Please share your own contact with the button below: a typed number cannot be checked.",
    "error.otp.chat_limit": "Too many codes asked for from this chat this hour. Try again in {minutes} min.",
    "error.name.invalid": "A name has letters, not only digits or signs (at most {maximum} characters). Enter it again.",
    "error.address.invalid": "Enter the full address (4 to {maximum} characters).",
    "error.id.invalid": "An ID number has 18 characters: 17 digits, then a digit or X. Enter it again.",
    "error.id.checksum": "That ID number's check digit is wrong. Check for a typo and enter it again.",
    "error.id.birth_date": "That ID number has an impossible birth date. Check it and enter it again.",
    "error.permit.invalid": "A permit number has 6 to 30 letters and digits. Enter it again or pick Skip.",
    "error.unit_code.invalid": "Enter an 18-character credit code or a 9-character organisation code.",
    "error.unit_code.checksum": "That code's check character is wrong. Check for a typo and enter it again.",
    "error.region.unknown": 'No region called "{query}". Type the city, e.g. Shenzhen or Shantou.',
    "error.otp.malformed": "The code has {length} digits. Enter the digits from the SMS.",
    "error.otp.not_requested": "No code was sent yet. Reply 1 to get one.",
    "error.otp.wrong": "Wrong code. {left} {left:plural:one=try;other=tries} left.",
    "error.otp.exhausted": "Too many wrong entries for that code. Reply 1 for a new code.",
    "error.otp.expired": "That code has expired (codes last 5 minutes). Reply 1 for a new code.",
    "error.otp.too_soon": "Please wait {seconds} s before asking for another code.",
    "error.otp.hourly_limit": "Too many codes sent to this number this hour. Try again in {minutes} min.",
    "error.account.phone_taken": "This number already has an account. Reply MENU and sign in with it.",
    "error.account.required": "You need an account for that. Reply MENU and register first.",
    "sms.code": "platebot code {code}, valid {minutes} min. Never share it.",
}
