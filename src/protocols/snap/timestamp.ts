/**
 * SNAP's X-TIMESTAMP: ISO-8601 with an offset, no milliseconds, 25 characters, e.g.
 * `2020-12-17T10:55:00+07:00`. We always write Jakarta time (+07:00, no daylight saving).
 */

export const JAKARTA_OFFSET_MS = 7 * 3_600_000;

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** Wall-clock fields of the instant in Jakarta, read off a shifted UTC date. */
function jakartaFields(at: Date) {
  const shifted = new Date(at.getTime() + JAKARTA_OFFSET_MS);
  return {
    date: `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}`,
    time: `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`,
  };
}

/** `2020-12-17T10:55:00+07:00`; milliseconds are dropped (truncated). */
export function formatSnapTimestamp(at: Date): string {
  const { date, time } = jakartaFields(at);
  return `${date}T${time}+07:00`;
}

/** The Jakarta calendar day of an instant, `YYYY-MM-DD`: SNAP's "same day". */
export function jakartaDay(at: Date): string {
  return jakartaFields(at).date;
}

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Reads an ISO-8601 timestamp that carries its offset (`+07:00`, `Z`; milliseconds allowed, as in
 * Midtrans' samples). Impossible dates (Feb 30, 24:00) and offset-less local times are refused.
 */
export function parseSnapTimestamp(text: string): Date | undefined {
  const match = ISO_WITH_OFFSET.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((match[7] ?? "").padEnd(3, "0"));
  const wallClock = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  const fieldsSurvived =
    wallClock.getUTCFullYear() === year &&
    wallClock.getUTCMonth() === month - 1 &&
    wallClock.getUTCDate() === day &&
    wallClock.getUTCHours() === hour;
  if (!fieldsSurvived || minute > 59 || second > 59) return undefined;
  if (match[8] === "Z") return wallClock;
  const offsetHours = Number(match[10]);
  const offsetMinutes = Number(match[11]);
  if (offsetHours > 14 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (match[9] === "-" ? -1 : 1);
  return new Date(wallClock.getTime() - offsetMs);
}
