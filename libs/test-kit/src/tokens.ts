/** JWTs for tests, signed with jose as an app backend would sign them. */
import { SignJWT, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';

/** The HS256 secret test servers are started with. */
export const TEST_JWT_SECRET = 'switchyard-test-secret-0123456789abcdef';

/** How to sign: HS256 with `TEST_JWT_SECRET` unless told otherwise. */
export interface MintOptions {
  readonly secret?: string;
  readonly key?: CryptoKey | KeyObject;
  readonly alg?: string;
  readonly kid?: string;
}

/** Signs `claims` (`sub`, `rooms`, `id`, `exp`, …) into a compact JWT. */
export function mintToken(claims: JWTPayload, options: MintOptions = {}): Promise<string> {
  const alg = options.alg ?? 'HS256';
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg,
    ...(options.kid !== undefined && { kid: options.kid }),
  });
  return jwt.sign(options.key ?? new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}
