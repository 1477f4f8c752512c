"""givens: compute with a stand-in value instead of a shared variable.

Run: python examples/givens.py
"""

import opcore.tensor as T
from opcore import function, shared

state = shared(0)
inc = T.iscalar("inc")
fn_of_state = state * 2 + inc
# foo must have the same type as the variable it replaces
foo = T.scalar(dtype=state.dtype)
skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
print("skip_shared(1, 3) =", skip_shared(1, 3))
print("state is unchanged:", state.get_value())
assert skip_shared(1, 3) == 7 and state.get_value() == 0
