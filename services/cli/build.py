"""`tarn build`: a function's folder with its dependencies installed as Lambda needs them
(requirements.txt, package.json), as a folder (`tarn run --code`, `tarn lambda create --code`)
or a zip. The code is copied first (without what `.tarnignore` lists): the source stays clean.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from services.cli.run import RunExecutor

if TYPE_CHECKING:
    from workers.standalone.functions import LocalFunction

EXAMPLE = "Example: tarn build --zip function.zip   |   tarn build --out build --executor docker"
# The default output folder, inside the code's folder and never copied into itself.
DEFAULT_OUT = Path(".tarn") / "build"


def build(
    runtime: Annotated[
        str | None,
        typer.Option(help="e.g. python3.12 (default: from requirements.txt or package.json)"),
    ] = None,
    code: Annotated[Path, typer.Option(help="the function's folder")] = Path("."),
    out: Annotated[
        Path | None, typer.Option(help="the built folder [CODE/.tarn/build]", show_default=False)
    ] = None,
    zip_file: Annotated[
        Path | None, typer.Option("--zip", help="write a deployment package instead")
    ] = None,
    executor: Annotated[
        RunExecutor, typer.Option(help="process: this machine's pip/npm; docker: the image's")
    ] = RunExecutor.process,
) -> None:
    """Install a function's dependencies next to its code, as Lambda loads them."""
    from workers.standalone import functions

    if out is not None and zip_file is not None:
        raise SystemExit("tarn: give --out or --zip, not both")
    if not code.is_dir():
        raise SystemExit(f"tarn: --code {code}: not a folder")
    try:
        runtime = runtime or functions.guess_build_runtime(code)
    except functions.ConfigurationError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    function = functions.LocalFunction(
        code=code, handler="", runtime=runtime, executor=executor.value
    )
    target = out if out is not None else code / DEFAULT_OUT
    _check_target(code, target)
    with tempfile.TemporaryDirectory(prefix=".tarn-build-", dir=_scratch_root(target)) as scratch:
        staged = Path(scratch) / "function"
        _copy_code(code, staged, skip=(target, Path(scratch), code / ".tarn"))
        _install(function, staged)
        if zip_file is not None:
            _write_zip(staged, zip_file)
            return
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    say(f"built {target}; run it: tarn run --code {target} HANDLER")


def _install(function: LocalFunction, staged: Path) -> None:
    import anyio

    from bus.settings import Settings, SettingsError
    from workers.standalone.builds import BuildError, install

    try:
        settings = Settings.from_env()
        installed = anyio.run(install, function, staged, settings, _progress)
    except (BuildError, SettingsError) as exc:
        raise SystemExit(f"tarn: {exc}") from None
    if not installed:
        say("no requirements.txt or package.json: nothing to install")


def _check_target(code: Path, target: Path) -> None:
    """Refuse an output that would replace the code or a folder holding it."""
    code, resolved = code.resolve(), target.resolve()
    if resolved == code or resolved in code.parents:
        raise SystemExit(f"tarn: --out {target} holds the code itself; name another folder")


def _scratch_root(target: Path) -> Path:
    """Staged beside the output, so that moving it into place is a rename."""
    root = target.resolve().parent
    root.mkdir(parents=True, exist_ok=True)
    return root


def _copy_code(code: Path, staged: Path, skip: tuple[Path, ...]) -> None:
    """The code's files without what `.tarnignore` lists, nor the folders in `skip` (the
    output, the staging folder: they may lie inside the code's)."""
    from services.cli.lambda_cli.packages import files_of, ignore_spec

    ignored = ignore_spec(code)
    skipped = {folder.resolve() for folder in skip}
    staged.mkdir()
    for path in files_of(code):
        relative = path.relative_to(code).as_posix()
        inside = {path.absolute(), *path.absolute().parents}
        if ignored.match_file(relative) or inside & skipped:
            continue
        destination = staged / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def _write_zip(staged: Path, zip_file: Path) -> None:
    from services.cli.lambda_cli.packages import zip_folder

    zip_file.write_bytes(zip_folder(staged))
    say(f"built {zip_file} ({zip_file.stat().st_size:,} bytes)")


def _progress(chunk: bytes) -> None:
    """pip's and npm's own output, as it comes, on stderr."""
    sys.stderr.buffer.write(chunk)
    sys.stderr.buffer.flush()


def say(message: str) -> None:
    print(f"tarn: {message}", file=sys.stderr, flush=True)
