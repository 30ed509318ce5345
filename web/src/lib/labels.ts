// Labels: names and colours for plain JMAP keywords (RFC 8621 §4.1.1),
// the way Thunderbird's tags are keywords. An Email carries the keyword
// ("work"); the user's list of definitions lives on the server behind the
// urn:freehold:params:jmap:labels capability (Label/get, Label/set).

import { assertSet, type JmapClient } from './jmap/client';
import type { Id, Label } from './jmap/types';

export const LABEL_COLORS = [
  '#d93025', '#e8710a', '#f9ab00', '#188038', '#1a73e8', '#9334e6', '#c5221f', '#5f6368',
] as const;

export type LabelInput = Pick<Label, 'name' | 'color'>;

/** Where label definitions are kept. */
export interface LabelStore {
  load(): Promise<Label[]>;
  create(input: LabelInput & { keyword: string }): Promise<Label>;
  update(id: Id, patch: Partial<LabelInput>): Promise<void>;
  destroy(id: Id): Promise<void>;
}

/**
 * Derives a keyword from a label name: lower case ASCII (keywords are
 * case-insensitive and JMAP sends them lower-cased), accents stripped,
 * spaces as "_", none of the characters IMAP forbids in an atom
 * ( ) { ] % * " \ and never a leading "$", which marks system keywords.
 * A clash with an existing keyword gets a numeric suffix.
 */
export function keywordFor(name: string, taken: Iterable<string> = []): string {
  const used = new Set([...taken].map((k) => k.toLowerCase()));
  let base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim()
    .replace(/\s+/g, '_')
    .replace(/[^a-z0-9_.\-+&]/g, '')
    .replace(/^[$]+/, '')
    .slice(0, 64);
  if (base === '') base = 'label';
  let kw = base;
  for (let n = 2; used.has(kw); n++) kw = `${base}-${n}`;
  return kw;
}

/** The labels an email carries, in the order of the label list. */
export function labelsOf(keywords: Readonly<Record<string, boolean>> | undefined, labels: readonly Label[]): Label[] {
  if (!keywords) return [];
  return labels.filter((l) => keywords[l.keyword.toLowerCase()] === true || keywords[l.keyword] === true);
}

/** The Email/set update that adds or removes one keyword on many emails (RFC 8620 §5.3 patch). */
export function keywordPatch(emailIds: readonly Id[], keyword: string, on: boolean): Record<Id, Record<string, true | null>> {
  const path = `keywords/${keyword.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return Object.fromEntries(emailIds.map((id) => [id, { [path]: on ? true : null }]));
}

/**
 * The state of a label over a selection: all carry it, none, or some; a
 * picker shows a tick, nothing, or a dash, and toggling "some" adds.
 */
export function labelState(selection: readonly Readonly<Record<string, boolean>>[], keyword: string): 'all' | 'none' | 'some' {
  const n = selection.filter((k) => k[keyword] === true).length;
  if (n === 0) return 'none';
  return n === selection.length ? 'all' : 'some';
}

export function validateLabel(input: LabelInput, others: readonly Label[]): string | null {
  const name = input.name.trim();
  if (name === '') return 'A label needs a name.';
  if (name.length > 100) return 'That name is too long.';
  if (others.some((l) => l.name.toLowerCase() === name.toLowerCase())) return 'A label with that name exists.';
  if (!/^#[0-9a-f]{6}$/i.test(input.color)) return 'Pick a colour.';
  return null;
}

/** Label definitions stored on the server (Label/get, Label/set). */
export class JmapLabelStore implements LabelStore {
  constructor(private readonly client: JmapClient) {}

  async load(): Promise<Label[]> {
    const r = await this.client.call('Label/get', { ids: null });
    return r.list;
  }

  async create(input: LabelInput & { keyword: string }): Promise<Label> {
    const r = assertSet('Label/set', await this.client.call('Label/set', { create: { new: input } }));
    const created = r.created?.['new'];
    if (!created) throw new Error('Label/set: not created');
    return { ...input, ...created } as Label;
  }

  async update(id: Id, patch: Partial<LabelInput>): Promise<void> {
    assertSet('Label/set', await this.client.call('Label/set', { update: { [id]: patch } }));
  }

  async destroy(id: Id): Promise<void> {
    assertSet('Label/set', await this.client.call('Label/set', { destroy: [id] }));
  }
}

/**
 * Used only while the server does not advertise the labels capability:
 * definitions kept in this browser. Emails still carry real keywords.
 */
export class LocalLabelStore implements LabelStore {
  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'>,
    private readonly key: string,
  ) {}

  private read(): Label[] {
    try {
      const v = JSON.parse(this.storage.getItem(this.key) ?? '[]') as unknown;
      return Array.isArray(v) ? (v as Label[]) : [];
    } catch {
      return [];
    }
  }

  private write(list: Label[]): void {
    this.storage.setItem(this.key, JSON.stringify(list));
  }

  async load(): Promise<Label[]> {
    return this.read();
  }

  async create(input: LabelInput & { keyword: string }): Promise<Label> {
    const list = this.read();
    const label: Label = { id: `L${Date.now().toString(36)}${list.length}`, ...input };
    this.write([...list, label]);
    return label;
  }

  async update(id: Id, patch: Partial<LabelInput>): Promise<void> {
    this.write(this.read().map((l) => (l.id === id ? { ...l, ...patch } : l)));
  }

  async destroy(id: Id): Promise<void> {
    this.write(this.read().filter((l) => l.id !== id));
  }
}
