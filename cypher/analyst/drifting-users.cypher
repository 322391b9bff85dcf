// Users whose dominant interest community changed since $since (epoch milliseconds), newest first, and
// the flows between communities (how many users moved from which to which).
//
// Parameters: $since (e.g. timestamp() - 7 * 86400000), $limit (e.g. 100)
MATCH (user:User)
WHERE user.previousCommunity IS NOT NULL AND user.communityChangedAt >= $since
WITH user
ORDER BY user.communityChangedAt DESC
WITH collect(user) AS movers
CALL {
  WITH movers
  UNWIND movers AS user
  RETURN user.previousCommunity AS fromCommunity, user.community AS toCommunity, count(*) AS users
  ORDER BY users DESC
  LIMIT 20
}
RETURN fromCommunity, toCommunity, users,
  [user IN movers[0..$limit] WHERE user.previousCommunity = fromCommunity AND user.community = toCommunity | user.id] AS sampleUsers
