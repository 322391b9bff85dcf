/** The data loaders' public surface: open a file or folder, stream its records. */
export { openLoader, type Loader } from './open-loader.ts';
export {
  LOADER_FORMATS,
  describeLoadError,
  isLoaderFormat,
  type DataFile,
  type LoadRecord,
  type LoaderFormat,
} from './load-record.ts';
export { EVENT_CSV_COLUMNS } from './event-csv.ts';
export { MOVIELENS_100K_GENRES } from './movielens-100k.ts';
