"""vital readings keyed by session, device, time and vital

A device's batch looks up what it stored before by session, device and a range of times; with the
vital second in the key that lookup read every reading of the session, so each batch got slower as
the session went on. The key's own index now serves it, and makes the plain session index
redundant.

Revision ID: 3f1c2a9b8d70
Revises: 7ce0c5d0082f
Create Date: 2026-12-04 21:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f1c2a9b8d70"
down_revision: str | None = "7ce0c5d0082f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = ["session_id", "vital", "measured_at", "device_key"]
NEW_KEY = ["session_id", "device_key", "measured_at", "vital"]


def upgrade() -> None:
    with op.batch_alter_table("vital_reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vital_reading_session_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_vital_reading_session_id_vital_measured_at_device_key"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_vital_reading_session_id_device_key_measured_at_vital"), NEW_KEY
        )


def downgrade() -> None:
    with op.batch_alter_table("vital_reading", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_vital_reading_session_id_device_key_measured_at_vital"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_vital_reading_session_id_vital_measured_at_device_key"), OLD_KEY
        )
        batch_op.create_index(
            batch_op.f("ix_vital_reading_session_id"), ["session_id"], unique=False
        )
