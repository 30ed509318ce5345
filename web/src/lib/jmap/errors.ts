// Error types of RFC 8620 §3.6 (request and method level) and §5.3/§5.4
// (per-object SetError), plus the transport failures around them.

/** RFC 8620 §3.6.2 and the method-specific errors of §5 and RFC 8621. */
export type MethodErrorType =
  | 'serverUnavailable'
  | 'serverFail'
  | 'serverPartialFail'
  | 'unknownMethod'
  | 'invalidArguments'
  | 'invalidResultReference'
  | 'forbidden'
  | 'accountNotFound'
  | 'accountNotSupportedByMethod'
  | 'accountReadOnly'
  | 'requestTooLarge'
  | 'stateMismatch'
  | 'cannotCalculateChanges'
  | 'anchorNotFound'
  | 'unsupportedSort'
  | 'unsupportedFilter'
  | 'tooManyChanges'
  | 'fromAccountNotFound'
  | 'fromAccountNotSupportedByMethod'
  | (string & {});

/** The base class: every failure the client reports is a JmapError. */
export class JmapError extends Error {
  override name = 'JmapError';
}

/** The server refused our credentials (HTTP 401): the user must log in. */
export class UnauthorizedError extends JmapError {
  override name = 'UnauthorizedError';
  constructor() {
    super('not logged in');
  }
}

/** The request never got an HTTP answer, or an unparseable one. */
export class NetworkError extends JmapError {
  override name = 'NetworkError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** RFC 8620 §3.6.1: the whole request was rejected. */
export class RequestError extends JmapError {
  override name = 'RequestError';
  constructor(
    readonly type: string,
    readonly status: number,
    readonly detail: string,
    /** For the "limit" type: which limit was hit. */
    readonly limit?: string,
  ) {
    super(`${type.replace('urn:ietf:params:jmap:error:', '')}${detail ? `: ${detail}` : ''}`);
  }
}

/** RFC 8620 §3.6.2: one method call failed ("error" response). */
export class MethodError extends JmapError {
  override name = 'MethodError';
  constructor(
    readonly type: MethodErrorType,
    readonly method: string,
    readonly callId: string,
    readonly description?: string,
  ) {
    super(`${method}: ${type}${description ? ` (${description})` : ''}`);
  }
}

/** RFC 8620 §5.3: per-object failures of a /set, collected by id. */
export class SetFailedError extends JmapError {
  override name = 'SetFailedError';
  constructor(
    readonly method: string,
    readonly failures: Record<string, { type: string; description?: string; properties?: string[] }>,
  ) {
    const first = Object.entries(failures)[0];
    super(
      first
        ? `${method}: ${first[1].type}${first[1].description ? ` (${first[1].description})` : ''}`
        : `${method}: failed`,
    );
  }
}

/** Builds the right error from a non-2xx HTTP answer to an API request. */
export async function errorFromResponse(res: Response): Promise<JmapError> {
  if (res.status === 401) return new UnauthorizedError();
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not a problem-details body.
  }
  if (body && typeof body === 'object' && 'type' in body && typeof body.type === 'string') {
    const p = body as { type: string; detail?: unknown; limit?: unknown };
    return new RequestError(
      p.type,
      res.status,
      typeof p.detail === 'string' ? p.detail : '',
      typeof p.limit === 'string' ? p.limit : undefined,
    );
  }
  return new NetworkError(`HTTP ${res.status}`, res.status);
}

/** The text of anything thrown, for showing to the user. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
