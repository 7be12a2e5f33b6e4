"""Text stages that look at one opinion at a time: normalise, mask personal data, segment."""
