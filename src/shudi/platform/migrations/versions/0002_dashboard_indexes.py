"""platform: indexes chosen by measurement for the dashboard and the pages' lists

Measured with bench/platform_bench.py (100,000 calls, EXPLAIN QUERY PLAN / EXPLAIN): every
dashboard query is now answered from an index alone (no table row read), for a whole county
and for one department; the plain (county, state) and (county, department) indexes are
prefixes of the covering ones and go.  Figures in README.md, "响应平台的规模".

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# what the dashboard's one-row aggregate reads: on-time share, satisfaction, overdue, flagged,
# returned; the supervisor's view filters on the same columns
TOTALS = ["state", "on_time", "satisfied", "flagged", "next_due", "supervision_level"]
NEW = {
    "ix_pcalls_county_matter": ["county", "item_id", "item_name"],  # by matter, with its name
    "ix_pcalls_county_agency": ["county", "agency"],  # a stationed agency's own calls
    "ix_pcalls_county_totals": ["county", *TOTALS],
    "ix_pcalls_dept_totals": ["county", "department", *TOTALS],  # a department's dashboard and inbox
    "ix_pcalls_dept_matter": ["county", "department", "item_id", "item_name"],
    "ix_pcalls_dept_township": ["county", "department", "township"],
    "ix_pcalls_dept_month": ["county", "department", "month"],
}
OLD = {"ix_pcalls_county_state": ["county", "state"], "ix_pcalls_county_department": ["county", "department"]}


def upgrade() -> None:
    for name, cols in NEW.items():
        op.create_index(name, "platform_calls", cols)
    for name in OLD:
        op.drop_index(name, table_name="platform_calls")


def downgrade() -> None:
    for name, cols in OLD.items():
        op.create_index(name, "platform_calls", cols)
    for name in NEW:
        op.drop_index(name, table_name="platform_calls")
