import { describe, expect, it } from 'vitest';
import { assertSet, JmapClient } from './client';
import { MethodError, NetworkError, RequestError, SetFailedError, UnauthorizedError } from './errors';
import { CAP_CORE, CAP_HELD, CAP_MAIL, CAP_SUBMISSION, type Invocation, type JmapRequest, type Session } from './types';

const session: Session = {
  capabilities: { [CAP_CORE]: { maxCallsInRequest: 3, maxConcurrentRequests: 2 }, [CAP_MAIL]: {}, [CAP_SUBMISSION]: {} },
  accounts: { A1: { name: 'ann@example.test', isPersonal: true, isReadOnly: false, accountCapabilities: {} } },
  primaryAccounts: { [CAP_MAIL]: 'A1', [CAP_SUBMISSION]: 'A1', [CAP_HELD]: 'A1' },
  username: 'ann@example.test',
  apiUrl: 'https://mail.example.test/jmap/api',
  downloadUrl: 'https://mail.example.test/jmap/download/{accountId}/{blobId}/{name}?accept={type}',
  uploadUrl: '/jmap/upload/{accountId}/',
  eventSourceUrl: '/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}',
  state: 's1',
};

interface Seen {
  url: string;
  init: RequestInit | undefined;
  body?: JmapRequest;
}

/**
 * A fake server: answers the session, and each API call through `answer`.
 * Records every request so tests can check what went on the wire.
 */
function fakeServer(answer: (inv: Invocation, req: JmapRequest) => Invocation[], opts: { sessionState?: string } = {}) {
  const seen: Seen[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const f: typeof fetch = async (input, init) => {
    const url = String(input);
    const s: Seen = { url, init };
    seen.push(s);
    if (url === '/.well-known/jmap') return Response.json(session);
    if (url === '/jmap/api') {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      await new Promise((r) => setTimeout(r, 5));
      inflight--;
      const req = JSON.parse(String(init?.body)) as JmapRequest;
      s.body = req;
      const methodResponses = req.methodCalls.flatMap((inv) => answer(inv, req));
      return Response.json({ methodResponses, sessionState: opts.sessionState ?? 's1' });
    }
    return new Response('not found', { status: 404 });
  };
  return { f, seen, maxInflight: () => maxInflight };
}

async function client(answer: Parameters<typeof fakeServer>[0], opts?: { sessionState?: string }) {
  const srv = fakeServer(answer, opts);
  const c = new JmapClient({ fetch: srv.f });
  await c.loadSession();
  return { c, srv };
}

describe('JmapClient', () => {
  it('reduces the session URLs to the app origin and sends the CSRF header', async () => {
    const { c, srv } = await client((inv) => [[inv[0], { list: [] }, inv[2]]]);
    expect(c.session.apiUrl).toBe('/jmap/api');
    expect(c.session.downloadUrl).toBe('/jmap/download/{accountId}/{blobId}/{name}?accept={type}');
    await c.call('Mailbox/get', { ids: null });
    const api = srv.seen.find((s) => s.url === '/jmap/api');
    expect(new Headers(api?.init?.headers).get('X-Freehold')).toBe('1');
    expect(api?.init?.credentials).toBe('same-origin');
  });

  it('asks for held messages under their own capability, for its account', async () => {
    const { c, srv } = await client((inv) => [[inv[0], { accountId: (inv[1] as { accountId: string }).accountId, list: [] }, inv[2]]]);
    const r = await c.call('HeldMessage/get', { ids: null });
    expect(r.accountId).toBe('A1');
    const api = srv.seen.find((s) => s.url === '/jmap/api');
    expect(api?.body?.using.sort()).toEqual([CAP_CORE, CAP_HELD].sort());
  });

  it('coalesces calls of one tick into one request with the right capabilities and account', async () => {
    const { c, srv } = await client((inv) => [[inv[0], { echo: inv[1] }, inv[2]]]);
    const [a, b] = await Promise.all([
      c.call('Mailbox/get', { ids: null }),
      c.call('Identity/get', { ids: null }),
    ]);
    const apiCalls = srv.seen.filter((s) => s.url === '/jmap/api');
    expect(apiCalls).toHaveLength(1);
    expect(apiCalls[0]?.body?.using.sort()).toEqual([CAP_CORE, CAP_MAIL, CAP_SUBMISSION].sort());
    expect((a as unknown as { echo: { accountId: string } }).echo.accountId).toBe('A1');
    expect((b as unknown as { echo: { ids: null } }).echo.ids).toBeNull();
  });

  it('splits at maxCallsInRequest and keeps to maxConcurrentRequests', async () => {
    const { c, srv } = await client((inv) => [[inv[0], { n: inv[1].n }, inv[2]]]);
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => c.call('Email/get', { n })));
    expect(results.map((r) => (r as unknown as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const sizes = srv.seen.filter((s) => s.url === '/jmap/api').map((s) => s.body?.methodCalls.length);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(srv.maxInflight()).toBeLessThanOrEqual(2);
  });

  it('sends result references in a batch and exposes each result', async () => {
    const { c, srv } = await client((inv) => {
      if (inv[0] === 'Email/query') return [['Email/query', { ids: ['e1', 'e2'], position: 0, total: 2 }, inv[2]]];
      return [['Email/get', { list: [{ id: 'e1' }, { id: 'e2' }], state: 'x', notFound: [] }, inv[2]]];
    });
    const b = c.batch();
    const q = b.add('Email/query', { filter: { inMailbox: 'INBOX' }, position: 0, limit: 50 });
    const g = b.add('Email/get', { '#ids': q.ref('/ids'), properties: ['subject'] });
    await b.send();
    const sent = srv.seen.find((s) => s.url === '/jmap/api')?.body;
    expect(sent?.methodCalls[1]?.[1]['#ids']).toEqual({ resultOf: q.callId, name: 'Email/query', path: '/ids' });
    expect(q.result.total).toBe(2);
    expect(g.result.list.map((e) => e.id)).toEqual(['e1', 'e2']);
  });

  it('turns an error response into a MethodError for that call only', async () => {
    const { c } = await client((inv) =>
      inv[0] === 'Email/changes'
        ? [['error', { type: 'cannotCalculateChanges' }, inv[2]]]
        : [[inv[0], { list: [] }, inv[2]]],
    );
    const [ok, bad] = await Promise.allSettled([c.call('Mailbox/get', {}), c.call('Email/changes', { sinceState: 'old' })]);
    expect(ok.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    const err = (bad as PromiseRejectedResult).reason as MethodError;
    expect(err).toBeInstanceOf(MethodError);
    expect(err.type).toBe('cannotCalculateChanges');
    expect(err.method).toBe('Email/changes');
  });

  it('keeps the implicit second response of a call (onSuccessUpdateEmail)', async () => {
    const { c } = await client((inv) => [
      ['EmailSubmission/set', { created: { s: { id: 'S1' } } }, inv[2]],
      ['Email/set', { updated: { e1: null } }, inv[2]],
    ]);
    const b = c.batch();
    const h = b.add('EmailSubmission/set', { create: { s: {} } });
    await b.send();
    expect(h.result.created?.['s']?.id).toBe('S1');
    expect(h.extra[0]?.[0]).toBe('Email/set');
  });

  it('maps request-level problems and 401', async () => {
    const mk = (status: number, body: unknown) => {
      const f: typeof fetch = async (url) =>
        String(url) === '/.well-known/jmap' ? Response.json(session) : Response.json(body, { status });
      return new JmapClient({ fetch: f });
    };
    const limited = mk(400, { type: 'urn:ietf:params:jmap:error:limit', limit: 'maxSizeRequest', status: 400, detail: 'too big' });
    await limited.loadSession();
    const e = await limited.call('Mailbox/get', {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RequestError);
    expect((e as RequestError).limit).toBe('maxSizeRequest');
    const unauth = mk(401, {});
    await unauth.loadSession();
    await expect(unauth.call('Mailbox/get', {})).rejects.toBeInstanceOf(UnauthorizedError);
    const broken = mk(502, 'gateway');
    await broken.loadSession();
    await expect(broken.call('Mailbox/get', {})).rejects.toBeInstanceOf(NetworkError);
  });

  it('reports a refused session as UnauthorizedError', async () => {
    const c = new JmapClient({ fetch: async () => new Response('', { status: 401 }) });
    await expect(c.loadSession()).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refetches the session when sessionState changes', async () => {
    const { c, srv } = await client((inv) => [[inv[0], {}, inv[2]]], { sessionState: 's2' });
    await c.call('Mailbox/get', {});
    await new Promise((r) => setTimeout(r, 10));
    expect(srv.seen.filter((s) => s.url === '/.well-known/jmap')).toHaveLength(2);
  });

  it('uploads to the expanded upload URL and builds download URLs', async () => {
    let uploaded: { url: string; type: string | null; body: string } | undefined;
    const f: typeof fetch = async (url, init) => {
      if (String(url) === '/.well-known/jmap') return Response.json(session);
      uploaded = { url: String(url), type: new Headers(init?.headers).get('Content-Type'), body: await new Response(init?.body).text() };
      return Response.json({ accountId: 'A1', blobId: 'B9', type: 'text/plain', size: 5 });
    };
    const c = new JmapClient({ fetch: f });
    await c.loadSession();
    const r = await c.upload(new Blob(['hello'], { type: 'text/plain' }));
    expect(r.blobId).toBe('B9');
    expect(uploaded).toEqual({ url: '/jmap/upload/A1/', type: 'text/plain', body: 'hello' });
    expect(c.downloadUrl('B9', 'my file (1).pdf', 'application/pdf')).toBe(
      '/jmap/download/A1/B9/my%20file%20%281%29.pdf?accept=application%2Fpdf',
    );
    expect(c.eventSourceUrl()).toBe('/jmap/eventsource?types=%2A&closeafter=no&ping=30');
    expect(c.htmlUrl('M/1', true)).toBe('/jmap/html/A1/M%2F1?remote=1');
  });

  it('assertSet throws with every failure', () => {
    const r = {
      accountId: 'A1', oldState: null, newState: 's', created: null, updated: null, destroyed: null,
      notCreated: { k: { type: 'overQuota' } }, notUpdated: null, notDestroyed: { d: { type: 'notFound' } },
    };
    expect(() => assertSet('Email/set', r)).toThrow(SetFailedError);
    try {
      assertSet('Email/set', r);
    } catch (e) {
      expect(Object.keys((e as SetFailedError).failures).sort()).toEqual(['d', 'k']);
    }
  });
});
