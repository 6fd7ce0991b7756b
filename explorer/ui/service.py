"""The one training service of this server process, shared by every browser session."""

from __future__ import annotations

import argparse
import os
import sys

import streamlit as st

from explorer.jobs import TrainingService, create_service


def data_dir_argument(argv: list[str] | None = None) -> str | None:
    """`--data-dir D` given after `streamlit run app.py --` (None: look elsewhere)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data-dir")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.data_dir


def get_service() -> TrainingService:
    """The service for this server's data folder and run store, made on the first page view."""
    return _service_for(data_dir_argument(), os.environ.get("EXPLORER_HOME"))


@st.cache_resource(show_spinner=False)
def _service_for(data_dir: str | None, home: str | None) -> TrainingService:
    # Lives as long as the server (st.cache_resource); keyed by where data and runs live.
    return create_service(data_dir, home)
