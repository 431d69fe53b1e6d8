// Pieces every view uses: health badges (symbol and word, colour only repeats them), scrollable tables
// that never widen the page, and the loading and error states.
import type { ComponentChildren } from "preact";
import type { HealthState } from "../../../../src/dashboard/types.ts";
import type { Loaded } from "../api.ts";
import { HEALTH } from "../format.ts";

export function HealthBadge({ health }: { health: HealthState }) {
  const h = HEALTH[health];
  return (
    <span class={`badge ${h.tone}`} data-health={health}>
      <span aria-hidden="true">{h.symbol}</span> {h.label}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone = status === "executed" ? "bad" : status === "queued" ? "warn" : "muted";
  return <span class={`badge ${tone}`}>{status}</span>;
}

/** A table that scrolls sideways inside itself on a narrow screen; focusable so a keyboard can scroll it. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <section class="table-wrap" aria-label={label} tabIndex={0}>
      <table>
        <caption class="visually-hidden">{label}</caption>
        {children}
      </table>
    </section>
  );
}

/** The view's content once loaded; the error (and the last data, if any) when a read fails. */
export function Loading<T>({
  state,
  children,
}: {
  state: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) {
  return (
    <>
      {state.error && (
        <p class="error" role="alert">
          Could not read: {state.error}
        </p>
      )}
      {state.data ? children(state.data) : !state.error && <p aria-busy="true">Loading…</p>}
    </>
  );
}

export function TxLink({ hash, label }: { hash: string | null; label: string }) {
  if (!hash) return null;
  return (
    <a class="mono" href={`/dashboard/api/transactions/${hash}`} title={`${label} transaction ${hash}`}>
      {label} {hash.slice(0, 10)}…
    </a>
  );
}
