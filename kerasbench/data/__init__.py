"""Input data for the workers: synthetic arrays now, real datasets beside them."""
