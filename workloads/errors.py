"""Bad-input errors shared by every package.

`InputError` is the one exception the CLI turns into exit code 2. It always
names where the bad value came from (a file or a CLI argument), the field,
the value and what is allowed, so the message is useful without a traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """A spec, workload or argument that fails validation."""

    def __init__(self, source: str, field: str, value: object, allowed: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{source}: {field} = {value!r}; allowed: {allowed}")


class WorkloadError(InputError):
    """A workload description (shape string, file, sparsity spec) is invalid."""
