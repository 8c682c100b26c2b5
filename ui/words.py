"""Small pieces of English the pages share."""

import string


def a_digit(digit: int) -> str:
    """'a 7', but 'an 8' (said 'eight')."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def as_plain_text(text: str) -> str:
    """Text a person typed, for a place Streamlit renders as Markdown (an
    image's caption): every ASCII punctuation mark escaped, so it shows as
    typed and never turns into a link, emphasis or anything else."""
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in text)
