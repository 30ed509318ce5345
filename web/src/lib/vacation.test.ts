import { describe, expect, it } from 'vitest';
import { formFromVacation, vacationPatch } from './vacation';

describe('away message', () => {
  it('round-trips a stored response through the form', () => {
    const f = formFromVacation({
      id: 'singleton', isEnabled: true, fromDate: '2026-07-01T06:00:00Z', toDate: null,
      subject: 'Away', textBody: 'Back in July.', htmlBody: null,
    });
    expect(f.enabled).toBe(true);
    expect(f.until).toBe('');
    expect(f.subject).toBe('Away');
    const r = vacationPatch(f);
    expect('patch' in r && r.patch).toEqual({
      isEnabled: true, fromDate: '2026-07-01T06:00:00Z', toDate: null, subject: 'Away', textBody: 'Back in July.', htmlBody: null,
    });
  });

  it('starts empty and off without a stored response', () => {
    expect(formFromVacation(null)).toEqual({ enabled: false, from: '', until: '', subject: '', text: '' });
  });

  it('refuses an end before the start, and an empty message when on', () => {
    expect(vacationPatch({ enabled: true, from: '2026-07-10T09:00', until: '2026-07-01T09:00', subject: '', text: 'x' })).toEqual({
      error: 'The end must come after the start.',
    });
    expect(vacationPatch({ enabled: true, from: '', until: '', subject: '', text: '  ' })).toEqual({ error: 'Write the message to send.' });
    expect('patch' in vacationPatch({ enabled: false, from: '', until: '', subject: '', text: '' })).toBe(true);
  });
});
