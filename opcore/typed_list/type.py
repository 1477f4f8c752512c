"""``TypedListType(ttype, depth=0)``: the type of a list whose items all have type ``ttype``."""

from opcore.typed_list.basic import TypedListType  # noqa: F401
