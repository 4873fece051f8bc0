/** The sandbox provider's banks: shared by its simulator (which enforces them) and its capabilities. */
export interface BankRule {
  prefix: string;
  maxSuffixDigits: number;
  /** Every number at the bank has exactly this many digits: prefix, merchant code, then the rest. */
  digits: number;
}

export const BANKS: ReadonlyMap<string, BankRule> = new Map([
  ["BCA", { prefix: "39012", maxSuffixDigits: 14, digits: 22 }],
  ["BNI", { prefix: "8808", maxSuffixDigits: 8, digits: 16 }],
  ["BRI", { prefix: "26215", maxSuffixDigits: 9, digits: 17 }],
  ["MANDIRI", { prefix: "89608", maxSuffixDigits: 7, digits: 16 }],
  ["PERMATA", { prefix: "8625", maxSuffixDigits: 8, digits: 16 }],
  ["CIMB", { prefix: "5919", maxSuffixDigits: 8, digits: 16 }],
  ["BSI", { prefix: "9347", maxSuffixDigits: 8, digits: 16 }],
]);
