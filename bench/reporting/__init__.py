"""The parts of bench/report.py: one module per section, the charts, the
formatting."""
