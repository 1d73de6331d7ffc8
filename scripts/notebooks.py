"""Keeps notebooks/*.ipynb honest: stored without outputs, and runnable top to bottom.

    python scripts/notebooks.py check   NOTEBOOK...   fail if any code cell stores outputs,
                                                   an execution count or execution timings
    python scripts/notebooks.py strip   NOTEBOOK...   remove all three, in place
    python scripts/notebooks.py execute NOTEBOOK...   run each headless (nbclient); fail on any error

`execute` runs each notebook in its own directory with a fresh python3 kernel of the current
interpreter and never writes the executed copy back. Needs nbformat and nbclient
(notebooks/requirements.txt).
"""

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat


def stored_outputs(notebook):
    """Code cells (1-based) that carry outputs, an execution count or execution timings."""
    return [
        index
        for index, cell in enumerate(notebook.cells, start=1)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None or "execution" in cell.metadata)
    ]


def check(paths):
    dirty = 0
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        cells = stored_outputs(notebook)
        if cells:
            dirty += 1
            print(f"{path}: outputs, execution counts or timings stored in code cells {cells} "
                  f"(clear them: python scripts/notebooks.py strip {path})", file=sys.stderr)
    return 1 if dirty else 0


def strip(paths):
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if stored_outputs(notebook):
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    cell.outputs = []
                    cell.execution_count = None
                    cell.metadata.pop("execution", None)
            nbformat.write(notebook, path)
            print(f"{path}: outputs cleared")
    return 0


def execute(paths):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    failed = 0
    sockets = tempfile.mkdtemp(prefix="braingap-nb-")
    try:
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            started = time.monotonic()
            # No kernel directories: only ipykernel's own python3 spec, i.e. this interpreter
            # (the venv's), whatever kernelspecs the user has installed elsewhere. Local
            # sockets (ipc, at an absolute path: kernel and client run in different
            # directories) rather than TCP ports, so nothing listens on the network.
            kernel = KernelManager(
                kernel_name="python3",
                kernel_spec_manager=KernelSpecManager(kernel_dirs=[]),
                transport="ipc",
                ip=str(Path(sockets) / "kernel"),
            )
            client = NotebookClient(
                notebook,
                km=kernel,
                timeout=600,
                resources={"metadata": {"path": str(Path(path).resolve().parent)}},
            )
            try:
                client.execute()
            except Exception as error:  # a cell error, a timeout, a dead kernel: all fail the notebook
                failed += 1
                plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # IPython colours its tracebacks
                print(f"FAILED {path} after {time.monotonic() - started:.1f} s: {type(error).__name__}\n{plain}",
                      file=sys.stderr)
                continue
            finally:
                # nbclient leaves running a kernel it was handed
                if kernel.has_kernel:
                    kernel.shutdown_kernel()
            print(f"ok     {path} ({time.monotonic() - started:.1f} s)")
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return 1 if failed else 0


def main(argv):
    commands = {"check": check, "strip": strip, "execute": execute}
    if len(argv) < 3 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
