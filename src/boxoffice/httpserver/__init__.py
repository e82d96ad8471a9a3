"""The HTTP server layer of one worker: the embedded uvicorn+httptools server and what it bounds
before the app runs.

`run` starts uvicorn with `protocol.BoundedHttpProtocol`; `limits` sizes the bounds from the settings
and the descriptor limit, `protocol` enforces them per connection (and answers the lean booking route
itself), `shed` counts and logs every refusal, `drain` turns SIGTERM into a drain, `management` serves
the management port, `workers` lets every worker see whether its siblings are ready. See
docs/operations.md, "HTTP server".
"""
