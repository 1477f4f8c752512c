"""A shared-variable accumulator updated by functions (updates=...).

Run: python examples/shared_accumulator.py
"""

import opcore
import opcore.tensor as T
from opcore import function, shared

state = shared(0)
inc = T.iscalar("inc")
accumulator = function([inc], state, updates=[(state, state + inc)])

print("state:", state.get_value())
print("accumulator(1) returned", accumulator(1), "-> state", state.get_value())
print("accumulator(300) returned", accumulator(300), "-> state", state.get_value())
assert state.get_value() == 301

state.set_value(-1)
accumulator(3)
print("after set_value(-1) and accumulator(3):", state.get_value())
assert state.get_value() == 2

decrementor = function([inc], state, updates={state: state - inc})
decrementor(2)
print("after decrementor(2):", state.get_value())
assert state.get_value() == 0
print(opcore.printing.debugprint(accumulator, file="str"))
