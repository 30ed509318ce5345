// RFC 6570 level-1 URI templates, as used by the JMAP session's
// downloadUrl, uploadUrl and eventSourceUrl (RFC 8620 §2).

/** Percent-encodes everything but RFC 3986 unreserved characters. */
export function encodeTemplateValue(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Expands {name} variables; a variable with no value expands to "". */
export function expandTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => encodeTemplateValue(vars[name] ?? ''));
}

/**
 * Makes a URL advertised by the server usable from the app: the app only
 * ever talks to its own origin (its CSP says connect-src 'self'), so an
 * absolute URL is reduced to its path and query, which the same server
 * answers whatever host name it was configured with.
 */
export function sameOrigin(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(url);
  if (!m) return url;
  const rest = m[1] ?? '';
  return rest === '' ? '/' : rest;
}
