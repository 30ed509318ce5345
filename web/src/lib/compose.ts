// Composing: drafts built from scratch or from a message being answered
// or forwarded, and the Email/set create object that stores them
// (RFC 8621 §4.6, using the textBody/htmlBody/attachments shorthand).

import type { Email, EmailAddress, Id, Identity } from './jmap/types';

export interface Attachment {
  blobId: Id;
  name: string;
  type: string;
  size: number;
}

export interface Draft {
  identityId: Id | null;
  to: EmailAddress[];
  cc: EmailAddress[];
  bcc: EmailAddress[];
  subject: string;
  inReplyTo: string[] | null;
  references: string[] | null;
  rich: boolean;
  /** The plain text body (for rich drafts: the editor's text rendering). */
  text: string;
  /** The HTML body of a rich draft. */
  html: string;
  attachments: Attachment[];
  /** The stored draft this one replaces, once saved. */
  draftId: Id | null;
}

export function emptyDraft(identity: Identity | null): Draft {
  const sig = identity?.textSignature ? `\n\n-- \n${identity.textSignature}` : '';
  return {
    identityId: identity?.id ?? null,
    to: [],
    cc: [],
    bcc: [],
    subject: '',
    inReplyTo: null,
    references: null,
    rich: false,
    text: sig,
    html: '',
    attachments: [],
    draftId: null,
  };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function formatAddress(a: EmailAddress): string {
  if (!a.name) return a.email;
  const name = /[",<>@;:()[\]\\]/.test(a.name) ? `"${a.name.replace(/["\\]/g, '\\$&')}"` : a.name;
  return `${name} <${a.email}>`;
}

export function displayName(a: EmailAddress | undefined | null): string {
  if (!a) return '';
  return a.name || a.email;
}

/**
 * Parses what a person types in an address field: a comma- or
 * semicolon-separated list of "Name <addr>", "<addr>" or "addr". Commas
 * inside quotes belong to the name. Entries without an "@" are dropped.
 */
export function parseAddressList(input: string): EmailAddress[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of input) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const out: EmailAddress[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (p === '') continue;
    const m = /^(.*?)<([^<>]+)>\s*$/.exec(p);
    const email = (m ? (m[2] ?? '') : p).trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) continue;
    const name = m ? (m[1] ?? '').trim().replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1') : '';
    out.push({ name: name || null, email });
  }
  return out;
}

const prefixRe = /^\s*((re|fwd?|aw|wg|sv|vs)\s*(\[\d+\])?\s*:\s*)+/i;

export function replySubject(subject: string | null): string {
  return `Re: ${(subject ?? '').replace(prefixRe, '')}`;
}

export function forwardSubject(subject: string | null): string {
  return `Fwd: ${(subject ?? '').replace(prefixRe, '')}`;
}

function dedupe(list: EmailAddress[], exclude: ReadonlySet<string>): EmailAddress[] {
  const seen = new Set(exclude);
  const out: EmailAddress[] = [];
  for (const a of list) {
    const k = a.email.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}

/** "On Tue, 3 Mar 2026 at 10:00, Ann wrote:" */
export function attribution(original: Email, locale?: string): string {
  const when = new Date(original.sentAt ?? original.receivedAt);
  const date = when.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  return `On ${date}, ${displayName(original.from?.[0])} wrote:`;
}

export function quoteText(text: string): string {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (l.startsWith('>') ? `>${l}` : `> ${l}`))
    .join('\n');
}

export function textToHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

export interface ReplyContext {
  original: Email;
  /** The original's text, from its text body. */
  originalText: string;
  /** Every address of the user, lower-cased: never a reply recipient. */
  myAddresses: ReadonlySet<string>;
  identity: Identity | null;
  locale?: string;
}

/** The recipients of a reply or reply-all (RFC 5322 §3.6.3). */
export function replyRecipients(mode: 'reply' | 'replyAll', ctx: ReplyContext): { to: EmailAddress[]; cc: EmailAddress[] } {
  const o = ctx.original;
  const fromMe = (o.from ?? []).some((a) => ctx.myAddresses.has(a.email.toLowerCase()));
  // Answering one's own message continues to its recipients.
  const primary = fromMe ? (o.to ?? []) : (o.replyTo?.length ? o.replyTo : (o.from ?? []));
  const exclude = fromMe ? new Set<string>() : ctx.myAddresses;
  if (mode === 'reply') return { to: dedupe([...primary], exclude), cc: [] };
  const to = dedupe([...primary, ...(fromMe ? [] : (o.to ?? []))], ctx.myAddresses);
  const toSet = new Set([...ctx.myAddresses, ...to.map((a) => a.email.toLowerCase())]);
  return { to, cc: dedupe([...(o.cc ?? [])], toSet) };
}

export function replyDraft(mode: 'reply' | 'replyAll' | 'forward', ctx: ReplyContext): Draft {
  const o = ctx.original;
  const d = emptyDraft(ctx.identity);
  const attr = attribution(o, ctx.locale);
  if (mode === 'forward') {
    d.subject = forwardSubject(o.subject);
    const header = [
      '---------- Forwarded message ----------',
      `From: ${(o.from ?? []).map(formatAddress).join(', ')}`,
      `Date: ${new Date(o.sentAt ?? o.receivedAt).toUTCString()}`,
      `Subject: ${o.subject ?? ''}`,
      `To: ${(o.to ?? []).map(formatAddress).join(', ')}`,
    ].join('\n');
    d.text = `${d.text}\n\n${header}\n\n${ctx.originalText}`;
    d.html = `<p></p><p>${escapeHtml(header).replace(/\n/g, '<br>')}</p>${textToHtml(ctx.originalText)}`;
    d.attachments = (o.attachments ?? [])
      .filter((a) => a.blobId)
      .map((a) => ({ blobId: a.blobId as Id, name: a.name ?? 'attachment', type: a.type, size: a.size }));
    return d;
  }
  const { to, cc } = replyRecipients(mode, ctx);
  d.to = to;
  d.cc = cc;
  d.subject = replySubject(o.subject);
  d.inReplyTo = o.messageId ?? null;
  d.references = [...(o.references ?? []), ...(o.messageId ?? [])];
  if (d.references.length === 0) d.references = null;
  d.text = `\n\n${attr}\n${quoteText(ctx.originalText)}${d.text}`;
  d.html = `<p></p><p>${escapeHtml(attr)}</p><blockquote>${textToHtml(ctx.originalText)}</blockquote>`;
  return d;
}

/** The recipients a submission's envelope must carry. */
export function allRecipients(d: Pick<Draft, 'to' | 'cc' | 'bcc'>): EmailAddress[] {
  return [...d.to, ...d.cc, ...d.bcc];
}

/** The Email/set create object for a draft stored in the Drafts mailbox. */
export function draftEmail(d: Draft, from: EmailAddress, draftsId: Id): Record<string, unknown> {
  const email: Record<string, unknown> = {
    mailboxIds: { [draftsId]: true },
    keywords: { $draft: true, $seen: true },
    from: [from],
    to: d.to,
    cc: d.cc,
    bcc: d.bcc,
    subject: d.subject,
    bodyValues: { text: { value: d.text } },
    textBody: [{ partId: 'text', type: 'text/plain' }],
  };
  if (d.inReplyTo) email.inReplyTo = d.inReplyTo;
  if (d.references) email.references = d.references;
  if (d.rich) {
    (email.bodyValues as Record<string, unknown>).html = { value: d.html };
    email.htmlBody = [{ partId: 'html', type: 'text/html' }];
  }
  if (d.attachments.length > 0) {
    email.attachments = d.attachments.map((a) => ({
      blobId: a.blobId,
      type: a.type,
      name: a.name,
      disposition: 'attachment',
    }));
  }
  return email;
}

/** Whether there is anything worth keeping as a draft. */
export function isEmptyDraft(d: Draft): boolean {
  return d.to.length + d.cc.length + d.bcc.length === 0 && d.subject.trim() === '' &&
    d.text.replace(/\n*-- \n[\s\S]*$/, '').trim() === '' && d.attachments.length === 0;
}

/** Draft fields restored from a stored draft Email (for "edit" of a scheduled message). */
export function draftFromEmail(e: Email, text: string, html: string | null, identityId: Id | null): Draft {
  return {
    identityId,
    to: e.to ?? [],
    cc: e.cc ?? [],
    bcc: e.bcc ?? [],
    subject: e.subject ?? '',
    inReplyTo: e.inReplyTo,
    references: e.references,
    rich: html !== null,
    text,
    html: html ?? '',
    attachments: (e.attachments ?? [])
      .filter((a) => a.blobId)
      .map((a) => ({ blobId: a.blobId as Id, name: a.name ?? 'attachment', type: a.type, size: a.size })),
    draftId: e.id,
  };
}
