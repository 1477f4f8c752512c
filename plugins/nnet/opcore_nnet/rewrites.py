def register_all(rewrites):
    pass
