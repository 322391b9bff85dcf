import type { SeededRandom } from '../../graph/random.ts';
import { rowHas, type SparseRows } from './training-data.ts';

/**
 * The (user, positive item, negative item) triples of BPR training (Rendle et al. 2009): every training
 * positive pair once per epoch in a seeded shuffled order, each with a negative drawn uniformly from the
 * items that are not among that user's positives.
 */
export class TripleSampler {
  /** Pair p is (pairUser[p], pairItem[p]); `order` is the current epoch's permutation of pairs. */
  readonly pairUser: Uint32Array;
  readonly pairItem: Uint32Array;
  readonly order: Uint32Array;

  constructor(
    private readonly positives: SparseRows,
    private readonly random: SeededRandom,
  ) {
    const count = positives.index.length;
    this.pairUser = new Uint32Array(count);
    this.pairItem = positives.index;
    for (let u = 0; u < positives.rows; u++) this.pairUser.fill(u, positives.start[u], positives.start[u + 1]);
    this.order = new Uint32Array(count);
    for (let p = 0; p < count; p++) this.order[p] = p;
  }

  get pairCount(): number {
    return this.order.length;
  }

  /** Reshuffles the pairs for the next epoch. */
  shuffle(): void {
    this.random.shuffle(this.order);
  }

  /**
   * A uniformly drawn item the user has no training positive on, by rejection (users hold a small share of
   * the catalogue, so a draw or two suffices); −1 when the user is positive on every item.
   */
  negativeFor(user: number): number {
    const { positives, random } = this;
    const items = positives.cols;
    if (positives.start[user + 1]! - positives.start[user]! >= items) return -1;
    for (;;) {
      const j = random.int(items);
      if (!rowHas(positives, user, j)) return j;
    }
  }
}
