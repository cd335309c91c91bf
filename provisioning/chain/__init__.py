"""The token chain at run time: acquire the MI token, exchange it, verify, diagnose."""
