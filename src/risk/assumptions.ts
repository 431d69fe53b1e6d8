// What the restaking check must be told, since the ledger does not hold it: the share of a network's stake
// that corrupts it, the prize for corrupting each network, and the shock the cascade bound is given for.
// Written the same way on the command line (`din risk --profit ethereum=20 --threshold 1/3 --shock 1%`)
// and in a gateway's or watcher's config (`risk: { threshold, shock, profitFromCorruption }`).
import { parseUnits } from "viem";
import { z } from "zod";
import { type Fraction, fraction } from "./fraction.js";
import type { SecurityAssumptions } from "./security.js";

/** A fraction strictly between 0 and 1 written `a/b`. */
export function parseThreshold(text: string): Fraction {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const num = match ? BigInt(match[1]!) : 0n;
  const den = match ? BigInt(match[2]!) : 0n;
  if (!match || num === 0n || num >= den)
    throw new Error("expected a fraction between 0 and 1, e.g. 1/3 or 1/2");
  return fraction(num, den);
}

/** A percentage above 0% and at most 100%, e.g. `1%` or `0.1%`. */
export function parseShock(text: string): Fraction {
  const match = /^(\d+)(?:\.(\d{1,6}))?%$/.exec(text.trim());
  if (!match) throw new Error("expected a percentage, e.g. 1% or 0.1%");
  const part = match[2] ?? "";
  const shock = fraction(BigInt(match[1]! + part), 100n * 10n ** BigInt(part.length));
  if (shock.num === 0n || shock.num > shock.den)
    throw new Error("expected a percentage above 0% and at most 100%");
  return shock;
}

/** A token amount (18 decimals) written as a decimal: `20`, `0.5`. */
export function parseTokens(text: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(text.trim()))
    throw new Error("expected a decimal number of tokens, e.g. 20");
  return parseUnits(text.trim(), 18);
}

/** `<network>=<tokens>`, as `--profit` takes it. */
export function parseProfit(text: string): [string, bigint] {
  const at = text.indexOf("=");
  const name = at > 0 ? text.slice(0, at).trim() : "";
  if (!name) throw new Error("expected <network>=<tokens>, e.g. ethereum=20");
  return [name, parseTokens(text.slice(at + 1))];
}

const checked = <T>(parse: (text: string) => T) =>
  z.string().transform((text, context) => {
    try {
      return parse(text);
    } catch (error) {
      context.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
      return z.NEVER;
    }
  });

/** The config section: `{ threshold: "1/3", shock: "1%", profitFromCorruption: { ethereum: "20" } }`. */
export const riskAssumptionsSchema = z
  .object({
    /** Share of a network's stake that corrupts it. @default "1/3" */
    threshold: checked(parseThreshold).optional(),
    /** The shock the cascade bound is given for. @default "1%" */
    shock: checked(parseShock).optional(),
    /** What corrupting each network is worth to an attacker, in stake tokens. @default none declared */
    profitFromCorruption: z.record(checked(parseTokens)).optional(),
  })
  .strict()
  .transform(
    (section): SecurityAssumptions => ({
      ...(section.threshold ? { threshold: section.threshold } : {}),
      ...(section.shock ? { shock: section.shock } : {}),
      profits: new Map(Object.entries(section.profitFromCorruption ?? {})),
    }),
  );
