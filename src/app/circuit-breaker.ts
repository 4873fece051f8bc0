/**
 * Stops calling a provider that keeps failing: after `threshold` consecutive failures the circuit
 * opens for `openMs`; then one trial call is let through, and its outcome closes or reopens it.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold = 5,
    private readonly openMs = 30_000,
  ) {}

  isOpen(now: Date): boolean {
    return this.failures >= this.threshold && now.getTime() < this.openUntil;
  }

  recordSuccess(): void {
    this.failures = 0;
  }

  recordFailure(now: Date): void {
    this.failures++;
    if (this.failures >= this.threshold) this.openUntil = now.getTime() + this.openMs;
  }
}
