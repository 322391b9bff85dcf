import type { CatalogueItem } from '../catalogue/catalogue-item.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';

/** What a loader streams out of its files, one record per data row. */
export type LoadRecord =
  | {
      kind: 'item';
      file: string;
      line: number;
      item: CatalogueItem;
      /**
       * Set when the item's tags were counted from the events' own tags (`context.tags`, a list of tag names):
       * the tags at least `minSubjects` distinct subjects gave the item. Offline evaluation re-counts them from
       * its training split, since tags counted over held-out events would leak those events into training.
       */
      derivedTags?: { readonly minSubjects: number };
    }
  /** Raw: the engine validates events when they are ingested. */
  | { kind: 'event'; file: string; line: number; event: InteractionEventInput }
  /** A row that could not be read; the load goes on with the next one. */
  | { kind: 'error'; file: string; line: number; message: string };

export const LOADER_FORMATS = ['movielens', 'movielens-100k', 'lastfm-hetrec', 'csv', 'jsonl'] as const;
export type LoaderFormat = (typeof LOADER_FORMATS)[number];

export function isLoaderFormat(value: string): value is LoaderFormat {
  return (LOADER_FORMATS as readonly string[]).includes(value);
}

export interface DataFile {
  /** As the user named it (joined onto the folder they gave), so messages point where they looked. */
  readonly path: string;
  readonly bytes: number;
}

/** Bytes read so far in one pass over a loader's files; the readers add to it as chunks arrive. */
export class ReadProgress {
  bytes = 0;
}

/** `file:line: message`, the form editors and terminals turn into links. */
export function describeLoadError(record: { file: string; line: number; message: string }): string {
  return `${record.file}:${record.line}: ${record.message}`;
}
