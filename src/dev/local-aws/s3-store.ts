/**
 * In-memory buckets and objects behind the emulator's S3 API. Keys are kept per bucket and listed in
 * UTF-8 binary order, the order S3 lists in.
 */
import { createHash } from 'node:crypto';

/** Headers S3 stores with an object and returns on GET/HEAD. */
export const STORED_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;

export interface StoredObject {
  key: string;
  body: Buffer;
  /** Quoted hex MD5, as S3 returns it for single-part uploads. */
  etag: string;
  lastModified: Date;
  /** Values of STORED_HEADERS that were sent (content-type always set). */
  headers: Record<string, string>;
  /** `x-amz-meta-*` user metadata, names lower-cased without the prefix. */
  metadata: Record<string, string>;
  /** Checksums sent with the upload, by header name (`x-amz-checksum-crc32` -> base64 value). */
  checksums: Record<string, string>;
}

export interface StoredBucket {
  name: string;
  ownerAccountId: string;
  createdAt: Date;
  objects: Map<string, StoredObject>;
}

/** Seed shape from the emulator state file: object values are UTF-8 text. */
export interface BucketSeed {
  name: string;
  objects?: Record<string, string>;
}

export type CreateBucketOutcome = 'created' | 'owned-by-you' | 'owned-by-other';

/** Compares keys by their UTF-8 bytes; JS string order (UTF-16 units) differs for astral characters. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The buckets of one emulated account set. */
export class BucketStore {
  private readonly buckets = new Map<string, StoredBucket>();

  /** Seeds buckets owned by `ownerAccountId`; `now` stamps creation and modification times. */
  constructor(private readonly opts: { ownerAccountId: string; now: () => Date; seed?: BucketSeed[] }) {
    for (const seed of opts.seed ?? []) {
      this.createBucket(seed.name, opts.ownerAccountId);
      for (const [key, text] of Object.entries(seed.objects ?? {})) {
        this.putObject(seed.name, key, Buffer.from(text, 'utf8'), { headers: { 'content-type': 'text/plain' } });
      }
    }
  }

  /** Creates the bucket unless it exists; reports who owns an existing one (S3's two 409 codes). */
  createBucket(name: string, accountId: string): CreateBucketOutcome {
    const existing = this.buckets.get(name);
    if (existing) return existing.ownerAccountId === accountId ? 'owned-by-you' : 'owned-by-other';
    this.buckets.set(name, { name, ownerAccountId: accountId, createdAt: this.opts.now(), objects: new Map() });
    return 'created';
  }

  /** The store's clock (object and upload times). */
  now(): Date {
    return this.opts.now();
  }

  bucket(name: string): StoredBucket | undefined {
    return this.buckets.get(name);
  }

  /** Buckets sorted by name, as ListBuckets returns them. */
  listBuckets(): StoredBucket[] {
    return [...this.buckets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes an empty bucket; false when it still holds objects (BucketNotEmpty). */
  deleteBucket(name: string): boolean {
    const bucket = this.buckets.get(name);
    if (!bucket) return true;
    if (bucket.objects.size > 0) return false;
    this.buckets.delete(name);
    return true;
  }

  /** Stores (or replaces) an object; the bucket must exist. */
  putObject(
    bucketName: string,
    key: string,
    body: Buffer,
    extra: { headers?: Record<string, string>; metadata?: Record<string, string>; checksums?: Record<string, string>; etag?: string } = {},
  ): StoredObject {
    const bucket = this.mustGet(bucketName);
    const object: StoredObject = {
      key,
      body,
      // A multipart upload passes S3's "<md5 of part md5s>-<parts>" form.
      etag: extra.etag ?? `"${createHash('md5').update(body).digest('hex')}"`,
      lastModified: this.opts.now(),
      // S3's default type for objects uploaded without one.
      headers: { 'content-type': 'binary/octet-stream', ...extra.headers },
      metadata: { ...extra.metadata },
      checksums: { ...extra.checksums },
    };
    bucket.objects.set(key, object);
    return object;
  }

  getObject(bucketName: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucketName)?.objects.get(key);
  }

  /** Deleting a missing key is not an error in S3. */
  deleteObject(bucketName: string, key: string): void {
    this.buckets.get(bucketName)?.objects.delete(key);
  }

  /** All keys of a bucket in S3 listing order. */
  sortedKeys(bucketName: string): string[] {
    return [...this.mustGet(bucketName).objects.keys()].sort(compareKeys);
  }

  private mustGet(name: string): StoredBucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new Error(`no bucket ${name}`);
    return bucket;
  }
}

/**
 * S3 general-purpose bucket naming rules (docs "Bucket naming rules"): 3-63 characters of lower-case
 * letters, digits, dots and hyphens, starting and ending with a letter or digit, no adjacent dots, not an
 * IP address, and none of the reserved prefixes and suffixes.
 */
export function isValidBucketName(name: string): boolean {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  return !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name);
}
