"""After training: sampling a checkpoint, figures, export, quality metrics, recognisers and reports."""
