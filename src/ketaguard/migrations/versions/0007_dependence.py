"""dependence signals, reviews, decisions, referrals and clinic settings

Revision ID: 7ce0c5d0082f
Revises: cd795295aec4
Create Date: 2026-11-21 14:40:14.577128
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7ce0c5d0082f"
down_revision: str | None = "cd795295aec4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dependence_settings",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("craving_threshold", sa.Integer(), nullable=True),
        sa.Column("craving_rising_reports", sa.Integer(), nullable=True),
        sa.Column("rising_dose_sessions", sa.Integer(), nullable=True),
        sa.Column("repeated_requests", sa.Integer(), nullable=True),
        sa.Column("repeated_requests_days", sa.Integer(), nullable=True),
        sa.Column("sds_rising_scores", sa.Integer(), nullable=True),
        sa.Column("icsi_rising_scores", sa.Integer(), nullable=True),
        sa.Column("phq9_fading_rise_points", sa.Integer(), nullable=True),
        sa.Column("review_due_hours", sa.Integer(), nullable=True),
        sa.Column("urgent_review_due_hours", sa.Integer(), nullable=True),
        sa.Column("medical_lead_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_dependence_settings_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["medical_lead_id"],
            ["user_account.id"],
            name=op.f("fk_dependence_settings_medical_lead_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_dependence_settings_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependence_settings")),
        sa.UniqueConstraint("clinic_id", name=op.f("uq_dependence_settings_clinic_id")),
    )
    op.create_table(
        "dependence_review",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("assigned_to_id", sa.Uuid(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_note", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "info",
                "watch",
                "review_needed",
                "urgent",
                name="dependence_review_severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "decided",
                name="dependence_review_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_to", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"],
            ["user_account.id"],
            name=op.f("fk_dependence_review_assigned_to_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_dependence_review_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_dependence_review_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_dependence_review_plan_id_treatment_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependence_review")),
    )
    with op.batch_alter_table("dependence_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependence_review_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dependence_review_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dependence_review_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dependence_review_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dependence_review_status"), ["status"], unique=False)

    op.create_table(
        "dependence_decision",
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "continue",
                "closer_monitoring",
                "pause",
                "taper",
                "discontinue",
                "refer_addiction_care",
                name="dependence_decision_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_dependence_decision_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_dependence_decision_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["dependence_review.id"],
            name=op.f("fk_dependence_decision_review_id_dependence_review"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependence_decision")),
        sa.UniqueConstraint("review_id", name=op.f("uq_dependence_decision_review_id")),
    )
    with op.batch_alter_table("dependence_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependence_decision_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "dependence_referral",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column(
            "referred_to",
            sa.Enum(
                "addiction_service",
                "urology",
                "therapist",
                "other",
                name="referral_to",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("referred_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "sent",
                "accepted",
                "attended",
                "declined",
                name="referral_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("next_follow_up_on", sa.Date(), nullable=True),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_dependence_referral_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["dependence_decision.id"],
            name=op.f("fk_dependence_referral_decision_id_dependence_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_dependence_referral_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_id"],
            ["user_account.id"],
            name=op.f("fk_dependence_referral_referred_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependence_referral")),
    )
    with op.batch_alter_table("dependence_referral", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependence_referral_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dependence_referral_next_follow_up_on"),
            ["next_follow_up_on"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dependence_referral_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dependence_referral_status"), ["status"], unique=False)

    op.create_table(
        "dependence_signal",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("detector", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "info",
                "watch",
                "review_needed",
                "urgent",
                name="dependence_signal_severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "raised_from",
            sa.Enum(
                "info",
                "watch",
                "review_needed",
                "urgent",
                name="dependence_signal_raised_from",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("raised_by", sa.JSON(), nullable=False),
        sa.Column("trend", sa.Boolean(), nullable=False),
        sa.Column("first_raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "closed",
                name="dependence_signal_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "closure",
            sa.Enum(
                "review_decision",
                "auto_resolved",
                name="dependence_closure",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Uuid(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_dependence_signal_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_dependence_signal_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["dependence_decision.id"],
            name=op.f("fk_dependence_signal_decision_id_dependence_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_dependence_signal_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_dependence_signal_plan_id_treatment_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependence_signal")),
        sa.UniqueConstraint(
            "patient_id", "key_hash", name=op.f("uq_dependence_signal_patient_id_key_hash")
        ),
    )
    with op.batch_alter_table("dependence_signal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependence_signal_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dependence_signal_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dependence_signal_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dependence_signal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependence_signal_state"))
        batch_op.drop_index(batch_op.f("ix_dependence_signal_patient_id"))
        batch_op.drop_index(batch_op.f("ix_dependence_signal_clinic_id"))

    op.drop_table("dependence_signal")
    with op.batch_alter_table("dependence_referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependence_referral_status"))
        batch_op.drop_index(batch_op.f("ix_dependence_referral_patient_id"))
        batch_op.drop_index(batch_op.f("ix_dependence_referral_next_follow_up_on"))
        batch_op.drop_index(batch_op.f("ix_dependence_referral_clinic_id"))

    op.drop_table("dependence_referral")
    with op.batch_alter_table("dependence_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependence_decision_patient_id"))

    op.drop_table("dependence_decision")
    with op.batch_alter_table("dependence_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependence_review_status"))
        batch_op.drop_index(batch_op.f("ix_dependence_review_plan_id"))
        batch_op.drop_index(batch_op.f("ix_dependence_review_patient_id"))
        batch_op.drop_index(batch_op.f("ix_dependence_review_due_at"))
        batch_op.drop_index(batch_op.f("ix_dependence_review_clinic_id"))

    op.drop_table("dependence_review")
    op.drop_table("dependence_settings")
