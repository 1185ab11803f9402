/**
 * Which bucket an RTMP ingest host names. OSS hosts are `<bucket>.<endpoint>` (reference §11.1);
 * the emulator's RTMP port is reached at an IP (127.0.0.1) or a single-label name (localhost),
 * which cannot carry a bucket, so such a host names the emulator's first bucket. Shared by the
 * real RTMP server and the simulated push, so a publish URL works the same in both.
 */
import { isIP } from 'node:net';
import { OssErrorResponse } from '../types';

/** An address that names no bucket: an IP literal or a host without dots. */
export function isBareIngestHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) !== 0 || !bare.includes('.');
}

export function bucketOfIngestHost(hostname: string, buckets: readonly string[]): string {
  const bucket = isBareIngestHost(hostname) ? buckets[0] : hostname.split('.')[0];
  if (bucket === undefined || !buckets.includes(bucket)) {
    throw new OssErrorResponse(
      404,
      'NoSuchBucket',
      `The specified bucket does not exist: ${bucket ?? '(the emulator serves none)'}, from the host ${hostname}.`,
      {
        BucketName: bucket ?? '',
      },
    );
  }
  return bucket;
}

/**
 * The URL with its bucket in the host, as the URL verifier expects: a bare host is replaced by
 * `<first bucket>.<placeholder>` (the host is not part of the signature, §11.2).
 */
export function withBucketHost(url: URL, buckets: readonly string[]): string {
  if (!isBareIngestHost(url.hostname)) return url.href;
  return `rtmp://${bucketOfIngestHost(url.hostname, buckets)}.ingest${url.pathname}${url.search}`;
}
