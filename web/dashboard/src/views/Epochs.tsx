// The epochs timeline: per network, each finalized epoch's reports, judgments, fees paid, slashes queued
// and slashes held for governance, most recent first, with the fees in a chart.
import { useMemo, useState } from "preact/hooks";
import type { EpochsView as Epochs } from "../../../../src/dashboard/types.ts";
import { useApi } from "../api.ts";
import { bps, tokens } from "../format.ts";
import { LineChart } from "./Chart.tsx";
import { Loading, TableWrap, TxLink } from "./parts.tsx";

const COLORS = ["#1f6feb", "#b35900", "#2d7d46", "#8250df"];

export function EpochsView({ refresh }: { refresh: string }) {
  const state = useApi<Epochs>("/dashboard/api/epochs?limit=100", refresh);
  return (
    <section aria-labelledby="epochs-title">
      <h1 id="epochs-title">Epochs</h1>
      <Loading state={state}>{(data) => <Timeline all={data} />}</Loading>
    </section>
  );
}

function Timeline({ all }: { all: Epochs }) {
  const [network, setNetwork] = useState("");
  const names = useMemo(() => [...new Set(all.epochs.map((e) => e.network))], [all]);
  const data = useMemo(
    () => (network ? { ...all, epochs: all.epochs.filter((e) => e.network === network) } : all),
    [all, network],
  );
  const chart = useMemo(() => {
    const networks = [...new Set(data.epochs.map((e) => e.network))];
    const x = [...new Set(data.epochs.map((e) => Number(e.epoch)))].sort((a, b) => a - b);
    const series = networks.map((name, i) => ({
      label: name,
      color: COLORS[i % COLORS.length]!,
      values: x.map((epoch) => {
        const e = data.epochs.find((x) => x.network === name && Number(x.epoch) === epoch);
        return e ? Number(e.paid) : null;
      }),
    }));
    return { x, series };
  }, [data]);
  if (all.epochs.length === 0) return <p>No epoch has been finalized yet.</p>;
  return (
    <>
      <label>
        Network{" "}
        <select value={network} onChange={(e) => setNetwork((e.target as HTMLSelectElement).value)}>
          <option value="">all</option>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <LineChart
        title="Fees paid per epoch"
        x={chart.x}
        xLabel="epoch"
        series={chart.series}
        unit="fee token"
      />
      <TableWrap label="Finalized epochs, most recent first">
        <thead>
          <tr>
            <th scope="col">Network</th>
            <th scope="col">Epoch</th>
            <th scope="col">Reports</th>
            <th scope="col">Paid / carried</th>
            <th scope="col">Verdicts</th>
            <th scope="col">Slashes</th>
          </tr>
        </thead>
        <tbody>
          {data.epochs.map((e) => {
            const below = e.judged.filter((j) => j.multiplierBps === 0);
            return (
              <tr key={`${e.network}-${e.epoch}`}>
                <td>{e.network}</td>
                <th scope="row">
                  {e.epoch}
                  <div class="sub">{e.finalizedAt ? `block ${e.finalizedAt}` : ""}</div>
                  <TxLink hash={e.transaction} label="finalized" />
                </th>
                <td>{e.reports}</td>
                <td>
                  {tokens(e.paid, 4)} / {tokens(e.carried, 4)}
                </td>
                <td>
                  {e.judged.length} judged, {below.length === 0 ? "all paid" : `${below.length} unpaid:`}
                  {below.map((j) => (
                    <div key={j.address}>
                      <a href={`#/operator/${encodeURIComponent(j.id)}`}>{j.id}</a> {bps(j.availabilityBps)},
                      p50 {j.p50LatencyMs} ms
                    </div>
                  ))}
                </td>
                <td>
                  {e.slashesQueued.length === 0 && e.heldForGovernance.length === 0 && "none"}
                  {e.slashesQueued.map((s) => (
                    <div key={s.id}>
                      #{s.id} queued:{" "}
                      <a href={`#/operator/${encodeURIComponent(s.operator)}`}>{s.operator}</a> {s.reason}{" "}
                      {s.percent}
                    </div>
                  ))}
                  {e.heldForGovernance.map((h) => (
                    <div key={h.reason}>
                      held for governance ({h.reason}, {h.failedStake} of stake failed):{" "}
                      {h.operators.join(", ")}
                    </div>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </TableWrap>
    </>
  );
}
