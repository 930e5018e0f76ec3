from django.apps import AppConfig


class AutograderConfig(AppConfig):
    name = "autograder"
    verbose_name = "Autograder"

    def ready(self) -> None:
        # Only Celery workers send these; in the web process they never fire.
        from celery.signals import (
            worker_process_init,
            worker_ready,
            worker_shutdown,
            worker_shutting_down,
        )

        from autograder import gpus, shutdown, workers

        worker_ready.connect(workers.on_worker_ready, weak=False)
        worker_shutdown.connect(workers.on_worker_shutdown, weak=False)
        # First: a pool process leaves the worker's process group before its slow warm-up, or a
        # stop signalled to the group during the warm-up still reaches it.
        worker_process_init.connect(shutdown.on_worker_process_init, weak=False)
        worker_process_init.connect(gpus.on_worker_process_init, weak=False)  # before any CUDA
        worker_process_init.connect(workers.on_worker_process_init, weak=False)
        worker_shutting_down.connect(shutdown.on_worker_shutting_down, weak=False)
        worker_shutdown.connect(shutdown.on_worker_shutdown, weak=False)
