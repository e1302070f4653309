import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.clinics.models import Clinic, Membership, Role
from ketaguard.clinics.service import add_membership, create_clinic, create_organisation
from ketaguard.kit.errors import Conflict, InvalidInput
from tests.factories import Personas, make_clinic, make_organisation, make_staff


def test_organisation_owns_its_clinics_each_with_a_timezone(db: Session) -> None:
    organisation = create_organisation(db, "  Lakeside Health  ")
    create_clinic(db, organisation, name="North", timezone="America/Denver")
    create_clinic(db, organisation, name="South", timezone="Pacific/Honolulu")
    clinics = db.scalars(
        select(Clinic).where(Clinic.organisation_id == organisation.id).order_by(Clinic.name)
    ).all()
    assert organisation.name == "Lakeside Health"
    assert [(c.name, c.timezone) for c in clinics] == [
        ("North", "America/Denver"),
        ("South", "Pacific/Honolulu"),
    ]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "EST5EDT ", "", "localtime", "../etc/passwd"])
def test_a_clinic_needs_an_iana_timezone(db: Session, zone: str) -> None:
    organisation = make_organisation(db)
    with pytest.raises(InvalidInput, match="IANA timezone"):
        create_clinic(db, organisation, name="Nowhere", timezone=zone)


def test_names_are_required_and_unique(db: Session) -> None:
    organisation = make_organisation(db, "Unique Org")
    with pytest.raises(Conflict, match="already exists"):
        create_organisation(db, "Unique Org")
    with pytest.raises(InvalidInput, match="must not be empty"):
        create_organisation(db, "   ")
    create_clinic(db, organisation, name="Main", timezone="UTC")
    with pytest.raises(Conflict, match="already has a clinic named 'Main'"):
        create_clinic(db, organisation, name="Main", timezone="UTC")


def test_a_person_has_one_role_per_clinic_and_may_work_in_several(db: Session) -> None:
    organisation = make_organisation(db)
    first, second = make_clinic(db, organisation), make_clinic(db, organisation)
    nurse = make_staff(db, first, Role.nurse)
    add_membership(db, user_id=nurse.id, clinic=second, role=Role.prescriber)
    with pytest.raises(Conflict, match="already works in"):
        add_membership(db, user_id=nurse.id, clinic=first, role=Role.admin)
    roles = {
        m.clinic_id: m.role
        for m in db.scalars(select(Membership).where(Membership.user_id == nurse.id))
    }
    assert roles == {first.id: Role.nurse, second.id: Role.prescriber}


def test_personas_cover_every_role(personas: Personas, db: Session) -> None:
    roles = set(
        db.scalars(select(Membership.role).where(Membership.clinic_id == personas.clinic_a.id))
    )
    assert roles == set(Role)
    assert personas.patient_a.clinic_id == personas.clinic_a.id
    assert personas.patient_b.clinic_id == personas.clinic_b.id
