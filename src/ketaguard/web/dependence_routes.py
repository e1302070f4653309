"""Staff pages for the dependence watch: the clinic worklist, a review with its decision, and
referrals; and the clinic's REMS forms by deadline."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
