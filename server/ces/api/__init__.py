"""HTTP adapters: blueprints that parse, call the core or storage, and answer JSON."""
