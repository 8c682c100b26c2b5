"""Errors a user causes, told apart from bugs.

A UserError's text is one line for the user: a bad file, a recipe that
cannot run, a model that will not load.  The command line and the pages
catch UserError alone and show its message; anything else is a bug, which
is logged with its traceback (and shown as "something went wrong").
"""


class UserError(Exception):
    """Something the user can fix; str(error) says what, in one line."""


class DataError(UserError):
    """Bad or unobtainable data; str(e) is a one-line message for the user."""
