"""`ketaguard score`: score one instrument from a comma list of answers, without a database."""

import json
from typing import Annotated

import typer

from ketaguard.kit.cli import fail
from ketaguard.screening.instruments.base import (
    DEFAULT_PCL5_CUTOFF,
    AnswerError,
    Instrument,
    ScoringContext,
    Sex,
)
from ketaguard.screening.instruments.registry import answers_from_positional, get_instrument

USAGE_ERROR = 2


def _values(instrument: Instrument, answers: str) -> list[int | None]:
    """The comma list as numbers; an empty position is an item that was not asked."""
    values: list[int | None] = []
    for position, field in enumerate(answers.split(",")):
        text = field.strip()
        if not text:
            values.append(None)
            continue
        try:
            values.append(int(text))
        except ValueError:
            items = instrument.items
            where = items[position].id if position < len(items) else instrument.id
            raise AnswerError(where, f"answer {text!r} is not an integer") from None
    return values


def score_command(
    instrument: Annotated[str, typer.Argument(help="Instrument id, e.g. phq9 or audit-c.")],
    answers: Annotated[
        str,
        typer.Option(
            "--answers",
            help="Answers in item order, comma-separated; leave a position empty (1,0,,1) "
            "for an item that skip logic did not ask.",
        ),
    ],
    sex: Annotated[Sex | None, typer.Option(help="Needed by AUDIT-C.")] = None,
    supervised: Annotated[
        bool, typer.Option("--supervised", help="Treated under medical supervision.")
    ] = False,
    pcl5_cutoff: Annotated[
        int, typer.Option(help="The clinic's PCL-5 cut-off (default, review locally).")
    ] = DEFAULT_PCL5_CUTOFF,
    sds_cutoff: Annotated[
        int | None, typer.Option(help="The clinic's SDS cut-off; none is published for ketamine.")
    ] = None,
) -> None:
    """Score an instrument and print the score as one JSON object."""
    try:
        definition = get_instrument(instrument)
    except KeyError as exc:
        fail(str(exc.args[0]), USAGE_ERROR)
    context = ScoringContext(
        sex=sex, supervised=supervised, pcl5_cutoff=pcl5_cutoff, sds_cutoff=sds_cutoff
    )
    try:
        values = _values(definition, answers)
        score = definition.score(answers_from_positional(definition, values), context)
    except AnswerError as exc:
        fail(str(exc), USAGE_ERROR)
    typer.echo(json.dumps(score.to_dict(), ensure_ascii=False))
