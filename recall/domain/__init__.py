"""The recall rules as plain Python: no database, dataframe, workflow or telephony imports."""
