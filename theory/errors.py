"""The one exception type for bad user input.

Every validation in the toolkit raises :class:`SDLInputError` with a message that says what is
wrong and how to fix it, before any expensive computation starts.
"""


class SDLInputError(ValueError):
    """Bad input to the toolkit: the message says what is wrong and how to fix it."""
