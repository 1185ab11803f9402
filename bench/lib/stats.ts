export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 12,345 (no decimals) or 12.3 when small. */
export function num(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function ms(value: number): string {
  return `${num(value, value >= 100 ? 0 : 1)} ms`;
}

export function bytes(value: number): string {
  if (value >= 1024 * 1024) return `${num(value / 1024 / 1024, 1)} MiB`;
  if (value >= 1024) return `${num(value / 1024, 1)} KiB`;
  return `${value} B`;
}

/** "×6.0" for a/b. */
export function times(a: number, b: number): string {
  const r = a / b;
  return `×${num(r, r >= 10 ? 0 : r >= 1 ? 1 : 2)}`;
}

export function percent(a: number, b: number): string {
  return `${num((a / b) * 100, 0)} %`;
}

export function sleep(msToWait: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await fn(next++);
  });
  await Promise.all(workers);
}
