"""From a checkpoint or real samples to synthetic gestures on disk: sampling a generator, the synthesizers, npz and native files."""
