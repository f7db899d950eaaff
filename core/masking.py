"""Personal data is shown back masked and never logged in full."""

from __future__ import annotations


def mask_middle(value: str, keep_start: int, keep_end: int, fill: str = "*") -> str:
    """Keep ``keep_start`` leading and ``keep_end`` trailing characters, mask the rest."""
    if len(value) <= keep_start + keep_end:
        return fill * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + fill * hidden + value[len(value) - keep_end :]


def mask_id_number(value: str) -> str:
    """``440304199001011234`` → ``4403**********1234``."""
    return mask_middle(value, 4, 4)


def mask_phone(value: str) -> str:
    """``+8613800138000`` → ``+86138****8000``."""
    if value.startswith("+86") and len(value) == 14:
        return mask_middle(value, 6, 4)
    return mask_middle(value, min(4, len(value) // 3), 4 if len(value) > 8 else 2)


def mask_code(value: str) -> str:
    """Unit codes keep their first 2 and last 4 characters."""
    return mask_middle(value, 2, 4)


def describe_error(error: BaseException) -> str:
    """An unexpected error for the log: its type and where it was raised, never its message
    (database errors quote the values they refused: phone numbers, ID numbers, names)."""
    frames = []
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append(f"{code.co_filename.rsplit('/', 2)[-1]}:{tb.tb_lineno} {code.co_name}")
        tb = tb.tb_next
    cause = error.__cause__ or error.__context__
    chain = f" (from {type(cause).__module__}.{type(cause).__name__})" if cause else ""
    return f"{type(error).__module__}.{type(error).__name__}{chain} at " + " <- ".join(
        reversed(frames[-8:])
    )


def mask_bidder(number: str) -> str:
    """``12345678`` → ``12****78``: enough for a bidder to recognise their own number, not to
    learn another's."""
    return mask_middle(number, 2, 2)
