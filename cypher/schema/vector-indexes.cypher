// Vector indexes on the embeddings written back after training ($dimensions: the model's width), for
// nearest-neighbour queries in Cypher (cosine, as the engine ranks by).
CREATE VECTOR INDEX item_embedding IF NOT EXISTS
FOR (i:Item) ON (i.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}};
CREATE VECTOR INDEX user_embedding IF NOT EXISTS
FOR (u:User) ON (u.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}};
