"""One GPU for each pool process of a GPU worker.

Reference code asks for ``cuda``, which is the first GPU a process may see; a worker with one pool
process per GPU would otherwise run them all on GPU 0. ``deploy/bin/gpu-worker`` exports
``AUTOGRADER_GPUS``, the GPUs ``nvidia-smi -L`` lists (``0,1``), and each pool process, as it
starts and before anything initializes CUDA, makes only the GPU of its pool index visible. The
pool gives a replaced process the index of the one it replaces, so it keeps its GPU.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)


def on_worker_process_init(sender=None, **kwargs) -> None:
    """``celery.signals.worker_process_init``: ``CUDA_VISIBLE_DEVICES`` = this process's GPU."""
    from billiard.process import current_process

    gpus = [gpu.strip() for gpu in os.environ.get("AUTOGRADER_GPUS", "").split(",") if gpu.strip()]
    process = current_process()
    if not gpus or process.name == "MainProcess":
        return
    gpu = gpus[getattr(process, "index", 0) % len(gpus)]
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    logger.info("pool process %d uses GPU %s", os.getpid(), gpu)
