/**
 * Maximal marginal relevance: picks items one at a time, each maximising
 *
 *   (1 − λ) · relevance(i) − λ · max_{j picked} similarity(i, j)
 *
 * λ = 0 keeps the relevance order; larger λ trades relevance for items unlike those already picked.
 * Relevance is the final score scaled to [0, 1] over the pool so that λ means the same for every request.
 * Works on pool positions: `relevance[i]`, `similarity(i, j)`; returns the positions picked, in order.
 */
export function diversify(relevance: readonly number[], similarity: (a: number, b: number) => number, count: number, lambda: number): number[] {
  const n = relevance.length;
  const order = Array.from({ length: n }, (_, i) => i);
  if (lambda <= 0 || n <= 1) return order.sort((a, b) => relevance[b]! - relevance[a]!).slice(0, count);
  let max = -Infinity;
  let min = Infinity;
  for (const s of relevance) {
    max = Math.max(max, s);
    min = Math.min(min, s);
  }
  const span = max - min || 1;
  const nearest = new Float64Array(n);
  const taken = new Uint8Array(n);
  const picked: number[] = [];
  while (picked.length < Math.min(count, n)) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      const value = ((1 - lambda) * (relevance[i]! - min)) / span - lambda * nearest[i]!;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    taken[best] = 1;
    picked.push(best);
    if (picked.length === count) break;
    for (let i = 0; i < n; i++) if (!taken[i]) nearest[i] = Math.max(nearest[i]!, similarity(i, best));
  }
  return picked;
}
