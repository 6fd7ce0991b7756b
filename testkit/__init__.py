"""What the tests and the benchmarks share: fake data and a fake trainer (`testkit.fakes`), a run
store filled under a lease (`testkit.store`), the services a test made (`testkit.services`), and
a Streamlit server with Debian's Chromium (`testkit.server`). Not part of the product."""
