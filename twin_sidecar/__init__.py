"""The twin sidecar: a live digital twin of the RAN beside each control xApp (see README.md)."""
