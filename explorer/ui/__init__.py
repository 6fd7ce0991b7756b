"""The page's parts: the only Streamlit code besides app.py. No training logic lives here."""
