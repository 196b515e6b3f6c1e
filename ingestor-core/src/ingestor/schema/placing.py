"""Where the values of one object being conformed may go: every key in exactly one column, a value routed
elsewhere (a second spelling, a value that does not fit its column) never in a column another key of the
object took or names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestor.names import sanitize_column, suffixed
from ingestor.schema.types import Struct

TAKEN = object()  # in a row being built: a column a key took whose value went to another column


@dataclass(slots=True)
class Placing:
    """One object being conformed: its keys, and its row so far, which has every column a key took (one whose
    value went elsewhere marked TAKEN) and those the row's metadata fills."""

    obj: dict[str, Any]
    out: dict[str, Any]

    def free(self, struct: Struct, name: str) -> bool:
        """Whether a value routed to column `name` may go there: no key of this object took it or names it."""
        col = struct.get(name)
        if col is not None and col.name in self.out:
            return False
        lowered = name.lower()
        return all(sanitize_column(key).lower() != lowered for key, value in self.obj.items() if value is not None)

    def free_name(self, struct: Struct, base: str) -> str:
        """The first free `<base>__<n>` from 2."""
        n = 2
        while not self.free(struct, suffixed(base, f"__{n}")):
            n += 1
        return suffixed(base, f"__{n}")
