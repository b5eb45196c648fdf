"""The public endpoint's protections, as strawberry schema extensions (wired in schema/schema.py).

- limits.py: document size, persisted queries, page sizes, query cost and rate limiting;
- cost.py: the cost of an operation; throttle.py: the token buckets; persisted.py: APQ and the safelist;
- masking.py: production error masking and the introspection switch.
"""

from .limits import QueryLimits
from .masking import CodaMaskErrors, IntrospectionSwitch, log_errors

__all__ = ["CodaMaskErrors", "IntrospectionSwitch", "QueryLimits", "log_errors"]
