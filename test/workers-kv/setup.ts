// KV-only phase (PERSISTENCE_ENABLED=false): no data service; KV is the store behind the DOs.
export {};
