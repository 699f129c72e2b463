"""Run Ralph's LRS app (``ralph.api:app``) under uvicorn: ``ralph_lrs.py PORT [stock]``.

Run with Ralph's own Python (``.peers/ralph-venv``), configured by ``RALPH_*`` variables
(``scripts/demo_lrs.sh``, ``tests/peers/ralph.py``). One fix is applied unless ``stock`` is
given: Ralph 5.1.0's file-system LRS backend writes with the "create" operation, which refuses
its existing file, so stock Ralph answers 500 to every write after the first; "append" is what
an LRS needs.
"""

import sys

import uvicorn

if __name__ == "__main__":
    if sys.argv[2:3] != ["stock"]:
        from ralph.backends.data.base import BaseOperationType
        from ralph.backends.lrs.fs import FSLRSBackend

        FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
