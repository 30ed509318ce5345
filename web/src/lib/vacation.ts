// The away message form and the VacationResponse it writes (RFC 8621 §8).
// Dates are edited in local time (datetime-local inputs) and stored as
// UTCDate; an empty field is an open bound.

import type { VacationResponse } from './jmap/types';
import { holdUntilValue, toLocalInput } from './schedule';

export interface VacationForm {
  enabled: boolean;
  /** datetime-local values; '' means no bound. */
  from: string;
  until: string;
  subject: string;
  text: string;
}

export function formFromVacation(v: VacationResponse | null): VacationForm {
  const local = (d: string | null | undefined) => (d ? toLocalInput(new Date(d)) : '');
  return {
    enabled: v?.isEnabled ?? false,
    from: local(v?.fromDate),
    until: local(v?.toDate),
    subject: v?.subject ?? '',
    text: v?.textBody ?? '',
  };
}

/** The VacationResponse/set update for a form, or the reason it cannot be saved. */
export function vacationPatch(f: VacationForm): { patch: Partial<VacationResponse> } | { error: string } {
  const utc = (s: string): string | null | undefined => {
    if (s === '') return null;
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? undefined : holdUntilValue(d);
  };
  const fromDate = utc(f.from);
  const toDate = utc(f.until);
  if (fromDate === undefined || toDate === undefined) return { error: 'Pick a valid date and time.' };
  if (fromDate && toDate && toDate <= fromDate) return { error: 'The end must come after the start.' };
  if (f.enabled && f.text.trim() === '') return { error: 'Write the message to send.' };
  return {
    patch: {
      isEnabled: f.enabled,
      fromDate,
      toDate,
      subject: f.subject.trim() === '' ? null : f.subject.trim(),
      textBody: f.text === '' ? null : f.text,
      htmlBody: null,
    },
  };
}
