import { uriEncode } from '../signature';
import { errors } from '../errors';
import type { Operation } from '../types';
import { leaf, malformedXml, node, parseRequestXml, xmlDocument } from '../xml';
import { hasOnlySubResources, verifyContentMd5, xmlResponse } from './common';

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_OBJECTS = 1000;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The keys and Quiet flag of a `<Delete>` document, or 400 MalformedXML. */
function parseDeleteRequest(body: Buffer): { quiet: boolean; keys: string[] } {
  if (body.length > MAX_BODY_BYTES) throw malformedXml();
  const root = asRecord(parseRequestXml(body, ['Object']).Delete);
  if (!root) throw malformedXml();
  const quietText = root.Quiet === undefined ? 'false' : root.Quiet;
  if (quietText !== 'true' && quietText !== 'false') throw malformedXml();
  const objects = (root.Object ?? []) as unknown[];
  if (objects.length === 0 || objects.length > MAX_OBJECTS) throw malformedXml();
  const keys = objects.map((o) => {
    const key = asRecord(o)?.Key;
    if (typeof key !== 'string' || key === '') throw malformedXml();
    return key;
  });
  return { quiet: quietText === 'true', keys };
}

/**
 * POST /?delete (reference §15.2). A key that does not exist is reported as deleted
 * (reference §16.12: inferred from S3, UNCONFIRMED for OSS).
 */
export const deleteMultipleObjects: Operation = {
  name: 'DeleteMultipleObjects',
  match: (req) =>
    req.method === 'POST' &&
    req.bucket !== '' &&
    req.key === '' &&
    req.query.has('delete') &&
    hasOnlySubResources(req, ['delete']),
  async handle(req, ctx) {
    verifyContentMd5(req, true);
    const { quiet, keys } = parseDeleteRequest(req.body);
    const encodingType = req.query.get('encoding-type') ?? req.headers['encoding-type'];
    if (encodingType !== undefined && encodingType !== 'url') {
      throw errors.invalidArgument('Argument encoding-type must be url.', 'encoding-type', encodingType);
    }
    const encode = encodingType === 'url' ? (s: string) => uriEncode(s) : (s: string) => s;
    for (const key of keys) await ctx.objects.delete(req.bucket, key);
    if (quiet) return { status: 200 };
    const xml = node('DeleteResult', [
      encodingType === 'url' ? leaf('EncodingType', 'url') : undefined,
      ...keys.map((key) => node('Deleted', [leaf('Key', encode(key))])),
    ]);
    return xmlResponse(200, xmlDocument(xml));
  },
};
