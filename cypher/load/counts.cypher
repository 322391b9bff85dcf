// Sizes of the stored graph (served from Neo4j's count store).
RETURN COUNT { (:User) } AS users, COUNT { (:Session) } AS sessions, COUNT { (:Item) } AS items,
  COUNT { (:Tag) } AS tags, COUNT { ()-[:INTERACTED]->() } AS interactions, COUNT { (:Item)-[:HAS_TAG]->(:Tag) } AS itemTags
