import type { WeightPolicy } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { EDGE_TYPES, type EdgeType, type NodeKind, NodeKindCode } from '../../graph/model.ts';
import type { ItemCatalogue } from '../catalogue/item-catalogue.ts';

/**
 * Why an item was recommended, as a path of real nodes and edges of the interest graph at answer time,
 * with the share of the item's score that flowed along it and a sentence a person can read.
 */
export interface PathNode {
  readonly kind: NodeKind;
  readonly id: string;
  /** A title for items, the tag's name for tags, the id otherwise. */
  readonly label: string;
}

export interface PathEdge {
  /** Indexes into the path's nodes, in the graph's direction (subject → item, item → tag). */
  readonly from: number;
  readonly to: number;
  readonly type: EdgeType;
  /** ISO 8601; catalogue edges carry the time the item was last upserted. */
  readonly timestamp: string;
  /** Base weight of the interaction (1 for tags). */
  readonly weight: number;
  /** Stars, for ratings. */
  readonly stars?: number;
}

export type PathKind = 'co-interaction' | 'shared-tag' | 'trending';

export interface ExplanationPath {
  readonly kind: PathKind;
  readonly nodes: readonly PathNode[];
  readonly edges: readonly PathEdge[];
  /** Share of the item's score that this path accounts for, in [0, 1]. */
  readonly weight: number;
  readonly sentence: string;
}

/**
 * Path nodes kept from one response to the next: the same items and tags come back request after
 * request, and naming an item looks up its catalogue record. Cleared when the catalogue changes, when
 * the graph is another one, and (`clear`) when a node is removed, since its index may be reused.
 */
export class PathNodes {
  private nodes: Array<PathNode | undefined> = [];
  private graph: InterestGraph | null = null;
  private catalogueRevision = -1;

  constructor(private readonly catalogue: ItemCatalogue) {}

  node(graph: InterestGraph, node: number): PathNode {
    if (graph !== this.graph || this.catalogue.revision !== this.catalogueRevision) {
      this.clear();
      this.graph = graph;
      this.catalogueRevision = this.catalogue.revision;
    }
    let written = this.nodes[node];
    if (!written) {
      const kind = graph.nodeKind(node);
      const id = graph.externalId(node);
      written = { kind, id, label: kind === 'item' ? this.catalogue.title(id) : kind === 'tag' ? tagLabel(id) : id };
      this.nodes[node] = written;
    }
    return written;
  }

  clear(): void {
    this.nodes = [];
  }
}

/** Who a response may name: everyone, or only its subject (others then appear as `someone-1`, …). */
export interface PathPrivacy {
  readonly anonymiseOthers: boolean;
  /** The request's subject node (-1 for item-based requests: everyone is another then). */
  readonly subject: number;
}

const NAME_EVERYONE: PathPrivacy = { anonymiseOthers: false, subject: -1 };

/**
 * Builds path nodes, edges and sentences from graph ids; one per response. The subject, its seeds and
 * their edges start many of a response's paths, so each edge and action is written once and shared.
 */
export class PathWriter {
  /** By edge and its two positions in the path (each below 8: a path has at most four nodes). */
  private readonly edges = new Map<number, PathEdge>();
  private readonly actions = new Map<number, string>();
  /** The other people on the current item's paths, in order of appearance: `someone-<position + 1>`. */
  private readonly others: number[] = [];

  constructor(
    private readonly graph: InterestGraph,
    private readonly nodes: PathNodes,
    private readonly policy: WeightPolicy,
    private readonly privacy: PathPrivacy = NAME_EVERYONE,
  ) {}

  /**
   * Starts an item's paths. Anonymous people are numbered per item, so one person on two of its paths is
   * one node (the page draws an item's paths as one graph), and nothing links people across items.
   */
  startItem(): void {
    this.others.length = 0;
  }

  node(node: number): PathNode {
    if (this.privacy.anonymiseOthers && node !== this.privacy.subject) {
      const kind = this.graph.nodeKindCode(node);
      if (kind === NodeKindCode.user || kind === NodeKindCode.session) return this.someone(node, kind);
    }
    return this.nodes.node(this.graph, node);
  }

  /** Another user or session without its id: the kind stays (a person), the id is `someone-<n>`. */
  private someone(node: number, kind: number): PathNode {
    let n = this.others.indexOf(node);
    if (n < 0) n = this.others.push(node) - 1;
    return anonymousNode(kind === NodeKindCode.user ? 'user' : 'session', n + 1);
  }

  edge(e: number, from: number, to: number): PathEdge {
    const key = e * 64 + from * 8 + to;
    let written = from < 8 && to < 8 ? this.edges.get(key) : undefined;
    if (!written) {
      written = this.writeEdge(e, from, to);
      if (from < 8 && to < 8) this.edges.set(key, written);
    }
    return written;
  }

  private writeEdge(e: number, from: number, to: number): PathEdge {
    const type = EDGE_TYPES[this.graph.edgeTypeCode(e)]!;
    const weight = this.graph.edgeBaseWeight(e);
    const stars = type === 'rating' ? starsOf(this.policy, weight) : undefined;
    return {
      from,
      to,
      type,
      timestamp: isoTimestamp(this.graph.edgeTimestamp(e)),
      weight: Math.round(weight * 1e4) / 1e4,
      ...(stars !== undefined ? { stars } : {}),
    };
  }

  /** "rated Alien 5★", "bought Alien", … for a subject's interaction edge. */
  action(e: number): string {
    let written = this.actions.get(e);
    if (written === undefined) {
      written = this.writeAction(e);
      this.actions.set(e, written);
    }
    return written;
  }

  private writeAction(e: number): string {
    const title = this.title(this.graph.edgeTarget(e));
    switch (EDGE_TYPES[this.graph.edgeTypeCode(e)]) {
      case 'rating':
        return `rated ${title} ${starsOf(this.policy, this.graph.edgeBaseWeight(e))}★`;
      case 'purchase':
        return `bought ${title}`;
      case 'add_to_cart':
        return `added ${title} to your cart`;
      case 'like':
        return `liked ${title}`;
      case 'click':
        return `clicked ${title}`;
      case 'view':
        return `viewed ${title}`;
      default:
        return `interacted with ${title}`;
    }
  }

  title(item: number): string {
    return this.node(item).label;
  }
}

/** Anonymous path nodes by kind and number, written once: responses share them. */
const ANONYMOUS: Record<'user' | 'session', PathNode[]> = { user: [], session: [] };

function anonymousNode(kind: 'user' | 'session', n: number): PathNode {
  const written = ANONYMOUS[kind];
  while (written.length < n) written.push(Object.freeze({ kind, id: `someone-${written.length + 1}`, label: 'someone' }));
  return written[n - 1]!;
}

const DAY_MS = 86_400_000;
/** 0000-01-01 and 10000-01-01 in epoch milliseconds: `isoTimestamp` formats the years in between itself. */
const FIRST_FOUR_DIGIT_YEAR_MS = -62_167_219_200_000;
const FIRST_FIVE_DIGIT_YEAR_MS = 253_402_300_800_000;

/** The character code of digit `d` (0–9). */
const digit = (d: number): number => 48 + d;

/**
 * `new Date(ms).toISOString()`, several times faster (a request writes about a hundred and fifty of
 * them): the civil date from the day number (H. Hinnant's days-to-civil), then the time of day, made
 * as one string from its character codes (joining padded parts made six strings per timestamp). Other
 * years go to Date.
 */
export function isoTimestamp(ms: number): string {
  if (!Number.isInteger(ms) || ms < FIRST_FOUR_DIGIT_YEAR_MS || ms >= FIRST_FIVE_DIGIT_YEAR_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const m5 = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * m5 + 2) / 5) + 1;
  const month = m5 < 10 ? m5 + 3 : m5 - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return String.fromCharCode(
    digit(Math.floor(year / 1000)),
    digit(Math.floor(year / 100) % 10),
    digit(Math.floor(year / 10) % 10),
    digit(year % 10),
    45, // -
    digit(Math.floor(month / 10)),
    digit(month % 10),
    45,
    digit(Math.floor(day / 10)),
    digit(day % 10),
    84, // T
    digit(Math.floor(hours / 10)),
    digit(hours % 10),
    58, // :
    digit(Math.floor(minutes / 10)),
    digit(minutes % 10),
    58,
    digit(Math.floor(seconds / 10)),
    digit(seconds % 10),
    46, // .
    digit(Math.floor(millis / 100)),
    digit(Math.floor(millis / 10) % 10),
    digit(millis % 10),
    90, // Z
  );
}

/** `genre:Sci-Fi` → `Sci-Fi`; tags without a prefix stay as they are. */
export function tagLabel(tagId: string): string {
  const colon = tagId.indexOf(':');
  return colon >= 0 && colon < tagId.length - 1 ? tagId.slice(colon + 1) : tagId;
}

export function people(n: number): string {
  return n === 1 ? '1 person' : `${groupedDigits(n)} people`;
}

/**
 * A count with commas between thousands, as `toLocaleString('en-US')` writes it; that call goes through
 * ICU and took 6 % of the explanations' time.
 */
export function groupedDigits(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let at = out.length; at < digits.length; at += 3) out += `,${digits.slice(at, at + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** The star rating behind a rating edge's base weight (the policy's mapping inverted), to the half star. */
export function starsOf(policy: WeightPolicy, baseWeight: number): number {
  const scale = policy.typeWeights.rating || 1;
  const w = baseWeight / scale;
  const s = policy.ratingStars;
  if (w <= s[0]) return 1;
  for (let k = 0; k < 4; k++) {
    const lo = s[k]!;
    const hi = s[k + 1]!;
    if (w <= hi) return Math.round((k + 1 + (hi === lo ? 0 : (w - lo) / (hi - lo))) * 2) / 2;
  }
  return 5;
}
