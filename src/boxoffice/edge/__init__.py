"""The HTTP edge of one server: what the embedded uvicorn+httptools server bounds before the app runs.

`limits` sizes the bounds from the settings and the descriptor limit, `protocol` enforces them per
connection, `shed` counts and logs every refusal, `drain` turns SIGTERM into a drain, `workers` lets
every worker see whether its siblings are ready. See docs/operations.md, "HTTP edge".
"""
