/** The browser `Origin` allow-list every server half applies the same way. */

/** Allowed `Origin` values, or a predicate; undefined allows every origin. */
export type OriginPolicy = readonly string[] | ((origin: string) => boolean) | undefined;

/**
 * Whether a request's `Origin` passes the policy. Requests without `Origin` are not from a
 * browser page (servers, devices, curl), so an allow-list does not apply to them.
 */
export function originAllowed(origin: string | undefined, policy: OriginPolicy): boolean {
  if (origin === undefined || policy === undefined) return true;
  return typeof policy === 'function' ? policy(origin) : policy.includes(origin);
}
