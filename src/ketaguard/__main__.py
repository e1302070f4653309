"""`python -m ketaguard`: the same command as `ketaguard`."""

from ketaguard.cli import app

app(prog_name="ketaguard")
