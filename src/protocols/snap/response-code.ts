/**
 * SNAP `responseCode`: HTTP status (3) + service code (2) + case code (2), e.g. `2002700` = 200,
 * service 27 (Create VA), case 00. The HTTP status of a response must equal the first three digits.
 */

/** Service codes of the services we speak. */
export const SnapService = {
  accessTokenB2b: "73",
  vaInquiry: "24",
  vaPayment: "25",
  vaInquiryStatus: "26",
  createVa: "27",
  inquiryVa: "30",
  deleteVa: "31",
} as const;

/** A status + case pair of the standard's table, with its standard message. */
export interface SnapOutcome {
  httpStatus: number;
  caseCode: string;
  message: string;
}

const outcome = (httpStatus: number, caseCode: string, message: string): SnapOutcome => ({
  httpStatus,
  caseCode,
  message,
});

/** The rows of the standard's table that VA services use. */
export const SnapOutcomes = {
  successful: outcome(200, "00", "Successful"),
  badRequest: outcome(400, "00", "Bad Request"),
  invalidFieldFormat: outcome(400, "01", "Invalid Field Format"),
  invalidMandatoryField: outcome(400, "02", "Invalid Mandatory Field"),
  unauthorized: outcome(401, "00", "Unauthorized"),
  invalidToken: outcome(401, "01", "Invalid Token (B2B)"),
  transactionExpired: outcome(403, "00", "Transaction Expired"),
  transactionNotFound: outcome(404, "01", "Transaction Not Found"),
  invalidBill: outcome(404, "12", "Invalid Bill/Virtual Account"),
  invalidAmount: outcome(404, "13", "Invalid Amount"),
  paidBill: outcome(404, "14", "Paid Bill"),
  partnerNotFound: outcome(404, "16", "Partner Not Found"),
  expiredBill: outcome(404, "19", "Invalid Bill/Virtual Account"),
  conflict: outcome(409, "00", "Conflict"),
  duplicateReference: outcome(409, "01", "Duplicate partnerReferenceNo"),
} as const;

export interface SnapResponseCode {
  httpStatus: number;
  serviceCode: string;
  caseCode: string;
}

export function formatSnapResponseCode(outcome: Pick<SnapOutcome, "httpStatus" | "caseCode">, serviceCode: string) {
  return `${outcome.httpStatus}${serviceCode}${outcome.caseCode}`;
}

/** Accepts the 7-digit string (and the JSON number some providers send). */
export function parseSnapResponseCode(code: unknown): SnapResponseCode | undefined {
  const text = typeof code === "number" ? String(code) : code;
  if (typeof text !== "string" || !/^[1-5]\d{6}$/.test(text)) return undefined;
  return { httpStatus: Number(text.slice(0, 3)), serviceCode: text.slice(3, 5), caseCode: text.slice(5, 7) };
}

export const isSnapSuccess = (code: SnapResponseCode) => code.httpStatus >= 200 && code.httpStatus < 300;
