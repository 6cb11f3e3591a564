"""How each table is read, below every front end (local sync, Lakeflow connector, Spark data
source, SDP pipeline): the mode and why, the read window or change set, and the schema every
destination gets."""
