"""The public self-check. No database, no audit event, no cookie: the answers live only in the
request and the page sent back, and the route takes no database session at all."""

from fastapi import APIRouter, Request, Response

from ketaguard.web import self_check
from ketaguard.web.pages import render

router = APIRouter(include_in_schema=False)

PAGE = "/self-check"


def _form(
    request: Request, *, answers: self_check.Answers, errors: dict[str, str], status_code: int
) -> Response:
    return render(
        request,
        "self_check.html",
        status_code=status_code,
        questions=self_check.SIGN_QUESTIONS,
        bladder_symptoms=self_check.BLADDER_SYMPTOMS,
        answers=answers,
        errors=errors,
    )


@router.get(PAGE)
def self_check_page(request: Request) -> Response:
    return _form(request, answers=self_check.Answers({}, ()), errors={}, status_code=200)


@router.post(PAGE)
async def assess(request: Request) -> Response:
    form = await request.form()
    signs = {item_id: str(form.get(item_id, "")) for item_id in self_check.SIGN_QUESTIONS}
    bladder = tuple(str(value) for value in form.getlist("bladder"))
    answers = self_check.Answers(signs=signs, bladder=bladder)
    errors = self_check.problems(answers)
    if errors:
        return _form(request, answers=answers, errors=errors, status_code=422)
    return render(
        request, "self_check_result.html", result=self_check.assess(answers), bands=self_check.BANDS
    )
