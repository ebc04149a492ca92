"""What happens to a training batch: the key table, draws, transforms, warps, batches."""
