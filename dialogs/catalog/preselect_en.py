"""English texts of plate pre-selection and practice selection. Keys and placeholders must match
``preselect_zh.py``."""

MESSAGES: dict[str, str] = {
    "menu.preselect": "Pre-select a plate (new car)",
    "help.preselect": (
        "Online pre-selection: choose the office, give the VIN and certificate number, verify "
        "your phone, then draw random numbers or enter your own. BACK: previous step, MENU: menu."
    ),
    "help.practice": "Practice runs the same steps as the real thing but checks and saves nothing. MENU: menu.",
    "practice.banner": "[Practice: nothing saved]",
    "practice.enter_code": "Practice sends no SMS: enter any 6 digits.",
    "practice.result": "Practice pick: {plate} (not valid).\nA real one must be confirmed at {name} by the end of {date} ({weekday}).",
    "pre.intro": (
        "Plate for a new car: 1) office, VIN and certificate number (any time); 2) verify your "
        "phone and pick (in office hours). Confirm at the office in time, or it lapses and "
        "online pre-selection is barred for 2 years."
    ),
    "pre.start": "Submit information",
    "pre.practice": "Practice selection",
    "pre.office.ask": "Office to register the new car:",
    "pre.office.local_only": "(new-car owners, students, units: own region only)",
    "pre.office.none": "No office of your certificate location offers online pre-selection. Please go to the office in person.",
    "pre.office.type_code": "Or type the office code, e.g. Yue D:",
    "pre.office.info": "{office} {name}\nHours {opens}-{closes}\n{address}",
    "pre.next": "Next",
    "pre.publicity": "Pool publicity",
    "pre.other_office": "Another office",
    "pre.publicity.title": "{office} pool (numbers available):",
    "pre.publicity.kind": "{kind}: {count}, e.g. {examples}",
    "pre.publicity.none": "The pool has no numbers right now.",
    "plate.kind.small": "Small car",
    "plate.kind.large": "Large vehicle",
    "plate.kind.small_nev": "Small new-energy car",
    "plate.kind.large_nev": "Large new-energy vehicle",
    "plate.format.small": "Small car: 5 letters/digits, at most 2 letters, no I or O, e.g. 12345, AB123.",
    "plate.format.large": "Large vehicle: 5 letters/digits, at most 2 letters, no I or O, e.g. 12345, AB123.",
    "plate.format.small_nev": "Small new-energy: D or F, a letter or digit, 4 digits, e.g. D12345.",
    "plate.format.large_nev": "Large new-energy: 5 digits, then D or F, e.g. 12345D.",
    "pre.business": "{office} business notice:\n{notice}",
    "pre.business.default": "{office} business notice: give true information; a pre-selected plate must be confirmed at the office in time, or it lapses and online pre-selection is barred for 2 years.",
    "pre.agree": "Read and agree",
    "pre.ask_vin": "Enter the VIN (17 characters). Where is it? Reply ?",
    "pre.ask_cert": "Enter the vehicle certificate number (imported car: import certificate number). Where is it? Reply ?",
    "pre.help.vin": (
        "The VIN (17 characters) is on the vehicle certificate, field 'VIN/frame number' (import "
        "goods certificate for imported cars), and at the lower left of the windscreen. The "
        "certificate number is at its top right; imported cars: the import certificate number."
    ),
    "pre.help.own": "Your own numbers: up to 5 at once, best first, separated by spaces; the first available one is taken. If none is, each one costs one of your own-number chances.",
    "pre.ask_kind": "Which kind of plate do you want to practise with?",
    "pre.notice": (
        "Car ...{vin}: {self} own {self:plural:one=number;other=numbers} and {batches} "
        "{batches:plural:one=batch;other=batches} left.\nUp to {per} own numbers "
        "per try, each costs 1 if none is free; {size} per batch. Confirm at the office within "
        "{days} working days. Hours {opens}-{closes}."
    ),
    "practice.notice": (
        "{self} own {self:plural:one=number;other=numbers} and {batches} "
        "{batches:plural:one=batch;other=batches} left.\nUp to {per} own numbers "
        "per try, each costs 1 if none is free; {size} per batch. Confirm at the office within "
        "{days} working days. Hours {opens}-{closes}."
    ),
    "pre.verify": "Verify phone and pick",
    "pre.another": "Another vehicle",
    "pre.enter_code": "Enter the 6-digit code we sent by SMS to {phone}:",
    "pre.phone_verified": "Your phone was verified a moment ago: no new code needed.",
    "pre.choose": "How do you want to pick?",
    "pre.draw": "Random batch ({batches} left)",
    "pre.draw_no4": "Random batch, no 4s",
    "pre.again": "New batch ({batches} left)",
    "pre.again_no4": "New batch, no 4s",
    "pre.own": "My own numbers ({left} left)",
    "pre.batch": "Held for you {minutes} min; reply a number to take it ({prefix}):",
    "pre.own_short": "My own numbers",
    "pre.own.ask": "Enter up to {per} numbers, best first, with spaces ({left} left). {format}",
    "pre.own.patterns": "This office's own-number rules: {patterns} (L letter, D digit)",
    "pre.own_skipped.not_released": "{serial}: not in the pool",
    "pre.own_skipped.held": "{serial}: in another's batch",
    "pre.own_skipped.taken": "{serial}: taken",
    "pre.own_none": "None of {numbers} is available: {spent} used, {left} own {left:plural:one=number;other=numbers} left.",
    "pre.result": (
        "Pre-selected: {plate} (car ...{vin}), valid to the end of {date} ({weekday}).\n"
        "Confirm it at {name} ({address}) with ID, vehicle certificate, invoice and insurance "
        "policy, or it lapses and bars online selection for 2 years."
    ),
    "pre.no_chances": "Vehicle ...{vin} has used all its own-number chances and batches; no more online selection. Please pick a number in person at {name} ({address}).",
    "pre.no_chances_any": "This vehicle has used all its own-number chances and batches; no more online selection. Please pick a number in person at the vehicle management office.",
    "pre.blocked": "A plate you pre-selected was not confirmed in time: online pre-selection is barred until {date} ({weekday}). Please register the new car at the office in person.",
    "sms.preselection_lapsed": "platebot: your pre-selected plate {plate} was not confirmed in time and has lapsed. Online pre-selection is barred until {until}; you can still pick at the office.",
    "error.plate.invalid": '"{typed}" is not a valid number. {format}',
    "error.plate.kind_unknown": 'No plate kind "{kind}". Use small, large, small_nev or large_nev.',
    "error.plate.pattern_invalid": '"{pattern}" is not a valid range or pattern (e.g. 10000-19999, LDDDD).',
    "error.plate.pattern_not_allowed": "{serial} does not fit this office's own-number rules ({patterns}). Try another number.",
    "error.plate.reserved": "{plate} is reserved by a user: it goes to auction through the reservation, not into the pool or on sale.",
    "error.plate.in_auction": "{plate} is a lot of an open auction: it cannot go into the pool or on sale.",
    "error.plate.awaiting_balance": "{plate} was sold at auction and the winner may still pay the balance: it cannot go into the pool or on sale.",
    "error.selection.no_candidates": "Enter 1 to {maximum} numbers, separated by spaces.",
    "error.selection.too_many": "Enter at most {maximum} numbers at once.",
    "error.vin.invalid": "A VIN has 17 letters and digits (no I, O or Q). Enter it again; reply ? for where to find it.",
    "error.vin.checksum": "That VIN's check digit (9th character) is wrong. Compare it with the certificate and enter it again.",
    "error.certificate.invalid": "A certificate number has 6 to 30 letters and digits. Compare with the certificate and enter it again.",
    "error.vehicle.not_found": "That VIN is not in the vehicle certificate registry. Reply BACK to check it; if it is right, ask the dealer or the office.",
    "error.vehicle.certificate_mismatch": "That certificate number does not match the vehicle. Compare with the certificate and enter it again.",
    "error.vehicle.not_yours": "That vehicle is not registered to you (or your unit): only its owner's account can pre-select for it.",
    "error.vehicle.registered": "That vehicle is registered already; no plate can be pre-selected for it. Reply MENU.",
    "error.vehicle.preselected": "A plate has been pre-selected for that vehicle already. Reply MENU.",
    "error.office.unknown": 'No office "{office}" to choose. Reply with a number from the list.',
    "error.office.exists": "Office {office} exists already.",
    "error.office.not_your_region": "You may only choose an office of your certificate location; {office} is not one.",
    "error.office.setting_invalid": "The {setting:setting}{value:given} is not valid{setting:rule}: correct it and try again.",
    "error.selection.closed": "Numbers can be picked {opens}-{closes} only. Your information is kept: come back within those hours.",
    "error.selection.no_batches": "No random batches left: use your own numbers.",
    "error.selection.no_self_choice": "No own-number chances left: use a random batch.",
    "error.selection.session_ended": "No activity for {minutes} min: the numbers held for you were released. Verify your phone again to pick.",
    "error.selection.not_held": "{serial} is no longer held for you. Draw a new batch or enter your own numbers.",
    "error.selection.pool_empty": "The pool has no numbers to draw right now; nothing was used. Try later or enter your own numbers.",
    "error.preselection.blacklisted": "Online pre-selection is barred until {until}. Please go to the office in person.",
    "error.preselection.not_found": "No pre-selection waiting for confirmation for vehicle {vin}.",
    "error.preselection.not_open": "That pre-selection is {state}: this cannot be done now.",
    "error.preselection.lapsed": "That pre-selection has passed its deadline and cannot be confirmed.",
    "error.blacklist.none": "{phone} is not barred from online pre-selection.",
    "error.account.unknown": "No account with mobile number {phone}.",
    "error.info.not_found": "No {kind} number {id}.",
    "error.info.invalid": "{field} must be given and at most {maximum} characters long.",
    "error.registry.field": '{field}: "{value}" is not valid (use yes/no or 1/0).',
    "error.registry.columns": "The CSV lacks columns: {columns}.",
    "error.registry.duplicate": "That VIN was already given on line {first}.",
}
