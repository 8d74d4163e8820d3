"""From a database row to the struct an API answers with: the one way controllers shape a row."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

Out = TypeVar("Out", bound=msgspec.Struct)


def view(row: object, out: type[Out], /, **values: Any) -> Out:
    """``out`` with every field read from the attribute of the same name on ``row`` (nested rows
    and dataclasses likewise) and validated as ``out`` types it, except the fields given in
    ``values``: what the row does not hold, or holds under another name."""
    if not values:
        return msgspec.convert(row, out, from_attributes=True)
    fields = msgspec.structs.fields(out)
    if unknown := values.keys() - {f.name for f in fields}:
        raise TypeError(f"{out.__name__} has no field {', '.join(sorted(unknown))}")
    data = {f.encode_name: getattr(row, f.name) for f in fields if f.name not in values}
    data.update({f.encode_name: values[f.name] for f in fields if f.name in values})
    return msgspec.convert(data, out, from_attributes=True)
