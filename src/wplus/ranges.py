"""Integer range lists as users type them: '0-7', '1,4,9', '0-3,10'."""
from __future__ import annotations


def parse_int_ranges(text: str) -> list[int]:
    """'0-3,10' -> [0, 1, 2, 3, 10] (order kept, duplicates dropped); ValueError when malformed."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        for i in range(int(lo), int(hi or lo) + 1):
            if i not in out:
                out.append(i)
    return out
