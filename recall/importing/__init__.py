"""Loading the retailer's loyalty export: sniffing, validating, bulk loading."""
