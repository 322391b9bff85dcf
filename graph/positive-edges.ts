import { baseWeight, type WeightPolicy } from './edge-weight.ts';
import { EdgeTypeCode, POSITIVE_INTERACTION_TYPES, POSITIVE_RATING_STARS } from './model.ts';

/** Decides positives from an edge's type code and base weight (the graph keeps no raw star values). */
export class PositiveEdges {
  private readonly positiveType = new Uint8Array(32);
  private readonly ratingFloor: number;

  constructor(policy: WeightPolicy) {
    for (const t of POSITIVE_INTERACTION_TYPES) this.positiveType[EdgeTypeCode[t]] = 1;
    this.ratingFloor = baseWeight(policy, 'rating', POSITIVE_RATING_STARS);
  }

  isPositive(typeCode: number, weight: number): boolean {
    if (typeCode === EdgeTypeCode.rating) return weight >= this.ratingFloor - 1e-9;
    return this.positiveType[typeCode] === 1;
  }
}
