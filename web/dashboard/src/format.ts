// How figures read on the page: amounts, percentages, addresses, and health as words (never colour alone).
import type { HealthState } from "../../../src/dashboard/types.ts";

export const tokens = (value: string | null, digits = 2) =>
  value === null ? "–" : Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });

export const bps = (value: number) => `${(value / 100).toFixed(2)}%`;

export const share = (value: number | null) => (value === null ? "–" : `${(value * 100).toFixed(1)}%`);

export const shortAddress = (address: string) =>
  /^0x[0-9a-fA-F]{40}$/.test(address) ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;

/** Each health state's word and symbol; the colour comes from the CSS class and only repeats them. */
export const HEALTH: Record<HealthState, { label: string; symbol: string; tone: string }> = {
  healthy: { label: "up", symbol: "●", tone: "good" },
  degraded: { label: "degraded", symbol: "◐", tone: "warn" },
  unhealthy: { label: "down", symbol: "✕", tone: "bad" },
  jailed: { label: "jailed", symbol: "■", tone: "bad" },
  absent: { label: "not routed", symbol: "○", tone: "muted" },
  unobserved: { label: "not observed", symbol: "○", tone: "muted" },
};
