"""The local lakehouse sync: Airtable tables into Delta tables on disk (no JVM)."""
