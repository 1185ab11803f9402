import type { Clock } from '../../shared/clock';
import { createHash } from 'node:crypto';
import { errors } from './errors';
import { STS_KEY_PREFIX, type StsIssuer } from './sts';
import {
  hmacSha1Base64,
  hmacSha256Base64,
  parseV2Authorization,
  parseV4Authorization,
  parseV4Credential,
  parseV4DateTime,
  signaturesEqual,
  splitHeaderList,
  UNSIGNED_PAYLOAD,
  v1StringToSign,
  v2StringToSign,
  V2_ALGORITHM,
  v4CanonicalRequest,
  v4Scope,
  v4Signature,
  v4SigningKey,
  v4StringToSign,
  V4_ALGORITHM,
  type V4Credential,
} from './signature';
import { OssErrorResponse, type EmuRequest } from './types';

/** OSS rejects a request whose time is more than 15 minutes off its own (reference §14.1). */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** Longest validity of a V4 presigned URL (x-oss-expires), 7 days. */
const MAX_V4_EXPIRES_SECONDS = 7 * 24 * 3600;
const SIGNATURE_MISMATCH_EC = '0002-00000040';

export type Principal = NonNullable<EmuRequest['principal']>;

/** Static access keys plus STS credentials minted by this emulator. */
export class Credentials {
  constructor(
    private readonly staticKeys: ReadonlyMap<string, string>,
    private readonly sts: StsIssuer,
  ) {}

  /**
   * The secret to verify a signature with, or 403: InvalidAccessKeyId for an unknown key (and
   * for an STS key sent without its token), InvalidSecurityToken / SecurityTokenExpired.
   */
  secret(accessKeyId: string, securityToken: string | undefined): string {
    if (securityToken !== undefined) return this.sts.secretFor(accessKeyId, securityToken);
    const secret = accessKeyId.startsWith(STS_KEY_PREFIX) ? undefined : this.staticKeys.get(accessKeyId);
    if (secret === undefined) {
      throw new OssErrorResponse(
        403,
        'InvalidAccessKeyId',
        'The OSS Access Key Id you provided does not exist in our records.',
        {
          OSSAccessKeyId: accessKeyId,
        },
      );
    }
    return secret;
  }

  /** The EmuContext.secretFor seam: undefined instead of an error. */
  trySecret(accessKeyId: string, securityToken?: string): string | undefined {
    try {
      return this.secret(accessKeyId, securityToken);
    } catch {
      return undefined;
    }
  }
}

function signatureMismatch(accessKeyId: string, stringToSign: string, provided: string): OssErrorResponse {
  return new OssErrorResponse(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { StringToSign: stringToSign, SignatureProvided: provided, OSSAccessKeyId: accessKeyId, EC: SIGNATURE_MISMATCH_EC },
  );
}

function invalidAuthorization(message: string): OssErrorResponse {
  // UNCONFIRMED: the code OSS gives for an unparseable Authorization header; S3 says
  // AuthorizationHeaderMalformed, OSS documents InvalidArgument for malformed arguments.
  return new OssErrorResponse(400, 'InvalidArgument', `Authorization header is invalid: ${message}`, {
    ArgumentName: 'Authorization',
  });
}

function expired(expiresMs: number, nowMs: number): OssErrorResponse {
  return errors.accessDenied('Request has expired.', {
    Expires: new Date(expiresMs).toISOString(),
    ServerTime: new Date(nowMs).toISOString(),
  });
}

/**
 * V4 signing keys by (secret, scope date, region). Deriving one is four HMACs — most of the cost
 * of verifying a request — yet it changes only when the date, key or region does, so a polling
 * client signs thousands of requests with the same one. Bounded: STS mints a new secret per
 * credential, and each would otherwise stay here for the life of the emulator.
 */
class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();
  constructor(private readonly limit = 256) {}

  get(secret: string, date8: string, region: string): Buffer {
    // '\n' cannot occur in a scope date or region, so the id is unambiguous.
    const id = `${date8}\n${region}\n${secret}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      if (this.keys.size >= this.limit) this.keys.delete(this.keys.keys().next().value!);
      key = v4SigningKey(secret, date8, region, 'oss');
      this.keys.set(id, key);
    }
    return key;
  }
}

/**
 * Verifies a request by recomputing its signature from what was received (reference §14.5) with
 * the emulator's own algorithms (./signature): V1, V2 and V4 Authorization headers and presigned
 * URLs, STS tokens. Times are checked against the emulator clock.
 */
export class Authenticator {
  private readonly signingKeys = new SigningKeyCache();

  constructor(
    private readonly credentials: Pick<Credentials, 'secret'>,
    private readonly clock: Clock,
    private readonly region: string,
  ) {}

  /** The signer, or undefined for an anonymous request; throws the OSS error otherwise. */
  authenticate(req: EmuRequest): Principal | undefined {
    const authorization = req.headers['authorization'];
    if (authorization !== undefined) {
      if (authorization.startsWith('OSS ')) return this.v1Header(req, authorization);
      if (authorization.startsWith(`${V2_ALGORITHM} `)) return this.v2Header(req, authorization);
      if (authorization.startsWith(`${V4_ALGORITHM} `)) return this.v4Header(req, authorization);
      throw invalidAuthorization('unsupported scheme');
    }
    if (req.query.has('OSSAccessKeyId') || req.query.has('Signature')) return this.v1Query(req);
    if (req.query.get('x-oss-signature-version') === V2_ALGORITHM) return this.v2Query(req);
    if (req.query.has('x-oss-signature-version') || req.query.has('x-oss-signature')) return this.v4Query(req);
    return undefined;
  }

  private checkSkew(requestMs: number): void {
    const now = this.clock.now();
    if (Math.abs(now - requestMs) > MAX_SKEW_MS) {
      throw new OssErrorResponse(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        {
          RequestTime: new Date(requestMs).toISOString(),
          ServerTime: new Date(now).toISOString(),
          MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
        },
      );
    }
  }

  /** The Date header's time (or x-oss-date's), skew-checked; V1 and V2 header signatures. */
  private checkHeaderDate(req: EmuRequest): void {
    const requestMs = Date.parse(req.headers['x-oss-date'] ?? req.headers['date'] ?? '');
    if (!Number.isFinite(requestMs)) throw errors.accessDenied('OSS authentication requires a valid Date.');
    this.checkSkew(requestMs);
  }

  /**
   * Checks `provided` against the signature of each string to sign in turn (the first is the
   * one reported on a mismatch). V1 and V2 header signatures put the Date header in the date
   * slot; some SDKs (Python) put x-oss-date there instead, so both are tried when it is sent.
   */
  private verifyAny(
    sign: (s: string) => string,
    stringsToSign: readonly string[],
    provided: string,
    accessKeyId: string,
  ): void {
    // Every candidate is compared, so the time taken does not tell which one came close.
    let matched = false;
    for (const stringToSign of stringsToSign) matched = signaturesEqual(sign(stringToSign), provided) || matched;
    if (!matched) throw signatureMismatch(accessKeyId, stringsToSign[0] ?? '', provided);
  }

  private headerDateSlots(req: EmuRequest): string[] {
    const date = req.headers['date'] ?? '';
    const xOssDate = req.headers['x-oss-date'];
    return xOssDate === undefined || xOssDate === date ? [date] : [date, xOssDate];
  }

  private v1Header(req: EmuRequest, authorization: string): Principal {
    const credential = authorization.slice(4).trim();
    const colon = credential.lastIndexOf(':');
    if (colon <= 0 || colon === credential.length - 1)
      throw invalidAuthorization('expected "OSS <AccessKeyId>:<Signature>"');
    const accessKeyId = credential.slice(0, colon);
    const provided = credential.slice(colon + 1);
    this.checkHeaderDate(req);
    const securityToken = req.headers['x-oss-security-token'];
    const secret = this.credentials.secret(accessKeyId, securityToken);
    const candidates = this.headerDateSlots(req).map((slot) => v1StringToSign(req, slot));
    this.verifyAny((s) => hmacSha1Base64(secret, s), candidates, provided, accessKeyId);
    return { accessKeyId, securityToken };
  }

  private v1Query(req: EmuRequest): Principal {
    const names = { keyId: 'OSSAccessKeyId', expires: 'Expires', signature: 'Signature' };
    return this.presignedWithExpires(req, names, hmacSha1Base64, (expiresText) => v1StringToSign(req, expiresText));
  }

  /**
   * V1 and V2 presigned URLs: key id, absolute expiry (Unix seconds), signature and STS
   * `security-token` in the query; the expiry fills the date slot of the string to sign.
   */
  private presignedWithExpires(
    req: EmuRequest,
    names: { keyId: string; expires: string; signature: string },
    hmac: (secret: string, stringToSign: string) => string,
    stringToSign: (expiresText: string) => string,
  ): Principal {
    const accessKeyId = req.query.get(names.keyId) ?? '';
    const expiresText = req.query.get(names.expires) ?? '';
    const provided = req.query.get(names.signature) ?? '';
    if (!accessKeyId || !provided || !/^\d{1,12}$/.test(expiresText)) {
      throw errors.invalidArgument(
        `A presigned URL needs ${names.keyId}, ${names.expires} and ${names.signature}.`,
        names.expires,
        expiresText,
      );
    }
    this.checkExpires(Number(expiresText) * 1000);
    const securityToken = req.query.get('security-token');
    const secret = this.credentials.secret(accessKeyId, securityToken);
    this.verifyAny((s) => hmac(secret, s), [stringToSign(expiresText)], provided, accessKeyId);
    return { accessKeyId, securityToken };
  }

  private checkExpires(expiresMs: number): void {
    const now = this.clock.now();
    if (now > expiresMs) throw expired(expiresMs, now);
  }

  private v2Header(req: EmuRequest, authorization: string): Principal {
    const parsed = parseV2Authorization(authorization);
    if (typeof parsed === 'string') throw invalidAuthorization(parsed);
    this.checkHeaderDate(req);
    const securityToken = req.headers['x-oss-security-token'];
    const secret = this.credentials.secret(parsed.accessKeyId, securityToken);
    const candidates = this.headerDateSlots(req).map((slot) =>
      v2StringToSign(req, slot, parsed.additionalHeaders, req.query),
    );
    this.verifyAny((s) => hmacSha256Base64(secret, s), candidates, parsed.signature, parsed.accessKeyId);
    return { accessKeyId: parsed.accessKeyId, securityToken };
  }

  /**
   * `?x-oss-signature-version=OSS2&x-oss-expires=<unix
   * s>&x-oss-access-key-id&[x-oss-additional-headers&]x-oss-signature`.
   */
  private v2Query(req: EmuRequest): Principal {
    const query = new Map(req.query);
    query.delete('x-oss-signature');
    const additional = splitHeaderList(req.query.get('x-oss-additional-headers'));
    const names = { keyId: 'x-oss-access-key-id', expires: 'x-oss-expires', signature: 'x-oss-signature' };
    return this.presignedWithExpires(req, names, hmacSha256Base64, (expiresText) =>
      v2StringToSign(req, expiresText, additional, query),
    );
  }

  private checkScope(credential: V4Credential, xOssDate: string): void {
    if (credential.product !== 'oss') throw invalidAuthorization(`product must be oss, got ${credential.product}`);
    // UNCONFIRMED: OSS's code for a scope naming another region; we answer InvalidArgument.
    if (credential.region !== this.region)
      throw invalidAuthorization(
        `the signing region ${credential.region} is not this endpoint's region ${this.region}`,
      );
    if (credential.date8 !== xOssDate.slice(0, 8))
      throw invalidAuthorization('the credential date is not the date of x-oss-date');
  }

  private v4Verify(
    req: EmuRequest,
    accessKeyId: string,
    additionalHeaders: string[],
    xOssDate: string,
    provided: string,
    securityToken: string | undefined,
    query: ReadonlyMap<string, string>,
  ): Principal {
    const secret = this.credentials.secret(accessKeyId, securityToken);
    const date8 = xOssDate.slice(0, 8);
    const canonical = v4CanonicalRequest(req, additionalHeaders, query);
    const stringToSign = v4StringToSign(canonical, xOssDate, v4Scope(date8, this.region, 'oss'));
    if (!signaturesEqual(v4Signature(this.signingKeys.get(secret, date8, this.region), stringToSign), provided)) {
      const err = signatureMismatch(accessKeyId, stringToSign, provided);
      err.extra.CanonicalRequest = canonical;
      throw err;
    }
    return { accessKeyId, securityToken };
  }

  private v4Header(req: EmuRequest, authorization: string): Principal {
    const parsed = parseV4Authorization(authorization);
    if (typeof parsed === 'string') throw invalidAuthorization(parsed);
    const xOssDate = req.headers['x-oss-date'] ?? '';
    const requestMs = parseV4DateTime(xOssDate);
    // UNCONFIRMED status/code for a missing or malformed x-oss-date (EC 0002-00000502 exists).
    if (!Number.isFinite(requestMs))
      throw errors.invalidArgument('V4 signatures need x-oss-date as YYYYMMDDTHHMMSSZ.', 'x-oss-date', xOssDate);
    this.checkScope(parsed, xOssDate);
    this.checkSkew(requestMs);
    this.checkPayloadHash(req);
    return this.v4Verify(
      req,
      parsed.accessKeyId,
      parsed.additionalHeaders,
      xOssDate,
      parsed.signature,
      req.headers['x-oss-security-token'],
      req.query,
    );
  }

  /**
   * x-oss-content-sha256 is required with V4 header signing. SDKs always send UNSIGNED-PAYLOAD;
   * UNCONFIRMED whether OSS accepts a real hash — we accept one that matches the body.
   */
  private checkPayloadHash(req: EmuRequest): void {
    const value = req.headers['x-oss-content-sha256'];
    if (value === UNSIGNED_PAYLOAD) return;
    if (
      value !== undefined &&
      /^[0-9a-f]{64}$/.test(value) &&
      createHash('sha256').update(req.body).digest('hex') === value
    )
      return;
    throw new OssErrorResponse(
      400,
      'InvalidArgument',
      'x-oss-content-sha256 must be UNSIGNED-PAYLOAD or the SHA-256 of the body.',
      {
        ArgumentName: 'x-oss-content-sha256',
        ArgumentValue: value ?? '',
        EC: '0002-00000214',
      },
    );
  }

  private v4Query(req: EmuRequest): Principal {
    const version = req.query.get('x-oss-signature-version');
    const provided = req.query.get('x-oss-signature') ?? '';
    const xOssDate = req.query.get('x-oss-date') ?? '';
    const expiresText = req.query.get('x-oss-expires') ?? '';
    if (version !== V4_ALGORITHM)
      throw errors.invalidArgument(
        `x-oss-signature-version must be ${V4_ALGORITHM} or ${V2_ALGORITHM}.`,
        'x-oss-signature-version',
        version ?? '',
      );
    if (!/^[0-9a-f]{64}$/.test(provided))
      throw errors.invalidArgument('x-oss-signature must be 64 hex digits.', 'x-oss-signature', provided);
    const signedMs = parseV4DateTime(xOssDate);
    if (!Number.isFinite(signedMs))
      throw errors.invalidArgument('x-oss-date must be YYYYMMDDTHHMMSSZ.', 'x-oss-date', xOssDate);
    const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
    if (!(expires >= 1 && expires <= MAX_V4_EXPIRES_SECONDS)) {
      throw errors.invalidArgument(
        `x-oss-expires must be an integer in [1, ${MAX_V4_EXPIRES_SECONDS}].`,
        'x-oss-expires',
        expiresText,
      );
    }
    const credentialText = req.query.get('x-oss-credential') ?? '';
    const credential = parseV4Credential(credentialText);
    if (typeof credential === 'string') throw errors.invalidArgument(credential, 'x-oss-credential', credentialText);
    this.checkScope(credential, xOssDate);
    // Signed in the future beyond the skew allowance: the same error as for header signatures.
    if (signedMs - this.clock.now() > MAX_SKEW_MS) this.checkSkew(signedMs);
    this.checkExpires(signedMs + expires * 1000);
    const query = new Map(req.query);
    query.delete('x-oss-signature');
    const additional = splitHeaderList(req.query.get('x-oss-additional-headers'));
    return this.v4Verify(
      req,
      credential.accessKeyId,
      additional,
      xOssDate,
      provided,
      req.query.get('x-oss-security-token'),
      query,
    );
  }
}
