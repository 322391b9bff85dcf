// Removes communities that the latest run no longer has, with their membership relationships.
MATCH (community:Community)
WHERE NOT community.id IN $ids
DETACH DELETE community
