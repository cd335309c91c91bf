"""Exit codes (a contract: CI pipelines branch on them, as on terraform's)."""

OK = 0  # success / no changes
ERROR = 1  # bad input, failed request, anything unexpected
CHANGES = 2  # changes pending (plan --detailed-exitcode)
VERIFY_FAILED = 3  # verify found a broken link in the chain
