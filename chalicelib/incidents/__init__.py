"""Storms: near-duplicate signatures of posts, clusters in sliding windows, incidents."""
