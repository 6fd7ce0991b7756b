"""What the tests and the benchmarks share: fake data and a fake trainer (`testkit.fakes`), and a
Streamlit server with Debian's Chromium (`testkit.server`). Not part of the product."""
