"""MNIST Explorer: `streamlit run app.py` (optionally `-- --data-dir FOLDER`).

Streamlit imports this file once when the server starts, to serve `app` (its start-up work is in
explorer.ui.startup), and runs it as the script of every page view.
"""

import streamlit as st

if __name__ == "__main__":  # a page view
    from explorer.ui.page import main

    main()
else:  # the server's start
    from explorer.ui.startup import lifespan

    app = st.App(__file__, lifespan=lifespan)
