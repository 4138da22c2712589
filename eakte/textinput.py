"""One validator for text a client sends (issue 18): no NUL or other control characters.

PostgreSQL cannot store NUL in text columns (and answered 503 "database error"); other C0
controls have no business in titles, names or descriptions either. Request schemas derive
from `TextInput`, which checks every string anywhere in the body (nested models, lists and
free-form dicts such as procedure action input) before the fields are validated: 422.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, model_validator

# C0 controls except tab, line feed and carriage return; DEL; the C1 controls
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_DEPTH = 32


def check_text(value: Any, depth: int = 0) -> None:
    """Raise ValueError if any string in `value` (walked recursively) holds a control char."""
    if depth > MAX_DEPTH:
        raise ValueError("the body is nested too deeply")
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            raise ValueError("text must not contain NUL or other control characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, depth + 1)
            check_text(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            check_text(item, depth + 1)


class TextInput(BaseModel):
    """Base of request bodies: see the module docstring."""

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        check_text(data)
        return data
