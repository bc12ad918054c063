"""The charts of a report, one module per kind of figure; ``report.plots`` assembles them."""
