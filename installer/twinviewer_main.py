"""Entry point of the bundled app (PyInstaller): the ``twinviewer`` command.

The app starts some work in child processes as ``sys.executable -m twinviewer.<module> ARGS`` (display
stand-ins, STEP import). In a bundle ``sys.executable`` is this program, not a Python interpreter, so
``-m twinviewer.<module>`` is handled here the way Python would; any other first argument is the CLI's.
"""

import sys


def main() -> int:
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()  # a library's multiprocessing child re-enters here
    if len(sys.argv) >= 3 and sys.argv[1] == "-m" and sys.argv[2].split(".")[0] == "twinviewer":
        import runpy

        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from twinviewer.cli import entry

    entry()
    return 0


if __name__ == "__main__":
    sys.exit(main())
