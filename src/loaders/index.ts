/** The data loaders' public surface: open a file or folder, stream its records. */
export { EVENT_CSV_COLUMNS } from './event-csv.ts';
export { type DataFile, describeLoadError, isLoaderFormat, LOADER_FORMATS, type LoaderFormat, type LoadRecord } from './load-record.ts';
export { MOVIELENS_100K_GENRES } from './movielens-100k.ts';
export { type Loader, openLoader } from './open-loader.ts';
