import { getContext, setContext } from 'svelte';
import type { App } from './state/app.svelte';

const KEY = Symbol('app');

export function provideApp(app: App): void {
  setContext(KEY, app);
}

export function useApp(): App {
  const app = getContext<App | undefined>(KEY);
  if (!app) throw new Error('useApp outside the app');
  return app;
}
