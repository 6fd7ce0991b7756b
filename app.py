"""MNIST Explorer: `streamlit run app.py` (optionally `-- --data-dir FOLDER`)."""

from explorer.ui.page import main

main()
