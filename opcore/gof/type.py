"""Theano's ``theano.gof.type``: ``Type``, ``Generic``, enum types (``EnumList``...)."""

from opcore.graph.params import CEnumType, EnumList, EnumType, Generic, generic  # noqa: F401
from opcore.graph.type import Type  # noqa: F401

CType = PureType = Type
