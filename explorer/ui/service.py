"""The one training service of this server process, shared by every browser session."""

from __future__ import annotations

import argparse
import sys

import streamlit as st

from explorer.jobs import TrainingService, create_service


def data_dir_argument(argv: list[str] | None = None) -> str | None:
    """`--data-dir D` given after `streamlit run app.py --` (None: EXPLORER_DATA_DIR or the rest)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data-dir")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.data_dir


@st.cache_resource(show_spinner=False)
def get_service() -> TrainingService:
    """Created on the first page view; lives as long as the server (st.cache_resource)."""
    return create_service(data_dir_argument())
