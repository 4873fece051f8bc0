import { randomUUID } from "node:crypto";

/** Opaque ids: a type prefix and 32 hex digits, e.g. `va_3f2c…`. */
export const newId = (prefix: "va" | "pay" | "held") => `${prefix}_${randomUUID().replaceAll("-", "")}`;
