"""Run the scripted evaluation: a thin wrapper over `rag eval` (same flags).

    python eval/run.py --qa eval/qa_dev.jsonl --out eval/out [--baseline] [--backend NAME]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.cli import main

if __name__ == "__main__":
    main(["eval", *sys.argv[1:]])
