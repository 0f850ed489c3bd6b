"""likepredict: predict Instagram likes before posting, rank drafts, suggest hashtags."""

__version__ = "0.1.0"
