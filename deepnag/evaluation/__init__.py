"""After training: figures of a checkpoint, quality metrics, the held-out-writer study and their reports; it only measures."""
