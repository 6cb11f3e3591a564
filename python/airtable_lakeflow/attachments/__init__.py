"""Attachment files kept beyond their 2-hour URLs: a content store keyed by attachment id
(`store`), downloads from Airtable's file host (`download`), and what a table's read does with
them (`persist`: every attachment cell gets the stored file's path and checksum, or the reason
it was not stored). Off unless a table says `store_attachments: true`."""
