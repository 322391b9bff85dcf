// A user's interest mix over communities: IN_COMMUNITY relationships with each community's share, the
// dominant community as a property, and when it last changed and from what (for drift queries).
// $rows: [{id, community, mix: [{community, share}]}]; $computedAt: epoch milliseconds.
UNWIND $rows AS row
MATCH (user:User {id: row.id})
WITH user, row, user.community AS before
SET user.community = row.community,
  user.previousCommunity = CASE WHEN before IS NOT NULL AND before <> row.community THEN before ELSE user.previousCommunity END,
  user.communityChangedAt = CASE WHEN before IS NULL OR before <> row.community THEN $computedAt ELSE user.communityChangedAt END
FOREACH (old IN [(user)-[r:IN_COMMUNITY]->() | r] | DELETE old)
FOREACH (part IN row.mix |
  MERGE (community:Community {id: part.community})
  CREATE (user)-[:IN_COMMUNITY {share: part.share}]->(community)
)
