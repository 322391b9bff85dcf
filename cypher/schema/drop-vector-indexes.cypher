// Drops the embedding indexes (when the model's width changed); vector-indexes.cypher makes them anew.
DROP INDEX item_embedding IF EXISTS;
DROP INDEX user_embedding IF EXISTS;
