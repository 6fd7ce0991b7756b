"""Services a test made, ended with it: the page's service, made on a page view in AppTest,
trains in child processes that must not outlive their test.

    with services_made() as made:     # every TrainingService made inside the block ...
        run_the_page()
    # ... is shut down here; `made` lists them
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from explorer.service.service import TrainingService


@contextlib.contextmanager
def services_made() -> Iterator[list[TrainingService]]:
    """Note every TrainingService made inside the block and shut each down when it ends (those
    made before it, by a module-scoped fixture say, live on)."""
    made: list[TrainingService] = []
    original = TrainingService.__init__

    def note(service: TrainingService, *arguments, **options) -> None:
        original(service, *arguments, **options)
        made.append(service)

    TrainingService.__init__ = note
    try:
        yield made
    finally:
        TrainingService.__init__ = original
        for service in made:
            service.shutdown()
