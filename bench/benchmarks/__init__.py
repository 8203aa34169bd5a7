"""One module per benchmark of bench/run.py --only: NAME_rows(runner)
measures it and returns its rows (report.py renders them)."""
