import { describe, expect, it } from 'vitest';
import { applyPatch, movePatch } from './patch';
import type { Email } from './jmap/types';

const e = (id: string, mailboxIds: Record<string, boolean>, keywords: Record<string, boolean> = {}) =>
  ({ id, mailboxIds, keywords }) as unknown as Email;

describe('applyPatch', () => {
  it('sets and clears keywords and mailboxes by path', () => {
    const r = applyPatch(e('1', { IN: true }, { $seen: true }), {
      'keywords/$seen': null, 'keywords/$flagged': true, 'mailboxIds/IN': null, 'mailboxIds/AR': true, 'keywords/a~1b': true,
    });
    expect(r.keywords).toEqual({ $flagged: true, 'a/b': true });
    expect(r.mailboxIds).toEqual({ AR: true });
  });
  it('replaces a whole property and leaves the original alone', () => {
    const orig = e('1', { IN: true });
    expect(applyPatch(orig, { mailboxIds: { D: true } }).mailboxIds).toEqual({ D: true });
    expect(orig.mailboxIds).toEqual({ IN: true });
  });
});

describe('movePatch', () => {
  it('moves only emails in the source mailbox', () => {
    expect(movePatch([e('1', { IN: true, X: true }), e('2', { SENT: true })], 'IN', 'AR')).toEqual({
      1: { 'mailboxIds/IN': null, 'mailboxIds/AR': true },
    });
  });
  it('without a source, puts everything in the target only', () => {
    expect(movePatch([e('1', { IN: true })], null, 'TR')).toEqual({ 1: { mailboxIds: { TR: true } } });
  });
});
