"""platform: calls projection, append-only events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "platform_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("county", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(8), nullable=False),
        sa.Column("township", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128)),
        sa.Column("agency", sa.String(128)),
        sa.Column("item_id", sa.String(128)),
        sa.Column("item_name", sa.String(200)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("urgency", sa.String(8), nullable=False),
        sa.Column("complexity", sa.String(8)),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("flag_reason", sa.Text),
        sa.Column("example", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("found_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("next_due", TZ),
        sa.Column("supervision_level", sa.Integer, nullable=False, server_default="0"),
        sa.Column("supervised_step", sa.String(80)),
        sa.Column("speed", sa.String(8)),
        sa.Column("effect", sa.String(8)),
        sa.Column("satisfied", sa.Boolean),
        sa.Column("cooperation", sa.String(8)),
        sa.Column("on_time", sa.Boolean),
        sa.Column("deadlines", sa.JSON, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_pcalls_county_state", "platform_calls", ["county", "state"])
    op.create_index("ix_pcalls_county_township", "platform_calls", ["county", "township"])
    op.create_index("ix_pcalls_county_department", "platform_calls", ["county", "department"])
    op.create_index("ix_pcalls_county_month", "platform_calls", ["county", "month"])
    op.create_index("ix_pcalls_next_due", "platform_calls", ["next_due"])
    op.create_table(
        "platform_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("platform_calls.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(128)),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(24)),
        sa.Column("to_state", sa.String(24)),
        sa.Column("reason", sa.Text),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("call_id", "seq", name="uq_pevents_call_seq"),
    )
    # the event log is append-only: the database itself refuses UPDATE and DELETE
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TRIGGER pevents_no_update BEFORE UPDATE ON platform_events "
                   "BEGIN SELECT RAISE(ABORT, 'platform_events is append-only'); END")
        op.execute("CREATE TRIGGER pevents_no_delete BEFORE DELETE ON platform_events "
                   "BEGIN SELECT RAISE(ABORT, 'platform_events is append-only'); END")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION pevents_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'platform_events is append-only'; END $$")
        op.execute("CREATE TRIGGER pevents_no_change BEFORE UPDATE OR DELETE ON platform_events "
                   "FOR EACH ROW EXECUTE FUNCTION pevents_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pevents_no_change ON platform_events")
        op.execute("DROP FUNCTION IF EXISTS pevents_append_only()")
    op.drop_table("platform_events")
    op.drop_table("platform_calls")
