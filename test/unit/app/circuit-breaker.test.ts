import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../src/app/circuit-breaker.js";

const at = (ms: number) => new Date(Date.UTC(2026, 5, 1) + ms);

describe("CircuitBreaker", () => {
  it("opens after the threshold of consecutive failures, for the open period", () => {
    const breaker = new CircuitBreaker(3, 1_000);
    breaker.recordFailure(at(0));
    breaker.recordFailure(at(0));
    expect(breaker.isOpen(at(0))).toBe(false);
    breaker.recordFailure(at(10));
    expect(breaker.isOpen(at(10))).toBe(true);
    expect(breaker.isOpen(at(1_009))).toBe(true);
    expect(breaker.isOpen(at(1_010))).toBe(false);
  });

  it("counts only consecutive failures: a success starts over", () => {
    const breaker = new CircuitBreaker(2, 1_000);
    breaker.recordFailure(at(0));
    breaker.recordSuccess();
    breaker.recordFailure(at(0));
    expect(breaker.isOpen(at(0))).toBe(false);
  });

  it("lets a trial through after the open period: a failure reopens it, a success closes it", () => {
    const breaker = new CircuitBreaker(2, 1_000);
    breaker.recordFailure(at(0));
    breaker.recordFailure(at(0));
    expect(breaker.isOpen(at(1_000))).toBe(false);
    breaker.recordFailure(at(1_000));
    expect(breaker.isOpen(at(1_500))).toBe(true);
    breaker.recordSuccess();
    expect(breaker.isOpen(at(1_500))).toBe(false);
  });
});
