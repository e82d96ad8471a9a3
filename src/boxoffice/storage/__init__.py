"""PostgreSQL access: the pool, migrations, seeding and the claim statements."""
