"""Distributions in ``skimgaug search``'s grids: ``loguniform``, ``uniform``, ``randint``.

``--strategy random`` (and ``halving`` with ``--n-candidates``) samples each
candidate's values, from a list (each value equally likely) or from a
distribution written where a list of values would be, in a grid file
(``optimizer__learning_rate = "loguniform(1e-4, 1e-2)"``) or an option
(``--grid optimizer__learning_rate='loguniform(1e-4, 1e-2)'``):

- ``loguniform(a, b)``: ``scipy.stats.loguniform(a, b)``, from ``a`` to ``b``, log-spaced;
- ``uniform(a, b)``: from ``a`` to ``b`` (``scipy.stats.uniform(a, b - a)``);
- ``randint(a, b)``: the integers ``a`` to ``b`` included (``scipy.stats.randint(a, b + 1)``).

Both bounds are checked as values of the parameter before anything is trained.
"""

import re

_PATTERN = re.compile(r"^\s*(loguniform|uniform|randint)\s*\(\s*([^,()]+)\s*,\s*([^,()]+)\s*\)\s*$")
NAMES = ("loguniform", "uniform", "randint")


class Distribution:
    """A distribution of one parameter's values, as ``RandomizedSearchCV`` samples them.

    It has ``rvs`` (scikit-learn's interface) and shows as it was written.
    """

    def __init__(self, name, low, high):
        self.name, self.low, self.high = name, low, high

    def _frozen(self):
        from scipy import stats

        if self.name == "loguniform":
            return stats.loguniform(self.low, self.high)
        if self.name == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        return stats.randint(self.low, self.high + 1)

    def rvs(self, size=None, random_state=None):
        value = self._frozen().rvs(size=size, random_state=random_state)
        if size is None:  # a plain Python number, as a list's value would be
            return int(value) if self.name == "randint" else float(value)
        return value

    def bounds(self):
        """The lowest and highest value it can draw, to check against the parameter."""
        return [self.low, self.high]

    def __repr__(self):
        return f"{self.name}({self.low:g}, {self.high:g})"

    def __eq__(self, other):
        return isinstance(other, Distribution) and repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))


def parse_distribution(text):
    """``text`` as a :class:`Distribution`, None if it is not written as one.

    Raises
    ------
    ValueError
        For a distribution with bounds that are not numbers or not in order.
    """
    if not isinstance(text, str):
        return None
    match = _PATTERN.match(text)
    if match is None:
        return None
    name, low, high = match.groups()
    try:
        bounds = [int(v) if name == "randint" else float(v) for v in (low, high)]
    except ValueError:
        kind = "integers" if name == "randint" else "numbers"
        raise ValueError(f"{text.strip()!r}: the bounds of {name} must be {kind}") from None
    if not bounds[0] < bounds[1] or (name == "loguniform" and bounds[0] <= 0):
        need = "0 < a < b" if name == "loguniform" else "a < b"
        raise ValueError(f"{text.strip()!r}: {name}(a, b) needs {need}")
    return Distribution(name, *bounds)


def has_distributions(grid):
    """True if any value of ``grid`` (a list of dicts) is a :class:`Distribution`."""
    return any(isinstance(values, Distribution) for table in grid for values in table.values())


def with_distributions(grid):
    """``grid`` with every value written as a distribution parsed (ValueError listing problems)."""
    parsed, problems = [], []
    for table in grid:
        new = {}
        for key, values in table.items():
            text = values[0] if isinstance(values, list) and len(values) == 1 else values
            try:
                distribution = parse_distribution(text)
            except ValueError as exc:
                problems.append(f"{key}: {exc}")
                continue
            new[key] = distribution if distribution is not None else values
        parsed.append(new)
    if problems:
        raise ValueError("; ".join(problems))
    return parsed
