"""Reports read results from the store and format them; they never measure."""
