import { generateKeyPairSync } from "node:crypto";

/** A fresh RSA-2048 pair as PEM strings (PKCS#8 private, SPKI public), as the SDKs take them. */
export function generateRsaKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
}
