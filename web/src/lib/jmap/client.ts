// A typed JMAP client (RFC 8620): session discovery, request batching with
// result references, automatic coalescing of concurrent calls into one
// HTTP request, and the upload/download helpers.

import { errorFromResponse, MethodError, NetworkError, SetFailedError, UnauthorizedError } from './errors';
import { expandTemplate, sameOrigin } from './template';
import {
  CAP_CORE,
  CAP_HELD,
  CAP_HTML,
  CAP_LABELS,
  CAP_MAIL,
  CAP_SETTINGS,
  CAP_SUBMISSION,
  CAP_VACATION,
  type ChangesResponse,
  type CoreCapability,
  type Email,
  type EmailSubmission,
  type GetResponse,
  type HeldMessage,
  type HtmlCapability,
  type Id,
  type Identity,
  type Invocation,
  type JmapRequest,
  type JmapResponse,
  type Label,
  type Mailbox,
  type MailboxChangesResponse,
  type QueryChangesResponse,
  type QueryResponse,
  type ResultReference,
  type Session,
  type SetResponse,
  type Settings,
  type Thread,
  type UploadResult,
  type VacationResponse,
} from './types';

/** The response type of each method the app calls. */
export interface ResponseMap {
  'Mailbox/get': GetResponse<Mailbox>;
  'Mailbox/changes': MailboxChangesResponse;
  'Mailbox/set': SetResponse<Mailbox>;
  'Email/get': GetResponse<Email>;
  'Email/changes': ChangesResponse;
  'Email/query': QueryResponse;
  'Email/queryChanges': QueryChangesResponse;
  'Email/set': SetResponse<Email>;
  'Thread/get': GetResponse<Thread>;
  'Thread/changes': ChangesResponse;
  'Identity/get': GetResponse<Identity>;
  'EmailSubmission/get': GetResponse<EmailSubmission>;
  'EmailSubmission/changes': ChangesResponse;
  'EmailSubmission/query': QueryResponse;
  'EmailSubmission/set': SetResponse<EmailSubmission>;
  'HeldMessage/get': GetResponse<HeldMessage>;
  'HeldMessage/set': SetResponse<HeldMessage>;
  'Label/get': GetResponse<Label>;
  'Label/changes': ChangesResponse;
  'Label/set': SetResponse<Label>;
  'Settings/get': GetResponse<Settings>;
  'Settings/set': SetResponse<Settings>;
  'VacationResponse/get': GetResponse<VacationResponse>;
  'VacationResponse/set': SetResponse<VacationResponse>;
}
export type MethodName = keyof ResponseMap;
export type Args = Record<string, unknown>;

export const DEFAULT_HTML_URL = '/jmap/html/{accountId}/{emailId}?remote={remote}';

/** Every request carries this header: the server's CSRF defence. */
export const CSRF_HEADER = { 'X-Freehold': '1' } as const;

/** The capability a method belongs to, from its data type. */
export function capabilityOf(method: string): string {
  const type = method.split('/')[0];
  switch (type) {
    case 'Mailbox':
    case 'Email':
    case 'Thread':
    case 'SearchSnippet':
      return CAP_MAIL;
    case 'Identity':
    case 'EmailSubmission':
      return CAP_SUBMISSION;
    case 'HeldMessage':
      return CAP_HELD;
    case 'Label':
      return CAP_LABELS;
    case 'Settings':
      return CAP_SETTINGS;
    case 'VacationResponse':
      return CAP_VACATION;
    default:
      return CAP_CORE;
  }
}

/** One call in a batch; its result is available after the batch is sent. */
export class CallHandle<R> {
  private response: Args | undefined;
  private error: MethodError | undefined;
  /** Further responses to the same call (e.g. an implicit Email/set). */
  readonly extra: Invocation[] = [];

  constructor(
    readonly callId: string,
    readonly method: string,
  ) {}

  /** A back-reference to this call's result (RFC 8620 §3.7). */
  ref(path: string, name: string = this.method): ResultReference {
    return { resultOf: this.callId, name, path };
  }

  /** @internal */
  settle(inv: Invocation): void {
    const [name, args] = inv;
    if (this.response || this.error) {
      this.extra.push(inv);
    } else if (name === 'error') {
      const type = typeof args.type === 'string' ? args.type : 'serverFail';
      const desc = typeof args.description === 'string' ? args.description : undefined;
      this.error = new MethodError(type, this.method, this.callId, desc);
    } else {
      this.response = args;
    }
  }

  get failed(): MethodError | undefined {
    return this.error;
  }

  /** The response arguments; throws the MethodError if the call failed. */
  get result(): R {
    if (this.error) throw this.error;
    if (!this.response) throw new MethodError('serverFail', this.method, this.callId, 'no response');
    return this.response as R;
  }
}

export interface ClientOptions {
  /** Where the session resource lives, e.g. "/.well-known/jmap". */
  sessionUrl?: string;
  fetch?: typeof fetch;
}

/** An explicit batch: calls that reference each other go in one request. */
export class Batch {
  private readonly calls: Invocation[] = [];
  private readonly handles = new Map<string, CallHandle<unknown>>();

  constructor(private readonly client: JmapClient) {}

  add<M extends MethodName>(method: M, args: Args): CallHandle<ResponseMap[M]> {
    const id = `c${this.calls.length}`;
    this.calls.push([method, this.client.withAccount(method, args), id]);
    const h = new CallHandle<ResponseMap[M]>(id, method);
    this.handles.set(id, h);
    return h;
  }

  async send(): Promise<void> {
    const responses = await this.client.post(this.calls);
    for (const inv of responses) this.handles.get(inv[2])?.settle(inv);
  }
}

interface Pending {
  inv: Invocation;
  handle: CallHandle<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class JmapClient {
  private readonly fetchFn: typeof fetch;
  private readonly sessionUrl: string;
  private sessionValue: Session | undefined;
  private queue: Pending[] = [];
  private seq = 0;
  private active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(opts: ClientOptions = {}) {
    this.sessionUrl = opts.sessionUrl ?? '/.well-known/jmap';
    // Bound so that window.fetch is not called with a foreign `this`.
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  get session(): Session {
    if (!this.sessionValue) throw new Error('JMAP session not loaded');
    return this.sessionValue;
  }

  /** RFC 8620 §2: fetches the session resource (after login, or when its state changed). */
  async loadSession(): Promise<Session> {
    let res: Response;
    try {
      res = await this.fetchFn(this.sessionUrl, {
        headers: { Accept: 'application/json', ...CSRF_HEADER },
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new NetworkError(`session: ${String(e)}`);
    }
    if (res.status === 401 || res.status === 403) throw new UnauthorizedError();
    if (!res.ok) throw await errorFromResponse(res);
    const s = (await res.json()) as Session;
    s.apiUrl = sameOrigin(s.apiUrl);
    s.downloadUrl = sameOrigin(s.downloadUrl);
    s.uploadUrl = sameOrigin(s.uploadUrl);
    s.eventSourceUrl = sameOrigin(s.eventSourceUrl);
    this.sessionValue = s;
    return s;
  }

  get core(): CoreCapability {
    const c = this.session.capabilities[CAP_CORE] as Partial<CoreCapability> | undefined;
    return {
      maxSizeUpload: c?.maxSizeUpload ?? 50_000_000,
      maxConcurrentUpload: c?.maxConcurrentUpload ?? 4,
      maxSizeRequest: c?.maxSizeRequest ?? 10_000_000,
      maxConcurrentRequests: c?.maxConcurrentRequests ?? 4,
      maxCallsInRequest: c?.maxCallsInRequest ?? 16,
      maxObjectsInGet: c?.maxObjectsInGet ?? 500,
      maxObjectsInSet: c?.maxObjectsInSet ?? 500,
      collationAlgorithms: c?.collationAlgorithms ?? [],
    };
  }

  has(capability: string): boolean {
    return capability in this.session.capabilities;
  }

  /** The account used for a capability: its primary account, else the mail one. */
  accountFor(capability: string): Id {
    const s = this.session;
    const id = s.primaryAccounts[capability] ?? s.primaryAccounts[CAP_MAIL];
    if (!id) throw new Error(`no account for ${capability}`);
    return id;
  }

  get accountId(): Id {
    return this.accountFor(CAP_MAIL);
  }

  /** @internal Adds the default accountId unless the caller chose one. */
  withAccount(method: string, args: Args): Args {
    if ('accountId' in args) return args;
    return { accountId: this.accountFor(capabilityOf(method)), ...args };
  }

  batch(): Batch {
    return new Batch(this);
  }

  /**
   * Calls one method. Calls made in the same tick are sent together in one
   * HTTP request (split at the server's maxCallsInRequest).
   */
  call<M extends MethodName>(method: M, args: Args): Promise<ResponseMap[M]> {
    const id = `a${this.seq++}`;
    const handle = new CallHandle<ResponseMap[M]>(id, method);
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) queueMicrotask(() => void this.flush());
      this.queue.push({
        inv: [method, this.withAccount(method, args), id],
        handle,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
    });
  }

  private async flush(): Promise<void> {
    const all = this.queue;
    this.queue = [];
    const max = Math.max(1, this.core.maxCallsInRequest);
    const chunks: Pending[][] = [];
    for (let i = 0; i < all.length; i += max) chunks.push(all.slice(i, i + max));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const responses = await this.post(chunk.map((p) => p.inv));
          const byId = new Map(chunk.map((p) => [p.inv[2], p]));
          for (const inv of responses) byId.get(inv[2])?.handle.settle(inv);
          for (const p of chunk) {
            try {
              p.resolve(p.handle.result);
            } catch (e) {
              p.reject(e);
            }
          }
        } catch (e) {
          for (const p of chunk) p.reject(e);
        }
      }),
    );
  }

  /** RFC 8620 §3.1: POSTs one request to the API URL. */
  async post(methodCalls: Invocation[]): Promise<Invocation[]> {
    const using = new Set([CAP_CORE]);
    for (const [name] of methodCalls) using.add(capabilityOf(name));
    const body: JmapRequest = { using: [...using], methodCalls };
    await this.acquire();
    let res: Response;
    try {
      res = await this.fetchFn(this.session.apiUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...CSRF_HEADER },
        credentials: 'same-origin',
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw new NetworkError(`api: ${String(e)}`);
    } finally {
      this.release();
    }
    if (!res.ok) throw await errorFromResponse(res);
    let parsed: JmapResponse;
    try {
      parsed = (await res.json()) as JmapResponse;
    } catch {
      throw new NetworkError('api: response is not JSON', res.status);
    }
    if (!Array.isArray(parsed.methodResponses)) throw new NetworkError('api: no methodResponses', res.status);
    // RFC 8620 §3.4: a changed sessionState means the session must be refetched.
    if (this.sessionValue && parsed.sessionState && parsed.sessionState !== this.sessionValue.state) {
      void this.loadSession().catch(() => undefined);
    }
    return parsed.methodResponses;
  }

  /** Limits concurrent API requests to the server's maxConcurrentRequests. */
  private async acquire(): Promise<void> {
    while (this.active >= Math.max(1, this.core.maxConcurrentRequests)) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.active++;
  }

  private release(): void {
    this.active--;
    this.waiters.shift()?.();
  }

  /** RFC 8620 §6.1: uploads a blob; the result's blobId goes into Email/set. */
  async upload(data: Blob, type: string = data.type || 'application/octet-stream'): Promise<UploadResult> {
    const url = expandTemplate(this.session.uploadUrl, { accountId: this.accountId });
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': type, Accept: 'application/json', ...CSRF_HEADER },
        credentials: 'same-origin',
        body: data,
      });
    } catch (e) {
      throw new NetworkError(`upload: ${String(e)}`);
    }
    if (!res.ok) throw await errorFromResponse(res);
    return (await res.json()) as UploadResult;
  }

  /** RFC 8620 §6.2: the URL of a blob, served with the given type and name. */
  downloadUrl(blobId: Id, name: string, type: string): string {
    return expandTemplate(this.session.downloadUrl, {
      accountId: this.accountId,
      blobId,
      name: name || 'download',
      type,
    });
  }

  /**
   * The server's sanitised rendering of an HTML email, shown in a sandboxed
   * iframe. Advertised by the urn:freehold:params:jmap:html capability
   * (htmlUrl with {accountId}, {emailId}, {remote}); the default is the
   * path the server uses when it does not advertise one.
   */
  htmlUrl(emailId: Id, remote: boolean): string {
    const cap = this.session.capabilities[CAP_HTML] as HtmlCapability | undefined;
    const tpl = sameOrigin(cap?.htmlUrl ?? DEFAULT_HTML_URL);
    return expandTemplate(tpl, { accountId: this.accountId, emailId, remote: remote ? '1' : '0' });
  }

  /** RFC 8620 §7.3: the push URL, asking for every type and pings. */
  eventSourceUrl(pingSeconds = 30): string {
    return expandTemplate(this.session.eventSourceUrl, { types: '*', closeafter: 'no', ping: String(pingSeconds) });
  }
}

/** Throws when a /set left objects not created, updated or destroyed. */
export function assertSet<T>(method: string, r: SetResponse<T>): SetResponse<T> {
  const failures = { ...(r.notCreated ?? {}), ...(r.notUpdated ?? {}), ...(r.notDestroyed ?? {}) };
  if (Object.keys(failures).length > 0) throw new SetFailedError(method, failures);
  return r;
}
