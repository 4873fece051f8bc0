import { describe, expect, it } from "vitest";
import {
  bodyDigest,
  signAccessTokenRequest,
  signAsymmetric,
  signSymmetric,
  verifyAccessTokenRequest,
  verifyAsymmetric,
  verifySymmetric,
} from "../../../src/protocols/snap/signature.js";
import {
  MIDTRANS_DEMO_PRIVATE_KEY,
  MIDTRANS_DEMO_PUBLIC_KEY,
  WINPAY_CALLBACK_VECTOR,
  WINPAY_SANDBOX_PUBLIC_KEY,
} from "./fixtures.js";

/** Published vectors, providers.md §2.11 (Midtrans/SNAP-BI-Signature-Demo) and §5.6 (Winpay). */

describe("V1 B2B access-token signature", () => {
  const clientId = "G1234325-SNAP";
  const timestamp = "2024-03-01T08:27:49.024Z";
  const expected =
    "WzW49tYIgKIBmBi/gVBHGLAkhEaZlXM11zcZxAiyHji6TLPjPbwLu3Z45it25AIeG0XDItcdTSkds47zFEMh6IP0PXPIP1+Ey4RmX/o2fuYRF/xBHvfvKnMmANMTS1axsXBSW3EHqYpbVrkCcqNnB3u+wu63us9WIhRZaWgxgQ2PJLaiVHIwgu9u7jxkWX7Bg4rerZH3RKdQfIJAAJsSN13efR7VdSAyzU7QaKjgislxrLqmesYNJkbD03XLjHdo6YWuzAVV7xdZRpLiGkIAkW7luXTBZYBO+4oENZAPQYzrLeN1qRY1Sr7BgLONCA2QA26BB6SYW4R7qofS9+RyOQ==";

  it("signs to the published value", () => {
    expect(signAccessTokenRequest(clientId, timestamp, MIDTRANS_DEMO_PRIVATE_KEY)).toBe(expected);
  });

  it("verifies with the public key, and not for another client", () => {
    expect(verifyAccessTokenRequest(clientId, timestamp, expected, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(true);
    expect(verifyAccessTokenRequest("G1234325-SNAq", timestamp, expected, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(false);
  });
});

describe("V2 symmetric HMAC-SHA512", () => {
  const request = {
    method: "POST",
    path: "/v1.0/qr/qr-mpm-generate",
    timestamp: "2024-03-05T10:37:16.196Z",
    body: '{"partnerReferenceNo":"2020102900000000000001","amount":{"value":"12345678.00","currency":"IDR"},"feeAmount":{"value":"12345678.00","currency":"IDR"},"merchantId":"00007100010926","terminalId":"213141251124","validityPeriod":"2009-07-03T12:08:56-07:00"}',
  };
  const expected = "wmzT7yjg1SxxCsxNsFgCR9SYXiZGGbceF6fV8xe97sAMHxZ+7OEBMIBmvb6Sj6GcksGp3iv77DiomgSbcST3XQ==";

  it("hashes the body and signs to the published values", () => {
    expect(bodyDigest(request.body)).toBe("01463f60dbb6ca538581579dd95b31c8ba9fc6600eca750e4d8460ca4e402111");
    expect(signSymmetric(request, "myaccesstoken", "myclientsecret")).toBe(expected);
  });

  it("verifies, and refuses another secret, token or a case-changed signature", () => {
    expect(verifySymmetric(request, "myaccesstoken", "myclientsecret", expected)).toBe(true);
    expect(verifySymmetric(request, "myaccesstoken", "otherclientsecret", expected)).toBe(false);
    expect(verifySymmetric(request, "otheraccesstoken", "myclientsecret", expected)).toBe(false);
    expect(verifySymmetric(request, "myaccesstoken", "myclientsecret", expected.toLowerCase())).toBe(false);
  });
});

describe("V3 asymmetric notification generation", () => {
  const request = {
    method: "POST",
    path: "/v1.0/debit/notify",
    timestamp: "2024-03-05T10:37:16.196Z",
    body: '{"createdTime":"2020-01-01T00:00:00+07:00","latestTransactionStatus":"00","originalReferenceNo":"gopayOrderId","finishedTime":"2020-01-02T00:00:00+07:00","originalPartnerReferenceNo":"merchant-order-id","transactionStatusDesc":"desc","originalExternalId":"merchant-order-id","additionalInfo":{"payOptionDetails":[{"payMethod":"GOPAY","payOption":"GOPAY_WALLET"}],"fraudStatus":"accept","refundHistory":[{"refundNo":"96194816941239812","partnerReferenceNo":"239850918204981205970","refundAmount":{"value":"12345678.00","currency":"IDR"},"refundStatus":"00","refundDate":"2020-12-23T07:44:16+07:00","reason":"Customer Complain"}],"validUpTo":"2021-01-01T00:00:00+07:00"}}',
  };
  const expected =
    "eUGsomFLNsjWzehgGsa317MqcVOgscay/Hml8yNmOsFhmoBM7pso+UPDgSe34anXvecSQkf5NOr0fbr8k9qdyyoWiYX7DTq/Wnz8XC0cRCCbNZfyLIyF33HO9cnvxOcRQq9DuWlQtld+uEluuivVdN2TiaWLpUTmfB/H7noZnXWWDj6FYa4n5kSo4o3aTeFYAF9EmLp0Tcsl8CiHSQCrQnIbB8M2+puLwyJ1l2OocvZ5qgjf5f2DqlCbemsSMzYzjN+YMrb0kiDx0TiW5UTk+WZass43xIfb3vdrlX+U2JSk5YsJ8lFpp9F+7FId4cyncElNFEbt3zWuP4iDzXteCg==";

  it("signs to the published value", () => {
    expect(bodyDigest(request.body)).toBe("2ea1a3719499a0c45630f774b241a26a03d954fd8ab4a4d35cce05b5e37e4293");
    expect(signAsymmetric(request, MIDTRANS_DEMO_PRIVATE_KEY)).toBe(expected);
  });
});

describe("V4 asymmetric notification verification", () => {
  const request = {
    method: "POST",
    path: "/v1.0/debit/notify",
    timestamp: "2024-05-02T14:43:08+07:00",
    body: '{"originalPartnerReferenceNo":"GP24043015193402809","originalReferenceNo":"A120240430081940S9vu8gSjaRID","merchantId":"G099333790","amount":{"value":"102800.00","currency":"IDR"},"latestTransactionStatus":"00","transactionStatusDesc":"SUCCESS","additionalInfo":{"refundHistory":[]}}',
  };
  const signature =
    "RoJnP2tH/YiOhHM/lMVBMSAuzRmS8VrWdIy04Qqyb56daV7oWFMFoMMzqnjQ+q0MIUalYgU094GWQnCx2c29xb1kkqHhv2+iJ9xl6NjGmFGYqyvcKvUDAV83Y1Mw9JnsEcjcupdGw9/MRv/mm2GMrQ+BCZGfc4a46JDyPZbcY294vDGqs5rFBN6iYer5ro4cAQGo9hET2G82Y+j50vCyO/79GFE4vB1rvtu6PK2Bxi+vTYV8k7P7PS8tOPWM2O+kjiVWjwvLR99Botou+a8sxlQqZaihfWMKcByzV+Lgkr9cptpjys+1NIRWT1ad/sJBSLHyldzC3q2oRn5z5oZmyg==";

  it("verifies over the exact bytes received", () => {
    expect(bodyDigest(request.body)).toBe("79ebbe6a6b695262dd686d0dedafc57c94e3b3dededf8d63971f8a95699ace85");
    expect(verifyAsymmetric(request, signature, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(true);
    expect(verifyAsymmetric({ ...request, body: Buffer.from(request.body) }, signature, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(true);
  });

  it("fails on a re-serialised (pretty) body, another path or another timestamp", () => {
    const pretty = JSON.stringify(JSON.parse(request.body), null, 2);
    expect(verifyAsymmetric({ ...request, body: pretty }, signature, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(false);
    expect(verifyAsymmetric({ ...request, path: "/v1.0/debit/notify/" }, signature, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(false);
    expect(verifyAsymmetric({ ...request, timestamp: "2024-05-02T14:43:09+07:00" }, signature, MIDTRANS_DEMO_PUBLIC_KEY)).toBe(
      false,
    );
  });
});

describe("Winpay callback vector (§5.6)", () => {
  const { path, timestamp, signature, body } = WINPAY_CALLBACK_VECTOR;

  it("verifies with Winpay's sandbox key over the full callback path", () => {
    expect(verifyAsymmetric({ method: "POST", path, timestamp, body }, signature, WINPAY_SANDBOX_PUBLIC_KEY)).toBe(true);
  });

  it("fails once the 8-character padding is collapsed or the path is shortened", () => {
    const collapsed = body.replaceAll('"    9042', '" 9042');
    expect(verifyAsymmetric({ method: "POST", path, timestamp, body: collapsed }, signature, WINPAY_SANDBOX_PUBLIC_KEY)).toBe(
      false,
    );
    expect(
      verifyAsymmetric(
        { method: "POST", path: "/v1.0/transfer-va/payment", timestamp, body },
        signature,
        WINPAY_SANDBOX_PUBLIC_KEY,
      ),
    ).toBe(false);
  });
});
