/** Broker URLs in logs and errors: credentials never leave the process. */
/** A broker URL as logs may show it: no user name, no password. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return url;
  }
}
