"""What the analyse stage reads out of a transcript."""
