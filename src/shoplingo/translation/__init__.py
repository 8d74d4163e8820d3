"""Translation: segments, runs, translation memory, the pipeline and the model providers."""
