"""English texts of the information pages (guides, contacts, announcements). Keys and
placeholders must match ``info_zh.py``."""

MESSAGES: dict[str, str] = {
    "menu.info": "Guides, notices, contacts",
    "help.info": "Guides, how to reach the offices, and system announcements. Reply with a number; BACK: previous step, MENU: menu.",
    "info.title": "Information:",
    "info.guides": "Guides",
    "info.contacts": "Contact details",
    "info.announcements": "Announcements",
    "info.more": "Next page",
    "info.back": "Information",
    "info.pick_guide": "Guides. Reply with a number to read one:",
    "info.no_guides": "No guides yet.",
    "info.article": "{title}\n{body}",
    "info.contacts_title": "Contact details:",
    "info.contact": "{name}\nTel. {phone}\n{address}\n{hours}",
    "info.no_contacts": "No contact details yet.",
    "info.pick_announcement": "Announcements. Reply with a number to read one:",
    "info.no_announcements": "No announcements.",
    "info.announcement": "{title} ({when})\n{body}",
    "info.gone": "That item has been removed or withdrawn.",
}
