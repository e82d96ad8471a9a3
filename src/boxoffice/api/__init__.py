"""HTTP layer: translates requests to domain calls and domain failures to status codes."""
