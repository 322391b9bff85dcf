import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

import { StorageFullError } from './errors.ts';

/**
 * Writes a whole file or nothing: to a temporary name, flushed, then renamed over `file`. A failure (a full
 * disk above all) removes the temporary file, so no half-written file is left to be read back later; a full
 * disk or quota is reported as StorageFullError.
 */
export function writeFileDurably(file: string, data: Uint8Array, mode = 0o666): void {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(temporary, 'w', mode);
    try {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new StorageFullError(`could not write ${file}: the disk is full; nothing of it was kept`, { cause: error });
    }
    throw error;
  }
}
