import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

import { dataDirectoryPath } from '../../base/data-directory.ts';

/**
 * Disk space held back for erasures. A privacy request cannot wait for disk space, yet an erasure writes
 * (SQLite logs the pages it zeroes before it copies them back), so a file of `bytes` is kept in the data
 * directory. An erasure that meets a full disk deletes it and tries again; it is written anew once the disk
 * has room for it twice over, so recreating it never fills the disk straight back up.
 */
export class ErasureReserve {
  /** After an attempt found no room, the next waits this long (writes call replenish() each time). */
  private static readonly RETRY_MS = 1_000;
  private readonly file: string;
  private heldNow = false;
  private lastAttempt = -Infinity;

  constructor(
    dataDir: string,
    readonly bytes: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.file = dataDirectoryPath(dataDir, 'erasureReserve');
    rmSync(this.temporaryFile, { force: true });
    this.heldNow = bytes > 0 && sizeOf(this.file) === bytes;
    // A file of another size (the setting changed) is replaced: release() must free what it holds.
    if (!this.heldNow) rmSync(this.file, { force: true });
    this.replenish();
  }

  /** Whether the space is held now. */
  get held(): boolean {
    return this.heldNow;
  }

  /** Frees the space for the erasure at hand; false when there was nothing to free. */
  release(): boolean {
    if (!this.heldNow) return false;
    rmSync(this.file, { force: true });
    this.heldNow = false;
    return true;
  }

  /** Recreates the file when it is missing and the disk has room (at most every few seconds). */
  replenish(): void {
    if (this.heldNow || this.bytes === 0) return;
    const now = this.clock();
    if (now - this.lastAttempt < ErasureReserve.RETRY_MS) return;
    let room = false;
    try {
      const disk = statfsSync(path.dirname(this.file));
      room = disk.bavail * disk.bsize >= 2 * this.bytes;
    } catch {
      // Cannot tell: try again later.
    }
    this.heldNow = room && this.write();
    if (!this.heldNow) this.lastAttempt = now;
  }

  private get temporaryFile(): string {
    return `${this.file}.tmp`;
  }

  /**
   * Writes the file under a temporary name and renames it, so a full disk never leaves a short reserve
   * that would be taken for a whole one. Random bytes: a compressing file system would not store zeros.
   */
  private write(): boolean {
    const chunk = randomBytes(Math.min(this.bytes, 1 << 20));
    let fd: number | null = null;
    try {
      fd = openSync(this.temporaryFile, 'w');
      for (let written = 0; written < this.bytes;) {
        written += writeSync(fd, chunk, 0, Math.min(chunk.length, this.bytes - written));
      }
      closeSync(fd);
      fd = null;
      renameSync(this.temporaryFile, this.file);
      return true;
    } catch {
      if (fd !== null) closeSync(fd);
      rmSync(this.temporaryFile, { force: true });
      return false;
    }
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}
