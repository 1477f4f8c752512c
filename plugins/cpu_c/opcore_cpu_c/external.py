"""ExternalCOp (below)."""
class ExternalCOp: pass
