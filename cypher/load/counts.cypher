// Sizes of the stored graph (each pattern has a label on at most one end, so Neo4j's count store answers it).
RETURN COUNT { (:User) } AS users, COUNT { (:Session) } AS sessions, COUNT { (:Item) } AS items,
  COUNT { (:Tag) } AS tags, COUNT { ()-[:INTERACTED]->() } AS interactions, COUNT { (:Item)-[:HAS_TAG]->() } AS itemTags
