"""Alembic environment for the platform tables: always run programmatically with a connection
handed over in config.attributes (PlatformStore.migrate); its own version table, so other parts
of shudi may use Alembic on the same database without colliding."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table="platform_alembic_version")
with context.begin_transaction():
    context.run_migrations()
