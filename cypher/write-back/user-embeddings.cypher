// Writes user embeddings as vector properties (float32, indexed by user_embedding) with the model version.
// $rows: [{id, embedding}]; ids no longer in the graph are skipped.
UNWIND $rows AS row
MATCH (node:User {id: row.id})
CALL db.create.setNodeVectorProperty(node, 'embedding', row.embedding)
SET node.modelVersion = $version
