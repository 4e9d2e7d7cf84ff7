import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** A package name: no separators, no "..": it can never name a file outside the store. */
export const PackageName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" or "-", at most 128, starting with a letter or digit')
  .refine((s) => !s.includes('..'), 'must not contain ".."')
  .brand<'PackageName'>();
export type PackageName = z.infer<typeof PackageName>;

const SHA256 = /^[0-9a-f]{64}$/;

export type Received =
  | { ok: true; size: number; sha256: string; release(): void }
  | { ok: false; reason: 'too_large'; limit: number }
  | { ok: false; reason: 'mismatch'; size: number; sha256: string };

/** What a copy of known content must hash to (a package fetched from the cluster's index). */
export interface ExpectedContent {
  size: number;
  sha256: string;
}

/**
 * The package files under `<data>/packages/`: content-addressed blobs (`blobs/<sha256>`), so a
 * name (journaled in `PackageUploaded`) always points at complete, immutable bytes. An upload is
 * streamed into `tmp/`, hashed while it is written, fsynced, then renamed into place.
 */
export function createPackageStore(dir: string) {
  const blobs = join(dir, 'blobs');
  const tmp = join(dir, 'tmp');
  mkdirSync(blobs, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  /** Blobs received whose journal entry is not committed yet: never collected. */
  const inFlight = new Map<string, number>();

  const blobPath = (sha256: string): string => {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(blobs, sha256);
  };

  async function syncDir(path: string): Promise<void> {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Streams `source` into the store, refusing it as soon as it passes `limit` bytes; with `expect`,
   * also refusing bytes whose size or sha256 differ (nothing is kept then).
   */
  async function receive(source: AsyncIterable<Buffer>, limit: number, expect?: ExpectedContent): Promise<Received> {
    const temp = join(tmp, randomUUID());
    const fh = await open(temp, 'wx', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    let done = false;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limit) return { ok: false, reason: 'too_large', limit };
        hash.update(chunk);
        await fh.write(chunk);
      }
      await fh.sync();
      await fh.close();
      const sha256 = hash.digest('hex');
      if (expect && (expect.sha256 !== sha256 || expect.size !== size)) return { ok: false, reason: 'mismatch', size, sha256 };
      inFlight.set(sha256, (inFlight.get(sha256) ?? 0) + 1);
      await rename(temp, blobPath(sha256));
      await syncDir(blobs);
      done = true;
      const release = () => {
        const n = (inFlight.get(sha256) ?? 1) - 1;
        if (n <= 0) inFlight.delete(sha256);
        else inFlight.set(sha256, n);
      };
      return { ok: true, size, sha256, release };
    } finally {
      if (!done) {
        await fh.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }

  return {
    dir,
    receive,
    blobPath,
    /** Size of the blob on disk, or undefined when it is missing. */
    blobSize(sha256: string): number | undefined {
      try {
        return statSync(blobPath(sha256)).size;
      } catch {
        return undefined;
      }
    },
    /** Removes a blob no package points at any more (unless an upload of it is in flight). */
    async collect(sha256: string, stillReferenced: (sha256: string) => boolean): Promise<void> {
      if (inFlight.has(sha256) || stillReferenced(sha256)) return;
      await unlink(blobPath(sha256)).catch(() => undefined);
    },
    /** The blob's bytes in pieces of `pieceBytes` (the last one shorter), read as they are consumed. */
    async *readBlob(sha256: string, pieceBytes: number): AsyncGenerator<Buffer> {
      const fh = await open(blobPath(sha256), 'r');
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(pieceBytes);
          let filled = 0;
          while (filled < pieceBytes) {
            const { bytesRead } = await fh.read(buf, filled, pieceBytes - filled, null);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          if (filled > 0) yield filled === pieceBytes ? buf : buf.subarray(0, filled);
          if (filled < pieceBytes) return;
        }
      } finally {
        await fh.close();
      }
    },
    /** Blobs on disk (tests, maintenance). */
    blobNames: (): string[] => readdirSync(blobs),
  };
}
export type PackageStore = ReturnType<typeof createPackageStore>;
