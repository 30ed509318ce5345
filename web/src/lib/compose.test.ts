import { describe, expect, it } from 'vitest';
import { draftEmail, emptyDraft, forwardSubject, isEmptyDraft, parseAddressList, quoteText, replyDraft, replyRecipients, replySubject, formatAddress, type ReplyContext } from './compose';
import type { Email } from './jmap/types';

const original = (p: Partial<Email> = {}): Email => ({
  id: 'E1', blobId: 'B1', threadId: 'T1', mailboxIds: { INBOX: true }, keywords: {}, size: 10,
  receivedAt: '2026-03-04T09:00:00Z', messageId: ['m1@x.test'], inReplyTo: null, references: ['m0@x.test'],
  from: [{ name: 'Bob', email: 'bob@x.test' }],
  to: [{ name: 'Ann', email: 'ann@example.test' }, { name: null, email: 'cy@x.test' }],
  cc: [{ name: null, email: 'dee@x.test' }, { name: null, email: 'ANN@example.test' }],
  bcc: null, replyTo: null, subject: 'Re: Plans', sentAt: '2026-03-04T09:00:00Z', hasAttachment: true, preview: '',
  textBody: [], htmlBody: [], bodyValues: {},
  attachments: [{ partId: '2', blobId: 'B2', size: 3, name: 'a.pdf', type: 'application/pdf', charset: null, disposition: 'attachment', cid: null }],
  ...p,
});
const ctx = (o: Email): ReplyContext => ({
  original: o, originalText: 'Hello\n> earlier', myAddresses: new Set(['ann@example.test']), identity: null, locale: 'en-GB',
});

describe('addresses', () => {
  it('parses what people type', () => {
    expect(parseAddressList('Bob <bob@x.test>, cy@x.test; "Doe, Jane" <jane@x.test>, nonsense')).toEqual([
      { name: 'Bob', email: 'bob@x.test' },
      { name: null, email: 'cy@x.test' },
      { name: 'Doe, Jane', email: 'jane@x.test' },
    ]);
    expect(formatAddress({ name: 'Doe, Jane', email: 'jane@x.test' })).toBe('"Doe, Jane" <jane@x.test>');
    expect(parseAddressList(formatAddress({ name: 'Doe, Jane', email: 'jane@x.test' }))).toEqual([{ name: 'Doe, Jane', email: 'jane@x.test' }]);
  });
});

describe('subjects and quoting', () => {
  it('does not stack prefixes', () => {
    expect(replySubject('Re: RE: Fwd: Plans')).toBe('Re: Plans');
    expect(forwardSubject('Fw: Plans')).toBe('Fwd: Plans');
    expect(replySubject(null)).toBe('Re: ');
  });
  it('quotes line by line', () => {
    expect(quoteText('a\n> b\n\n')).toBe('> a\n>> b');
  });
});

describe('replies', () => {
  it('reply goes to the sender (or Reply-To)', () => {
    expect(replyRecipients('reply', ctx(original())).to.map((a) => a.email)).toEqual(['bob@x.test']);
    const withReplyTo = original({ replyTo: [{ name: 'List', email: 'list@x.test' }] });
    expect(replyRecipients('reply', ctx(withReplyTo)).to.map((a) => a.email)).toEqual(['list@x.test']);
  });
  it('reply all keeps everyone but me, once', () => {
    const r = replyRecipients('replyAll', ctx(original()));
    expect(r.to.map((a) => a.email)).toEqual(['bob@x.test', 'cy@x.test']);
    expect(r.cc.map((a) => a.email)).toEqual(['dee@x.test']);
  });
  it('replying to my own message goes to its recipients', () => {
    const mine = original({ from: [{ name: 'Ann', email: 'ann@example.test' }], to: [{ name: null, email: 'bob@x.test' }] });
    expect(replyRecipients('reply', ctx(mine)).to.map((a) => a.email)).toEqual(['bob@x.test']);
  });
  it('threads the reply and quotes the original', () => {
    const d = replyDraft('reply', ctx(original()));
    expect(d.inReplyTo).toEqual(['m1@x.test']);
    expect(d.references).toEqual(['m0@x.test', 'm1@x.test']);
    expect(d.subject).toBe('Re: Plans');
    expect(d.text).toContain('Bob wrote:\n> Hello\n>> earlier');
    expect(d.html).toContain('<blockquote><p>Hello<br>&#62; earlier</p></blockquote>');
  });
  it('forward carries the attachments and a header block', () => {
    const d = replyDraft('forward', ctx(original()));
    expect(d.subject).toBe('Fwd: Plans');
    expect(d.to).toEqual([]);
    expect(d.attachments).toEqual([{ blobId: 'B2', name: 'a.pdf', type: 'application/pdf', size: 3 }]);
    expect(d.text).toContain('From: Bob <bob@x.test>');
    expect(d.inReplyTo).toBeNull();
  });
});

describe('draftEmail', () => {
  it('stores a plain draft in Drafts with $draft', () => {
    const d = { ...emptyDraft(null), to: [{ name: null, email: 'bob@x.test' }], subject: 'Hi', text: 'Body' };
    const e = draftEmail(d, { name: 'Ann', email: 'ann@example.test' }, 'DRAFTS');
    expect(e).toMatchObject({
      mailboxIds: { DRAFTS: true },
      keywords: { $draft: true, $seen: true },
      bodyValues: { text: { value: 'Body' } },
      textBody: [{ partId: 'text', type: 'text/plain' }],
    });
    expect(e.htmlBody).toBeUndefined();
    expect(e.attachments).toBeUndefined();
  });
  it('adds the HTML alternative and attachments for a rich draft', () => {
    const d = { ...emptyDraft(null), rich: true, text: 'B', html: '<p>B</p>', attachments: [{ blobId: 'X', name: 'x.png', type: 'image/png', size: 1 }] };
    const e = draftEmail(d, { name: null, email: 'ann@example.test' }, 'D');
    expect(e.htmlBody).toEqual([{ partId: 'html', type: 'text/html' }]);
    expect(e.attachments).toEqual([{ blobId: 'X', type: 'image/png', name: 'x.png', disposition: 'attachment' }]);
  });
  it('knows an empty draft (signature only)', () => {
    expect(isEmptyDraft({ ...emptyDraft(null), text: '\n\n-- \nAnn' })).toBe(true);
    expect(isEmptyDraft({ ...emptyDraft(null), subject: 'x' })).toBe(false);
  });
});
