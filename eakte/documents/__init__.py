"""Documents of a case file and their immutable versions in object storage."""
