"""``envkit lock SRC -o pylock.toml``: resolve with uv (or pip) into a PEP 751 lock."""

from __future__ import annotations

from pathlib import Path

import click

from ..convert import write_file
from ..environments import lock
from ..errors import EnvkitError
from ._output import echo_json
from ._progress import progress_printer


@click.command(
    epilog="""\b
Examples:
  envkit lock requirements.txt -o pylock.toml
  envkit lock requirements.txt --python 3.9 --platform linux -o pylock.toml
  envkit lock Pipfile -o pylock.toml --installer pip
"""
)
@click.argument("src", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write (default: print)."
)
@click.option("--python", help="Resolve for this Python version (3.11).")
@click.option("--platform", help="Resolve for this platform (linux, macos, windows, or a target triple).")
@click.option("--installer", type=click.Choice(["uv", "pip"]), help="Resolve with uv (default when available) or pip.")
@click.option("--force", is_flag=True, help="Overwrite an existing lock that differs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def lock_cmd(
    src: str,
    output: Path | None,
    python: str | None,
    platform: str | None,
    installer: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Resolve SRC with the real resolver (uv, else pip) and write a PEP 751 pylock.toml with
    hashes and sources. Credentials are removed from every URL."""
    result = lock(
        src, python=python, platform=platform, installer=installer, output=output, progress=progress_printer(as_json)
    )
    if output is None:
        if as_json:
            echo_json({**result.to_dict(), "text": result.text})
        else:
            click.echo(result.text, nl=False)
        return
    write = write_file(output, result.text, force=force)
    if write.action == "refused":
        raise EnvkitError(f"{output} exists and differs; --force overwrites it")
    if as_json:
        echo_json({**result.to_dict(), "path": str(output), "action": write.action})
    else:
        click.echo(f"{output}: {write.action}, {result.packages} packages locked with {result.tool}")
