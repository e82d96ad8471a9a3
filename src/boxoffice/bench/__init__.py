"""Flash-crowd benchmark: a separate-process load generator measured against the raw-SQL limit."""
