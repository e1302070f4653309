"""Staff pages for patients: the clinic's patient list and a patient's chart."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
