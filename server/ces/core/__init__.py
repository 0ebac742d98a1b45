"""The pure core: metrics, decisions, scoring and protocol messages.

Nothing in this package imports Flask or touches the database, so every rule
can be tested directly and fast.
"""
