// Users whose dominant interest community changed since $since (epoch milliseconds): the flows between
// communities (how many users moved from which to which), largest first, with a few of the users in each.
//
// Parameters (Neo4j Browser: use the `=>` form so numbers are integers):
//   :param since => timestamp() - 7 * 86400000
//   :param limit => 20
MATCH (user:User)
WHERE user.previousCommunity IS NOT NULL AND user.communityChangedAt >= $since
WITH user
ORDER BY user.communityChangedAt DESC
WITH user.previousCommunity AS fromCommunity, user.community AS toCommunity, collect(user.id) AS movers
RETURN fromCommunity, toCommunity, size(movers) AS users, movers[0..5] AS newestMovers
ORDER BY users DESC
LIMIT $limit
