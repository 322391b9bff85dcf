// The width each existing embedding index was made for: a model of another width needs them rebuilt.
SHOW VECTOR INDEXES YIELD name, options
WHERE name IN ['item_embedding', 'user_embedding']
RETURN name, options.indexConfig['vector.dimensions'] AS dimensions
