"""What the page draws, without Streamlit: Altair charts (`charts`), the comparison math
(`comparison`), every figure of a run with its label and formats (`metrics_table`), digits as PNG
and HTML (`digits`), first-layer weights as pictures and hidden activations (`network`), a run as
a zip to take home (`export`), runs as rows, CSV and JSON (`reports`), numbers as text (`text`),
statistics over seeds (`stats`), repeats over seeds and groups of them compared (`repeats`, drawn
by `repeat_charts`), and sweeps of one or two settings (`sweeps`: the format, its runs and
figures; drawn by `sweep_charts`)."""
