"""check-ins, their schedule and the outbox

Revision ID: cd795295aec4
Revises: 12d26d5e3cd2
Create Date: 2026-11-21 13:57:06.656344
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cd795295aec4"
down_revision: str | None = "12d26d5e3cd2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "email", "sms", name="outbox_channel", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="outbox_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_outbox_message_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_outbox_message_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_not_before"), ["not_before"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_message_status"), ["status"], unique=False)

    op.create_table(
        "checkin_schedule",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("adjusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adjusted_by_id", sa.Uuid(), nullable=True),
        sa.Column("adjust_reason", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["adjusted_by_id"],
            ["user_account.id"],
            name=op.f("fk_checkin_schedule_adjusted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_checkin_schedule_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_checkin_schedule_plan_id_treatment_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_schedule")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_checkin_schedule_plan_id")),
    )
    with op.batch_alter_table("checkin_schedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkin_schedule_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "checkin_due",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column(
            "anchor",
            sa.Enum(
                "before_session",
                "after_dose",
                "weekly",
                name="checkin_due_anchor",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("slot", sa.String(length=80), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "completed",
                "missed",
                "cancelled",
                name="checkin_due_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_checkin_due_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_checkin_due_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["treatment_plan.id"], name=op.f("fk_checkin_due_plan_id_treatment_plan")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_checkin_due_session_id_treatment_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_due")),
        sa.UniqueConstraint("plan_id", "slot", name=op.f("uq_checkin_due_plan_id_slot")),
    )
    with op.batch_alter_table("checkin_due", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_due_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_opens_at"), ["opens_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_status"), ["status"], unique=False)

    op.create_table(
        "checkin",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("due_id", sa.Uuid(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "completed_by",
            sa.Enum(
                "staff",
                "patient",
                name="checkin_completed_by",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("phq9_response_id", sa.Uuid(), nullable=True),
        sa.Column("sds_response_id", sa.Uuid(), nullable=True),
        sa.Column("icsi_response_id", sa.Uuid(), nullable=True),
        sa.Column("craving", sa.Integer(), nullable=True),
        sa.Column("used_outside_sessions", sa.Boolean(), nullable=True),
        sa.Column("substance_use", sa.JSON(), nullable=False),
        sa.Column("withdrawal", sa.JSON(), nullable=True),
        sa.Column("urinary", sa.JSON(), nullable=True),
        sa.Column(
            "memory",
            sa.Enum(
                "none",
                "mild",
                "moderate",
                "severe",
                name="checkin_severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("suicide_risk", sa.Boolean(), nullable=False),
        sa.Column("follow_up_alert_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_checkin_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["due_id"], ["checkin_due.id"], name=op.f("fk_checkin_due_id_checkin_due")
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_alert_id"], ["alert.id"], name=op.f("fk_checkin_follow_up_alert_id_alert")
        ),
        sa.ForeignKeyConstraint(
            ["icsi_response_id"],
            ["screening_response.id"],
            name=op.f("fk_checkin_icsi_response_id_screening_response"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_checkin_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["phq9_response_id"],
            ["screening_response.id"],
            name=op.f("fk_checkin_phq9_response_id_screening_response"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["treatment_plan.id"], name=op.f("fk_checkin_plan_id_treatment_plan")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_checkin_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["sds_response_id"],
            ["screening_response.id"],
            name=op.f("fk_checkin_sds_response_id_screening_response"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin")),
        sa.UniqueConstraint("due_id", name=op.f("uq_checkin_due_id")),
    )
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_completed_at"), ["completed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_plan_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_patient_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_completed_at"))
        batch_op.drop_index(batch_op.f("ix_checkin_clinic_id"))

    op.drop_table("checkin")
    with op.batch_alter_table("checkin_due", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_due_status"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_session_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_plan_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_patient_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_opens_at"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_closes_at"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_clinic_id"))

    op.drop_table("checkin_due")
    with op.batch_alter_table("checkin_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_schedule_patient_id"))

    op.drop_table("checkin_schedule")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_patient_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_not_before"))

    op.drop_table("outbox_message")
