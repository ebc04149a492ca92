"""From files to arrays: input checks, several model inputs, image paths, the cache."""
