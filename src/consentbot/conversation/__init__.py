"""The dialogue: pure functions from (state, input, study content) to (state, replies, changes).

Knows no channel and no database. The consent service runs it and applies what it returns.
"""
