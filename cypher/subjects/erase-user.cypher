// Erases a user: the node, every relationship (interactions, community membership) and the properties on
// it (embedding, community). Returns how many interactions went with it; no row when the user is unknown.
MATCH (subject:User {id: $subjectId})
WITH subject, COUNT { (subject)-[:INTERACTED]->() } AS interactions
DETACH DELETE subject
RETURN interactions
