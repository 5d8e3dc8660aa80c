//! (filled in by its commit)
