// Client routes. The Go server answers every path without an extension
// with index.html, so these are plain paths:
//   /                              the default mailbox (the inbox)
//   /folders                       the folder list (the phone's first screen)
//   /mail/{mailboxId}[/{threadId}] a mailbox, and a conversation in it
//   /label/{keyword}[/{threadId}]  a label view
//   /search/{query}[/{threadId}]   search results
//   /scheduled                     messages waiting to be sent

export type ListSource =
  | { kind: 'mailbox'; mailboxId: string }
  | { kind: 'label'; keyword: string }
  | { kind: 'search'; query: string };

export type Route =
  | { view: 'home' }
  | { view: 'folders' }
  | { view: 'scheduled' }
  | { view: 'list'; source: ListSource; threadId: string | null };

const seg = (s: string | undefined): string | null => {
  if (s === undefined || s === '') return null;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p, i) => i > 0 || p !== '');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const [head, a, b] = [parts[0], seg(parts[1]), seg(parts[2])];
  switch (head) {
    case 'folders':
      return { view: 'folders' };
    case 'scheduled':
      return { view: 'scheduled' };
    case 'mail':
      if (a) return { view: 'list', source: { kind: 'mailbox', mailboxId: a }, threadId: b };
      break;
    case 'label':
      if (a) return { view: 'list', source: { kind: 'label', keyword: a }, threadId: b };
      break;
    case 'search':
      if (a) return { view: 'list', source: { kind: 'search', query: a }, threadId: b };
      break;
  }
  return { view: 'home' };
}

export function sourcePath(source: ListSource): string {
  switch (source.kind) {
    case 'mailbox':
      return `/mail/${encodeURIComponent(source.mailboxId)}`;
    case 'label':
      return `/label/${encodeURIComponent(source.keyword)}`;
    case 'search':
      return `/search/${encodeURIComponent(source.query)}`;
  }
}

export function formatRoute(r: Route): string {
  switch (r.view) {
    case 'home':
      return '/';
    case 'folders':
      return '/folders';
    case 'scheduled':
      return '/scheduled';
    case 'list':
      return sourcePath(r.source) + (r.threadId ? `/${encodeURIComponent(r.threadId)}` : '');
  }
}

export function sameSource(a: ListSource, b: ListSource): boolean {
  return formatRoute({ view: 'list', source: a, threadId: null }) === formatRoute({ view: 'list', source: b, threadId: null });
}
