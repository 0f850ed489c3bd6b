"""Speed measurements: one command each (`python -m benchmarks.<name>`), `python -m benchmarks` runs them all.

Each prints a table and writes `benchmarks/results/<name>.json` (git-ignored); `benchmarks.readme_figures`
copies the latest figures into README.md. Nothing here is a timed assertion: the test suite only runs tiny
smoke sizes to keep the commands working.
"""
