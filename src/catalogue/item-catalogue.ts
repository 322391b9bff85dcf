import type { CatalogueItem } from './catalogue-item.ts';

/**
 * The catalogue records (titles, attributes) held in memory, by item id: recommendations filter on
 * attributes and explanations name items by title on every request, too often to ask the store. Tags are
 * not kept here: they are edges of the interest graph.
 */
export interface ItemRecord {
  readonly title: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

const PAGE = 1_000;
const NO_ATTRIBUTES: Readonly<Record<string, unknown>> = Object.freeze({});

/** What loading the catalogue needs of a store: its items in id order, a page at a time. */
export interface CatalogueSource {
  listItems(page: { after?: string; limit: number }): Promise<CatalogueItem[]>;
}

export class ItemCatalogue {
  private readonly records = new Map<string, ItemRecord>();
  private changes = 0;

  /** Reads every record from a store (any `GraphStore`), a page at a time. */
  static async load(store: CatalogueSource): Promise<ItemCatalogue> {
    const catalogue = new ItemCatalogue();
    let after: string | undefined;
    for (;;) {
      const page = await store.listItems(after === undefined ? { limit: PAGE } : { after, limit: PAGE });
      for (const item of page) catalogue.put(item);
      if (page.length < PAGE) return catalogue;
      after = page[page.length - 1]!.id;
    }
  }

  put(item: CatalogueItem): void {
    this.records.set(item.id, { title: item.title, attributes: item.attributes ?? NO_ATTRIBUTES });
    this.changes++;
  }

  delete(itemId: string): void {
    if (this.records.delete(itemId)) this.changes++;
  }

  /** Counts every change: whatever was derived from the records at one revision still holds while it stays. */
  get revision(): number {
    return this.changes;
  }

  get(itemId: string): ItemRecord | undefined {
    return this.records.get(itemId);
  }

  /** Every catalogued item's id and title (search). */
  *titles(): IterableIterator<[string, string]> {
    for (const [id, record] of this.records) yield [id, record.title];
  }

  /** The item's title, or its id when it has no catalogue record (items known only from interactions). */
  title(itemId: string): string {
    return this.records.get(itemId)?.title ?? itemId;
  }

  get size(): number {
    return this.records.size;
  }
}
