/**
 * Maximal marginal relevance: picks items one at a time, each maximising
 *
 *   (1 − λ) · relevance(i) − λ · max_{j picked} similarity(i, j)
 *
 * λ = 0 keeps the relevance order; larger λ trades relevance for items unlike those already picked.
 * Relevance is the final score scaled to [0, 1] over the pool so that λ means the same for every request.
 */
export function diversify<T>(
  pool: readonly T[],
  relevance: (candidate: T) => number,
  similarity: (a: T, b: T) => number,
  count: number,
  lambda: number,
): T[] {
  if (lambda <= 0 || pool.length <= 1) return [...pool].sort((a, b) => relevance(b) - relevance(a)).slice(0, count);
  const scores = pool.map(relevance);
  let max = -Infinity;
  let min = Infinity;
  for (const s of scores) {
    max = Math.max(max, s);
    min = Math.min(min, s);
  }
  const span = max - min || 1;
  const scaled = scores.map((s) => (s - min) / span);
  const nearest = new Float64Array(pool.length).fill(0);
  const taken = new Uint8Array(pool.length);
  const picked: T[] = [];
  while (picked.length < Math.min(count, pool.length)) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < pool.length; i++) {
      if (taken[i]) continue;
      const value = (1 - lambda) * scaled[i]! - lambda * nearest[i]!;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    taken[best] = 1;
    picked.push(pool[best]!);
    for (let i = 0; i < pool.length; i++) {
      if (!taken[i]) nearest[i] = Math.max(nearest[i]!, similarity(pool[i]!, pool[best]!));
    }
  }
  return picked;
}
