"""Full-text search of document content: extraction worker and one interface over two indexes."""
