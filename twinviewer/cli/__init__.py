"""The ``twinviewer`` command: ``twinviewer [TARGET]`` opens the window; subcommands work headless.

Each subcommand lives in its own module of this package and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Modules are found by name, so adding a command is
adding a file. Keep heavy imports (pyvista, Qt, pyarrow) inside ``run`` so ``--help`` stays fast.
A module that sets ``EXIT_WITHOUT_TEARDOWN = True`` lets the command line (:func:`entry`) leave without
Python's teardown once it is done (see :func:`leave`); one that sets ``SHOWS_WINDOW = True`` (``open``)
keeps VTK's default OpenGL windows, every other command renders offscreen through EGL.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import pkgutil
import sys
import threading

# Looking for pydantic plugins reads every installed package's metadata on the first model (14 ms here);
# TwinViewer uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from twinviewer import __version__  # noqa: E402
from twinviewer.core.errors import TwinViewerError  # noqa: E402


def refuse_split_bodies_for_project(target: str) -> None:
    """``--split-bodies`` (inspect, render) applies to a mesh file; a project says it per model file."""
    from pathlib import Path

    from twinviewer.core.twin import is_project_file

    if is_project_file(Path(target)):
        raise TwinViewerError("--split-bodies is for a mesh file; in a project, set split_bodies = true in "
                              "its [[models]] entry")


def _quiet_library_output() -> None:
    """Library warnings (numpy's RuntimeWarning on a hostile file, trimesh's log lines) must not appear
    beside the command's own one-line message; ``--debug`` shows them."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=RuntimeWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.getLogger().addHandler(logging.NullHandler())


def _command_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _build_parser(commands: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twinviewer",
        description="Offline digital-twin viewer. With no command, opens TARGET (a *.twin.toml project or a "
        "mesh file) in the window, or the bundled demo twin.",
    )
    parser.add_argument("--version", action="version", version=f"twinviewer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        module = importlib.import_module(f"twinviewer.cli.{name}")
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run,
                                    _exit_without_teardown=getattr(module, "EXIT_WITHOUT_TEARDOWN", False),
                                    _shows_window=getattr(module, "SHOWS_WINDOW", False))
    return parser


_finished_command_allows_quick_exit = False


def entry() -> None:
    """The ``twinviewer`` command line (console script, ``python -m twinviewer``, the bundled app)."""
    leave(main(gl_without_display=True))


def leave(status: int) -> None:
    """Exit with ``status``. After a command that allows it (``render``: an image written, its window
    closed), skip Python's teardown: freeing every VTK object and module one by one costs 0.05-0.08 s, a
    tenth of a small model's render. Output is flushed and ``atexit`` handlers run first (temporary folders
    go); with another thread still running, or anything else, the exit is the ordinary one."""
    alone = all(t.daemon or t is threading.main_thread() for t in threading.enumerate())
    if _finished_command_allows_quick_exit and alone:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):  # None in a windowed app; closed; a broken pipe
                pass
        os._exit(status)
    sys.exit(status)


def main(argv: list[str] | None = None, gl_without_display: bool = False) -> int:
    """Run one command; its exit status. ``gl_without_display``: a command that shows no window renders
    offscreen through EGL (:mod:`twinviewer.render.gl_window`); the command line asks for it, a caller
    that may also hold Qt windows in this process (the tests) does not."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _command_names()
    debug = "--debug" in argv or os.environ.get("TWINVIEWER_DEBUG") == "1"
    # `twinviewer model.glb` and `twinviewer` (no argument) open the window: route them to `open`.
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None and not any(a in ("-h", "--help", "--version") for a in argv):
        argv = ["open", *argv]
    elif first is not None and first not in commands:
        argv = ["open", *argv]
    # A command's own module is all its parser needs; importing all of them for the full list costs 20 ms.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = _build_parser([chosen] if chosen in commands else commands)
    args = parser.parse_args(argv)
    if not debug:
        _quiet_library_output()
    if gl_without_display and args.command is not None and not args._shows_window:
        from twinviewer.render.gl_window import render_without_display

        render_without_display()
    if args.command is None:
        parser.print_help()
        return 0
    global _finished_command_allows_quick_exit
    _finished_command_allows_quick_exit = False
    try:
        status = int(args._run(args) or 0)
        _finished_command_allows_quick_exit = bool(args._exit_without_teardown)
        return status
    except TwinViewerError as exc:
        if debug:
            raise
        print(f"twinviewer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twinviewer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` or similar, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the user gets one line; --debug gives the traceback
        if debug:
            raise
        target = next((a for a in argv[1:] if not a.startswith("-") and os.path.exists(a)), None)
        where = f" while reading {target}" if target else ""
        print(f"twinviewer: unexpected error{where} in `{args.command}`: {type(exc).__name__}: {str(exc)[:300]} "
              "(run with --debug for details)", file=sys.stderr)
        return 2
