import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";

/**
 * The three SNAP signatures (ASPI "Keamanan"). Every one is computed over the exact bytes sent or
 * received: pass the body as the string or Buffer that went over the wire, never a re-serialised
 * object. Outputs are base64. Keys are PEM strings or KeyObjects (parse them once at startup).
 */

export type SnapKey = KeyObject | string;

/** `Lowercase(HexEncode(SHA-256(body)))`; an absent body is the empty string. */
export function bodyDigest(body: string | Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

/** What a transaction signature covers, apart from the token of the symmetric variant. */
export interface SignedRequest {
  method: string;
  /** The relative path the sender addressed, query included, no host. */
  path: string;
  body: string | Buffer;
  /** The X-TIMESTAMP header, verbatim. */
  timestamp: string;
}

// B2B access token (service 73): SHA256withRSA over `clientId|X-TIMESTAMP`.

export const accessTokenStringToSign = (clientId: string, timestamp: string) => `${clientId}|${timestamp}`;

export function signAccessTokenRequest(clientId: string, timestamp: string, privateKey: SnapKey): string {
  return sign("sha256", Buffer.from(accessTokenStringToSign(clientId, timestamp)), privateKey).toString("base64");
}

export function verifyAccessTokenRequest(clientId: string, timestamp: string, signature: string, publicKey: SnapKey): boolean {
  const data = Buffer.from(accessTokenStringToSign(clientId, timestamp));
  return verify("sha256", data, publicKey, Buffer.from(signature, "base64"));
}

// Asymmetric, without token: SHA256withRSA over `METHOD:path:digest(body):timestamp`.

export function asymmetricStringToSign(request: SignedRequest): string {
  return [request.method.toUpperCase(), request.path, bodyDigest(request.body), request.timestamp].join(":");
}

export function signAsymmetric(request: SignedRequest, privateKey: SnapKey): string {
  return sign("sha256", Buffer.from(asymmetricStringToSign(request)), privateKey).toString("base64");
}

export function verifyAsymmetric(request: SignedRequest, signature: string, publicKey: SnapKey): boolean {
  const data = Buffer.from(asymmetricStringToSign(request));
  return verify("sha256", data, publicKey, Buffer.from(signature, "base64"));
}

// Symmetric, with token: HMAC-SHA512(clientSecret) over `METHOD:path:token:digest(body):timestamp`.

export function symmetricStringToSign(request: SignedRequest, accessToken: string): string {
  return [request.method.toUpperCase(), request.path, accessToken, bodyDigest(request.body), request.timestamp].join(":");
}

function symmetricMac(request: SignedRequest, accessToken: string, clientSecret: string): Buffer {
  return createHmac("sha512", clientSecret).update(symmetricStringToSign(request, accessToken)).digest();
}

export function signSymmetric(request: SignedRequest, accessToken: string, clientSecret: string): string {
  return symmetricMac(request, accessToken, clientSecret).toString("base64");
}

/** Constant-time comparison of the decoded MAC; base64 is case-sensitive, so is this. */
export function verifySymmetric(request: SignedRequest, accessToken: string, clientSecret: string, signature: string): boolean {
  const expected = symmetricMac(request, accessToken, clientSecret);
  const received = Buffer.from(signature, "base64");
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/** Parses a PEM once (at startup, so a bad key fails there and not on the first request). */
export const privateKeyFrom = (key: SnapKey): KeyObject => (typeof key === "string" ? createPrivateKey(key) : key);
export const publicKeyFrom = (key: SnapKey): KeyObject => (typeof key === "string" ? createPublicKey(key) : key);
