"""What the page draws, without Streamlit: Altair charts (`charts`), the comparison math
(`comparison`), digits as PNG and HTML (`digits`), runs as rows, CSV and JSON (`reports`), and
numbers as text (`text`)."""
