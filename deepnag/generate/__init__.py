"""From a checkpoint or real samples to synthetic gestures on disk: sampling a generator, the synthesizers (vetting included), npz and native files."""
