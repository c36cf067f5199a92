"""Valid config arguments of registered initializers, read off the registry's own rules.

Each parameter's :class:`paraminit.arguments.Rule` (its type, choices, bounds,
finiteness) gives a hypothesis strategy, so no test keeps a second table of what
an initializer accepts. Unbounded numbers are kept to sizes an array of a few
hundred float32 elements can hold.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from paraminit import registry
from paraminit.arguments import Rule, rule_for
from paraminit.registry import RegisteredFunction

# Unbounded numbers stay within this magnitude (a float32 array holds their results).
SPAN = 100.0


def registered() -> dict[str, RegisteredFunction]:
    """Every registered initializer, by versioned name."""
    return {name: registry.initializers.get(name) for name in registry.initializers.names()}


def rules(entry: RegisteredFunction) -> dict[str, Rule]:
    """The rule of each config argument of ``entry``."""
    return {name: rule_for(p.annotation) for name, p in entry.parameters.items()}


def _limits(rule: Rule) -> tuple[float | None, float | None, bool, bool]:
    low = high = None
    open_low = open_high = False
    for bound in rule.bounds:
        if bound.words in (">", ">="):
            low, open_low = bound.limit, bound.words == ">"
        else:
            high, open_high = bound.limit, bound.words == "<"
    return low, high, open_low, open_high


def strategy(rule: Rule) -> st.SearchStrategy[Any]:
    """Values ``rule`` accepts."""
    if rule.choices is not None:
        values: st.SearchStrategy[Any] = st.sampled_from(rule.choices)
    elif int in rule.kinds:
        low, high, open_low, open_high = _limits(rule)
        lo = -int(SPAN) if low is None else int(low) + open_low
        hi = int(SPAN) if high is None else int(high) - open_high
        values = st.integers(lo, min(hi, lo + 1000) if high is None else hi)
    else:
        low, high, open_low, open_high = _limits(rule)
        values = st.floats(
            -SPAN if low is None else low,
            SPAN if high is None else high,
            exclude_min=open_low,
            exclude_max=open_high,
            allow_nan=False,
            allow_infinity=False,
        )
    return st.none() | values if rule.optional else values


def example(rule: Rule) -> Any:
    """One value ``rule`` accepts, without hypothesis: a choice, or a number inside the bounds."""
    if rule.choices is not None:
        return rule.choices[0]
    low, high, _, _ = _limits(rule)
    if int in rule.kinds:
        return 1 if low is None else int(low) + 1
    if low is not None and high is not None:
        return (low + high) / 2
    return 0.5 if low is None else low + 0.5


def required(entry: RegisteredFunction) -> dict[str, Any]:
    """A valid value for each argument of ``entry`` without a default."""
    return {
        name: example(rule)
        for name, rule in rules(entry).items()
        if entry.parameters[name].default is entry.parameters[name].empty
    }
