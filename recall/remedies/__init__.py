"""What happens after a remedy is agreed: fulfilment, returns at the till, incidents."""
