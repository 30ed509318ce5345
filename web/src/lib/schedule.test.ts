import { describe, expect, it } from 'vitest';
import { envelopeFor, holdFor, undoWindow, holdUntilValue, presets, reopenAsDraftPatch, onSuccessPatch, validSendAt, toLocalInput, type Clock } from './schedule';

const clockAt = (y: number, mo: number, d: number, h: number, mi = 0): Clock => ({ now: () => new Date(y, mo - 1, d, h, mi) });
const show = (c: Clock) => presets(c).map((p) => `${p.id} ${toLocalInput(p.at)}`);

describe('presets', () => {
  it('on a Wednesday morning offers all three', () => {
    // 2026-03-04 is a Wednesday.
    expect(show(clockAt(2026, 3, 4, 9, 15))).toEqual([
      'later-today 2026-03-04T12:00',
      'tomorrow-morning 2026-03-05T08:00',
      'monday-morning 2026-03-09T08:00',
    ]);
  });
  it('drops "later today" in the evening', () => {
    expect(show(clockAt(2026, 3, 4, 18, 30))).toEqual(['tomorrow-morning 2026-03-05T08:00', 'monday-morning 2026-03-09T08:00']);
  });
  it('on a Sunday does not repeat Monday as tomorrow', () => {
    expect(show(clockAt(2026, 3, 8, 10))).toEqual(['later-today 2026-03-08T13:00', 'tomorrow-morning 2026-03-09T08:00']);
  });
  it('on a Monday offers the next Monday', () => {
    expect(show(clockAt(2026, 3, 9, 7))).toContain('monday-morning 2026-03-16T08:00');
  });
  it('crosses month and year ends', () => {
    expect(show(clockAt(2026, 12, 31, 22))).toEqual(['tomorrow-morning 2027-01-01T08:00', 'monday-morning 2027-01-04T08:00']);
  });
});

describe('validSendAt', () => {
  const c = clockAt(2026, 3, 4, 9);
  it('wants a future time within a year', () => {
    expect(validSendAt(new Date(2026, 2, 4, 8), c)).toMatch(/future/);
    expect(validSendAt(new Date(2026, 2, 4, 9, 0, 30), c)).toMatch(/future/);
    expect(validSendAt(new Date(2026, 2, 4, 10), c)).toBeNull();
    expect(validSendAt(new Date(2028, 0, 1), c)).toMatch(/year/);
    expect(validSendAt(new Date('nope'), c)).toMatch(/Pick/);
  });
});

describe('submission', () => {
  it('holds with HOLDUNTIL on MAIL FROM and lists deduplicated recipients', () => {
    const when = new Date(Date.UTC(2026, 2, 5, 7, 0, 0, 123));
    expect(holdUntilValue(when)).toBe('2026-03-05T07:00:00Z');
    const env = envelopeFor({
      identityId: 'I1',
      emailId: 'E1',
      from: 'ann@example.test',
      recipients: [{ name: 'Bob', email: 'bob@example.test' }, { name: null, email: 'BOB@example.test' }, { name: null, email: 'cy@example.test' }],
      sendAt: when,
    });
    expect(env).toEqual({
      mailFrom: { email: 'ann@example.test', parameters: { HOLDUNTIL: '2026-03-05T07:00:00Z' } },
      rcptTo: [{ email: 'bob@example.test', parameters: null }, { email: 'cy@example.test', parameters: null }],
    });
    const now = envelopeFor({ identityId: 'I1', emailId: 'E1', from: 'a@x.test', recipients: [], sendAt: null });
    expect(now.mailFrom.parameters).toBeNull();
  });
  it('moves to Sent on success and back to Drafts on cancel', () => {
    expect(onSuccessPatch('D', 'S')).toEqual({ 'keywords/$draft': null, 'mailboxIds/D': null, 'mailboxIds/S': true });
    expect(reopenAsDraftPatch('D')).toEqual({ mailboxIds: { D: true }, 'keywords/$draft': true });
  });
});

describe('undo send', () => {
  const clock = { now: () => new Date('2026-03-04T10:00:00Z') };

  it('lets the server hold a send-now when it keeps the delay', () => {
    expect(holdFor(null, { serverHolds: true, undoSeconds: 10 }, clock)).toBeNull();
    expect(holdFor(null, { serverHolds: false, undoSeconds: 10 }, clock)).toEqual(new Date('2026-03-04T10:00:10Z'));
    expect(holdFor(null, { serverHolds: false, undoSeconds: 0 }, clock)).toBeNull();
    const later = new Date('2026-03-05T08:00:00Z');
    expect(holdFor(later, { serverHolds: true, undoSeconds: 10 }, clock)).toBe(later);
  });

  it('offers undo until the server sends, and not after a send at once', () => {
    expect(undoWindow({ sendAt: '2026-03-04T10:00:20Z', undoStatus: 'pending' }, null, clock)).toBe(20_000);
    expect(undoWindow({ sendAt: '2026-03-04T10:00:01Z', undoStatus: 'pending' }, null, clock)).toBe(3000);
    expect(undoWindow({ sendAt: '2026-03-04T10:00:00Z', undoStatus: 'final' }, null, clock)).toBeNull();
    // A server that does not say: the hold the app asked for decides.
    expect(undoWindow({}, new Date('2026-03-04T10:00:10Z'), clock)).toBe(10_000);
    expect(undoWindow({}, null, clock)).toBeNull();
  });
});
