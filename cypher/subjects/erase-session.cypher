// Erases a session: the node, every relationship (interactions, community membership) and the properties on
// it (embedding, community). Returns how many interactions went with it; no row when the session is unknown.
MATCH (subject:Session {id: $subjectId})
WITH subject, COUNT { (subject)-[:INTERACTED]->() } AS interactions
DETACH DELETE subject
RETURN interactions
