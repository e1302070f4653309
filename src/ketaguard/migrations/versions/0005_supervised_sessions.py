"""supervised sessions

Revision ID: 12d26d5e3cd2
Revises: 2ec5db269137
Create Date: 2026-11-21 12:51:54.453910
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "12d26d5e3cd2"
down_revision: str | None = "2ec5db269137"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATES = ("scheduled", "cancelled")
NEW_STATES = (
    "scheduled",
    "checked_in",
    "pre_dose_cleared",
    "dosed",
    "monitoring",
    "ready_for_discharge",
    "discharged",
    "cancelled",
    "no_show",
    "aborted",
)


def upgrade() -> None:
    op.create_table(
        "adverse_event",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "nausea_vomiting",
                "bp_elevation",
                "dissociation",
                "sedation",
                "anxiety",
                "headache",
                "dizziness",
                "respiratory_depression",
                "urinary_symptoms",
                "cognitive_complaints",
                "other",
                name="ae_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("onset_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_adverse_event_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_adverse_event_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_adverse_event_session_id_treatment_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event")),
    )
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverse_event_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_adverse_event_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "rems_form",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("submission_method", sa.String(length=16), nullable=True),
        sa.Column("submitted_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_rems_form_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_rems_form_session_id_treatment_session"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_rems_form_submitted_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rems_form")),
        sa.UniqueConstraint("session_id", name=op.f("uq_rems_form_session_id")),
    )
    with op.batch_alter_table("rems_form", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rems_form_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rems_form_due_on"), ["due_on"], unique=False)

    op.create_table(
        "session_rating",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("scale", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_session_rating_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_session_rating_session_id_treatment_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_rating")),
    )
    with op.batch_alter_table("session_rating", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_rating_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "vital_reading",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("vital", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "staff", "device", name="reading_source", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("device_key", sa.String(length=128), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by_token_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_vital_reading_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_token_id"],
            ["api_token.id"],
            name=op.f("fk_vital_reading_recorded_by_token_id_api_token"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_vital_reading_session_id_treatment_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_reading")),
        sa.UniqueConstraint(
            "session_id",
            "vital",
            "measured_at",
            "device_key",
            name=op.f("uq_vital_reading_session_id_vital_measured_at_device_key"),
        ),
    )
    with op.batch_alter_table("vital_reading", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vital_reading_session_id"), ["session_id"], unique=False
        )

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_alert_session_id"), ["session_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_session_id_treatment_session"),
            "treatment_session",
            ["session_id"],
            ["id"],
        )

    with op.batch_alter_table("treatment_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pre_dose", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("prescriber_decision", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("pre_dose_cleared_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("cleared_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("pre_dose_moaas", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("given_dose_mg", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lot_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("given_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("device_times", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("dosed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("infusion_ended_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("observation_started_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("transport_present", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("prescriber_cleared_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("discharged_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("aborted_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        # The CHECK listing the allowed states must be replaced, not just the column widened:
        # PostgreSQL would otherwise keep refusing the new states.
        batch_op.drop_constraint(op.f("ck_treatment_session_session_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=9),
            type_=sa.String(length=19),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            op.f("ck_treatment_session_session_status"), sa.column("status").in_(NEW_STATES)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_treatment_session_cleared_by_id_user_account"),
            "user_account",
            ["cleared_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_treatment_session_given_by_id_user_account"),
            "user_account",
            ["given_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_treatment_session_discharged_by_id_user_account"),
            "user_account",
            ["discharged_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("treatment_session", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_treatment_session_discharged_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_treatment_session_given_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_treatment_session_cleared_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_treatment_session_session_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=19),
            type_=sa.String(length=9),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            op.f("ck_treatment_session_session_status"), sa.column("status").in_(OLD_STATES)
        )
        batch_op.drop_column("revision")
        batch_op.drop_column("aborted_reason")
        batch_op.drop_column("discharged_by_id")
        batch_op.drop_column("discharged_at")
        batch_op.drop_column("ready_at")
        batch_op.drop_column("prescriber_cleared_at")
        batch_op.drop_column("transport_present")
        batch_op.drop_column("observation_started_at")
        batch_op.drop_column("infusion_ended_at")
        batch_op.drop_column("dosed_at")
        batch_op.drop_column("device_times")
        batch_op.drop_column("given_by_id")
        batch_op.drop_column("lot_number")
        batch_op.drop_column("given_dose_mg")
        batch_op.drop_column("pre_dose_moaas")
        batch_op.drop_column("cleared_by_id")
        batch_op.drop_column("pre_dose_cleared_at")
        batch_op.drop_column("prescriber_decision")
        batch_op.drop_column("pre_dose")
        batch_op.drop_column("checked_in_at")

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_alert_session_id_treatment_session"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_alert_session_id"))
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("session_id")

    with op.batch_alter_table("vital_reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vital_reading_session_id"))

    op.drop_table("vital_reading")
    with op.batch_alter_table("session_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_rating_session_id"))

    op.drop_table("session_rating")
    with op.batch_alter_table("rems_form", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rems_form_due_on"))
        batch_op.drop_index(batch_op.f("ix_rems_form_clinic_id"))

    op.drop_table("rems_form")
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_event_session_id"))
        batch_op.drop_index(batch_op.f("ix_adverse_event_patient_id"))

    op.drop_table("adverse_event")
