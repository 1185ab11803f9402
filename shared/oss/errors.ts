/**
 * The client's error types. Service errors (OSS answered with an error) are told apart from
 * network failures and timeouts, so retry logic and callers can decide without string matching.
 * No message here ever carries a credential, a signature or a presigned query.
 */

export interface OssErrorFields {
  status: number;
  code: string;
  message: string;
  requestId?: string;
  hostId?: string;
  /** OSS detailed error code (`NNNN-NNNNNNNN`), from `<EC>` or `x-oss-ec`. */
  ec?: string;
}

/** OSS answered with an error status (XML `<Error>` body, or `x-oss-err` for HEAD). */
export class OssError extends Error {
  override name = 'OssError';
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;
  readonly hostId?: string;
  readonly ec?: string;
  /** The operation that failed, e.g. 'GetLiveChannelStat'. */
  readonly operation: string;

  constructor(operation: string, fields: OssErrorFields) {
    super(
      `${operation} failed: ${fields.status} ${fields.code}: ${fields.message}${fields.requestId ? ` (request ${fields.requestId})` : ''}`,
    );
    this.operation = operation;
    this.status = fields.status;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.hostId = fields.hostId;
    this.ec = fields.ec;
  }
}

/**
 * OSS (or something posing as it) answered with a body we cannot read: malformed XML, a missing
 * root element. An OssError so callers need one catch; code `InvalidResponse`.
 */
export class OssProtocolError extends OssError {
  override name = 'OssProtocolError';
  constructor(operation: string, status: number, detail: string, requestId?: string) {
    super(operation, { status, code: 'InvalidResponse', message: detail, requestId });
  }
}

/** The connection failed: refused, reset, closed mid-body, DNS failure. */
export class OssNetworkError extends Error {
  override name = 'OssNetworkError';
  constructor(
    readonly operation: string,
    /** The underlying error code, e.g. ECONNREFUSED, UND_ERR_SOCKET. */
    readonly causeCode: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} failed: network error ${causeCode}: ${detail}`, options);
  }
}

/** The call ran past its deadline, or one attempt past undici's connect/headers/body timeout. */
export class OssTimeoutError extends Error {
  override name = 'OssTimeoutError';
  constructor(
    readonly operation: string,
    /** 'deadline' for the per-call deadline (never retried), else the undici phase that timed out. */
    readonly phase: 'deadline' | 'connect' | 'headers' | 'body',
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`${operation} timed out (${phase}, ${timeoutMs} ms)`, options);
  }
}

/** Bad input caught before anything was sent; `field` names the offending argument. */
export class OssValidationError extends Error {
  override name = 'OssValidationError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`invalid ${field}: ${detail}`);
  }
}

/**
 * A whole call that failed in a way worth trying again later (network, timeout incl. the call's
 * deadline, 5xx, throttling), after the client's own retries. Sweeps use it to skip one channel
 * or folder and go on instead of ending the run.
 */
export function isTransientFailure(err: unknown): boolean {
  return (
    err instanceof OssNetworkError ||
    err instanceof OssTimeoutError ||
    (err instanceof OssError && (err.status >= 500 || err.status === 429))
  );
}

/** OSS's answer for a LiveChannel that does not exist. */
export function isNoSuchLiveChannel(err: unknown): boolean {
  return err instanceof OssError && err.status === 404 && err.code === 'NoSuchLiveChannel';
}
