"""The demo chain: a deterministic simulated restaurant chain, loaded like real data."""
