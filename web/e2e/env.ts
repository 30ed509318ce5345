// Test settings from the environment (see playwright.config.ts).

export interface Account {
  user: string;
  password: string;
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the e2e tests need a running Freehold (see playwright.config.ts)`);
  return v;
}

export const env = {
  get url(): string {
    return need('FREEHOLD_URL');
  },
  get smtp(): { host: string; port: number } {
    const [host, port] = need('FREEHOLD_SMTP').split(/:(?=\d+$)/);
    return { host: host ?? '127.0.0.1', port: Number(port) };
  },
  get alice(): Account {
    return { user: need('FREEHOLD_USER'), password: need('FREEHOLD_PASSWORD') };
  },
  get bob(): Account {
    return { user: need('FREEHOLD_USER2'), password: need('FREEHOLD_PASSWORD2') };
  },
};

/** A word no other test message contains, for finding this test's mail. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
