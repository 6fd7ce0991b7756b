"""What the page draws, without Streamlit: Altair charts (`charts`), the comparison math
(`comparison`), digits as PNG and HTML (`digits`), first-layer weights as pictures and hidden
activations (`network`), a run as a zip to take home (`export`), runs as rows, CSV and JSON
(`reports`), and numbers as text (`text`)."""
