"""The harness of bench/run.py: processes.py runs and samples the
processes, rows.py turns measurements into table rows."""
