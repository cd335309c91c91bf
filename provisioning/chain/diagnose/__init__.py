"""Why a hop of the chain failed, and what to do about it — in words an admin acts on.

The knowledge is one table, ``table.RULES``: error code (an ``AADSTS`` number, a
managed-identity endpoint error, an ARM / Graph / Logs Ingestion code) → a *cause* and a
*fix* template, filled with the tenant, app, identity and values involved.  A few entries
name an *analyzer* (``analyze.py``) that derives extra values first (which field of which
federated credential differs from the assertion, which role an ARM refusal is about, ...);
the analyzers are plain functions over the error and the ``Context`` and never make a
request.

    diagnose(exc_or_error_body, Context(...)) -> Diagnosis(code, cause, fix, details)

An unknown code still yields a ``Diagnosis``: its cause is the service's own message
(first line, trace ids removed).  Nothing here ever holds or prints a token: assertions
arrive as decoded claims.

Modules: ``model`` (Context, Diagnosis), ``parse`` (an error → ErrorInfo), ``analyze``,
``table`` (the rules, as data), ``words`` (the context as template values), ``match``
(``diagnose()``).
"""

from __future__ import annotations

from .analyze import ANALYZERS, FicComparison, assertion_line, audience_matches, compare_fics
from .match import diagnose
from .model import EXCHANGE_APP_IDS, SECRET_VARIABLES, Context, Diagnosis
from .parse import MI_MESSAGES, ErrorInfo, parse_error
from .table import RULES, WHEN, Rule, rules_for

__all__ = [
    "ANALYZERS",
    "EXCHANGE_APP_IDS",
    "MI_MESSAGES",
    "RULES",
    "SECRET_VARIABLES",
    "WHEN",
    "Context",
    "Diagnosis",
    "ErrorInfo",
    "FicComparison",
    "Rule",
    "assertion_line",
    "audience_matches",
    "compare_fics",
    "diagnose",
    "parse_error",
    "rules_for",
]
