import { describe, expect, it } from 'vitest';
import { linkify } from './linkify';

describe('linkify', () => {
  it('links http, https, mailto and www, not other schemes', () => {
    expect(linkify('see https://x.test/a?b=1. or www.y.test, mail mailto:a@x.test; javascript:alert(1)')).toEqual([
      { text: 'see ' },
      { text: 'https://x.test/a?b=1', href: 'https://x.test/a?b=1' },
      { text: '. or ' },
      { text: 'www.y.test', href: 'https://www.y.test' },
      { text: ', mail ' },
      { text: 'mailto:a@x.test', href: 'mailto:a@x.test' },
      { text: '; javascript:alert(1)' },
    ]);
  });
  it('keeps text without links whole', () => {
    expect(linkify('<b>hi</b>')).toEqual([{ text: '<b>hi</b>' }]);
    expect(linkify('')).toEqual([]);
  });
});
