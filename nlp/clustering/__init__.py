"""Same-issue clusters: the semantic clusterer, cluster descriptions, the stored cluster state and
the review of clusters by staff."""
