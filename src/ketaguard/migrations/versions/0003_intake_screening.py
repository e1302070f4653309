"""intake, screening, eligibility, alerts

Revision ID: 52d1b681fdaf
Revises: a2aad475c0de
Create Date: 2026-11-21 12:09:18.263989
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "52d1b681fdaf"
down_revision: str | None = "a2aad475c0de"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "urgent",
                "same_day",
                "routine",
                name="alert_severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Uuid(), nullable=True),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["user_account.id"],
            name=op.f("fk_alert_acknowledged_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_alert_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_alert_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_raised_at"), ["raised_at"], unique=False)

    op.create_table(
        "intake_version",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_intake_version_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_intake_version_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_version")),
        sa.UniqueConstraint(
            "patient_id", "version", name=op.f("uq_intake_version_patient_id_version")
        ),
    )
    with op.batch_alter_table("intake_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_version_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "screening_response",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=40), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("band", sa.String(length=40), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("scoring_context", sa.JSON(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "completed_by",
            sa.Enum(
                "staff", "patient", name="completed_by", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_screening_response_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_screening_response_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_response")),
    )
    with op.batch_alter_table("screening_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_response_completed_at"), ["completed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screening_response_instrument"), ["instrument"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screening_response_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "eligibility_decision",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("computed_eligibility", sa.String(length=32), nullable=False),
        sa.Column("computed_risk_tier", sa.String(length=16), nullable=False),
        sa.Column("eligibility_reasons", sa.JSON(), nullable=False),
        sa.Column("risk_reasons", sa.JSON(), nullable=False),
        sa.Column("intake_version_id", sa.Uuid(), nullable=True),
        sa.Column("screening_response_ids", sa.JSON(), nullable=False),
        sa.Column("computed_by_id", sa.Uuid(), nullable=False),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_off_by_id", sa.Uuid(), nullable=True),
        sa.Column("final_eligibility", sa.String(length=32), nullable=True),
        sa.Column("final_risk_tier", sa.String(length=16), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["computed_by_id"],
            ["user_account.id"],
            name=op.f("fk_eligibility_decision_computed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_version_id"],
            ["intake_version.id"],
            name=op.f("fk_eligibility_decision_intake_version_id_intake_version"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_eligibility_decision_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["signed_off_by_id"],
            ["user_account.id"],
            name=op.f("fk_eligibility_decision_signed_off_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_decision")),
    )
    with op.batch_alter_table("eligibility_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibility_decision_patient_id"), ["patient_id"], unique=False
        )

    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pcl5_cutoff", sa.Integer(), nullable=False, server_default="33")
        )
        batch_op.add_column(sa.Column("sds_cutoff", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("screening_valid_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_column("screening_valid_days")
        batch_op.drop_column("sds_cutoff")
        batch_op.drop_column("pcl5_cutoff")

    with op.batch_alter_table("eligibility_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_decision_patient_id"))

    op.drop_table("eligibility_decision")
    with op.batch_alter_table("screening_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_response_patient_id"))
        batch_op.drop_index(batch_op.f("ix_screening_response_instrument"))
        batch_op.drop_index(batch_op.f("ix_screening_response_completed_at"))

    op.drop_table("screening_response")
    with op.batch_alter_table("intake_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_version_patient_id"))

    op.drop_table("intake_version")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_raised_at"))
        batch_op.drop_index(batch_op.f("ix_alert_patient_id"))
        batch_op.drop_index(batch_op.f("ix_alert_clinic_id"))

    op.drop_table("alert")
