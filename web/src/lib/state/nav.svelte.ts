// The current route, kept in step with the address bar (History API).

import { formatRoute, parseRoute, type Route } from '../router';

export class Nav {
  route = $state<Route>(parseRoute(location.pathname));

  constructor() {
    addEventListener('popstate', () => {
      this.route = parseRoute(location.pathname);
    });
  }

  go(route: Route, opts: { replace?: boolean } = {}): void {
    const path = formatRoute(route);
    if (path !== location.pathname) {
      if (opts.replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    this.route = route;
  }
}
