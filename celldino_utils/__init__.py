"""Cell-DINO companion: train, embed, batch-correct and evaluate self-supervised microscopy embeddings."""

__version__ = "0.1.0"
