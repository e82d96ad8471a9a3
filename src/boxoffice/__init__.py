"""Box Office: a high-concurrency seat booking engine."""

__version__ = "0.1.0"
