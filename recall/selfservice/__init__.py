"""The self-service page: a customer answers the recall from the link in their notice."""
