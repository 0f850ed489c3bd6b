"""The base of every error a user can cause: its message is fit to show them as it is."""


class LikepredictError(Exception):
    """An expected failure with a plain-language message (bad input, unknown account, bad setting)."""
