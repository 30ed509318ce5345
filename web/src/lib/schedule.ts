// Send later: the preset times offered, and the EmailSubmission that holds
// a message until then (RFC 8621 §7 with the FUTURERELEASE HOLDUNTIL
// parameter of RFC 4865 on MAIL FROM). Undo send uses the same hold for
// the user's undo delay.

import type { EmailAddress, Envelope, Id } from './jmap/types';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface Preset {
  id: 'later-today' | 'tomorrow-morning' | 'monday-morning';
  label: string;
  at: Date;
}

export const MORNING_HOUR = 8;
/** "Later today" is not offered when it would fall after this hour. */
export const EVENING_LIMIT_HOUR = 20;

function at(day: Date, hour: number): Date {
  const d = new Date(day);
  d.setHours(hour, 0, 0, 0);
  return d;
}

function addDays(d: Date, n: number): Date {
  const r = new Date(d);
  r.setDate(r.getDate() + n);
  return r;
}

/**
 * The presets for "now" in local time:
 * - later today: three hours ahead, on the hour, if that is still today
 *   and not after 20:00;
 * - tomorrow morning: 08:00 tomorrow;
 * - Monday morning: 08:00 on the next Monday, not offered when that is
 *   tomorrow (it would duplicate the previous one).
 */
export function presets(clock: Clock): Preset[] {
  const now = clock.now();
  const out: Preset[] = [];
  const later = new Date(now);
  later.setHours(now.getHours() + 3, 0, 0, 0);
  if (later.getDate() === now.getDate() && later.getHours() <= EVENING_LIMIT_HOUR && later > now) {
    out.push({ id: 'later-today', label: 'Later today', at: later });
  }
  const tomorrow = at(addDays(now, 1), MORNING_HOUR);
  out.push({ id: 'tomorrow-morning', label: 'Tomorrow morning', at: tomorrow });
  const daysToMonday = ((8 - now.getDay()) % 7) || 7;
  const monday = at(addDays(now, daysToMonday), MORNING_HOUR);
  if (daysToMonday !== 1) out.push({ id: 'monday-morning', label: 'Monday morning', at: monday });
  return out;
}

/** Whether a picked time is usable: in the future (a minute of slack), within a year. */
export function validSendAt(when: Date, clock: Clock): string | null {
  const now = clock.now().getTime();
  if (Number.isNaN(when.getTime())) return 'Pick a date and time.';
  if (when.getTime() < now + 60_000) return 'Pick a time in the future.';
  if (when.getTime() > now + 366 * 86_400_000) return 'Pick a time within a year.';
  return null;
}

/** RFC 3339 UTC without fractional seconds, as HOLDUNTIL (RFC 4865 §4) expects. */
export function holdUntilValue(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The value of an <input type="datetime-local"> for a date, in local time. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export interface SubmissionInput {
  identityId: Id;
  emailId: Id;
  from: string;
  recipients: readonly EmailAddress[];
  /** When to release the message; null sends at once. */
  sendAt: Date | null;
}

/**
 * The envelope: RFC 8621 §7 requires rcptTo whenever an envelope is given,
 * so the recipients (To, Cc and Bcc, deduplicated) are listed here.
 */
export function envelopeFor(input: SubmissionInput): Envelope {
  const seen = new Set<string>();
  const rcptTo = [];
  for (const a of input.recipients) {
    const key = a.email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    rcptTo.push({ email: a.email, parameters: null });
  }
  return {
    mailFrom: {
      email: input.from,
      parameters: input.sendAt ? { HOLDUNTIL: holdUntilValue(input.sendAt) } : null,
    },
    rcptTo,
  };
}

/**
 * The EmailSubmission/set create object. On success the server moves the
 * email out of Drafts into Sent and clears $draft (onSuccessUpdateEmail),
 * so a canceled submission must undo that (see reopenAsDraftPatch).
 */
export function submissionCreate(input: SubmissionInput): Record<string, unknown> {
  return {
    identityId: input.identityId,
    emailId: input.emailId,
    envelope: envelopeFor(input),
  };
}

/**
 * The hold to ask for on a send: the chosen time for "send later"; for
 * "send now" nothing when the server applies the account's undo delay
 * itself, else now plus this browser's delay (none when it is 0).
 */
export function holdFor(sendAt: Date | null, o: { serverHolds: boolean; undoSeconds: number }, clock: Clock): Date | null {
  if (sendAt) return sendAt;
  if (o.serverHolds || o.undoSeconds <= 0) return null;
  return new Date(clock.now().getTime() + o.undoSeconds * 1000);
}

/**
 * How long to offer "Undo" after a submission was created, in ms, or null
 * when it cannot be undone: it went out at once (undoStatus final), or
 * nothing holds it. The server's sendAt says when it will go; a toast
 * stays at least 3 s so it can be read.
 */
export function undoWindow(
  created: { sendAt?: string; undoStatus?: string } | undefined,
  hold: Date | null,
  clock: Clock,
): number | null {
  const pending = created?.undoStatus !== undefined ? created.undoStatus === 'pending' : hold !== null;
  if (!pending) return null;
  const at = created?.sendAt ? new Date(created.sendAt) : hold;
  const left = at && !Number.isNaN(at.getTime()) ? at.getTime() - clock.now().getTime() : 0;
  return Math.max(3000, left);
}

export function onSuccessPatch(draftsId: Id, sentId: Id | undefined): Record<string, unknown> {
  const patch: Record<string, unknown> = { 'keywords/$draft': null, [`mailboxIds/${draftsId}`]: null };
  if (sentId) patch[`mailboxIds/${sentId}`] = true;
  return patch;
}

/** Puts a message whose submission was canceled back into Drafts as a draft. */
export function reopenAsDraftPatch(draftsId: Id): Record<string, unknown> {
  return { mailboxIds: { [draftsId]: true }, 'keywords/$draft': true };
}

export function formatWhen(d: Date, clock: Clock, locale?: string): string {
  const now = clock.now();
  const sameDay = d.toDateString() === now.toDateString();
  const time = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (sameDay) return `today ${time}`;
  if (d.toDateString() === addDays(now, 1).toDateString()) return `tomorrow ${time}`;
  return `${d.toLocaleDateString(locale, { weekday: 'short', day: 'numeric', month: 'short' })} ${time}`;
}
