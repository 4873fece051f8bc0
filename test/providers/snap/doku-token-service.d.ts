/** The few functions of DOKU's untyped SDK we cross-check against (providers.md §8.2). */
declare module "doku-nodejs-library/_services/tokenService.js" {
  interface DokuTokenService {
    /** RSA-SHA256 base64 of `${clientId}|${timestamp}`. */
    generateSignature(privateKey: string, clientId: string, timestamp: string): string;
    /** Verifies a token signature; true when it holds. */
    compareSignatures(signature: string, publicKey: string, clientId: string, timestamp: string): boolean;
    /** HMAC-SHA512 base64; hashes `JSON.stringify(requestBody)`. */
    generateSymmetricSignature(
      httpMethod: string,
      endpointUrl: string,
      accessToken: string,
      requestBody: unknown,
      timestamp: string,
      clientSecret: string,
    ): string;
  }
  const tokenService: DokuTokenService;
  export default tokenService;
}
