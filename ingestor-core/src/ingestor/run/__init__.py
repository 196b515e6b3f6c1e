"""The run, step by step: scan, parts, plan, (staging), load, fate, settle; the lease, the ledger and stopping."""
