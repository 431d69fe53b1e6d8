// Stake and risk: where each network's stake sits (by operator, cloud, region, entity), the concentration
// figures and verdicts of `din risk`, the restaking check, and the last `din drill` report's windows.
import type { DrillSummary, RiskView as Risk } from "../../../../src/dashboard/types.ts";
import { useApi } from "../api.ts";
import { share, tokens } from "../format.ts";
import { LineChart } from "./Chart.tsx";
import { Loading, TableWrap } from "./parts.tsx";

export function RiskView({ refresh }: { refresh: string }) {
  const state = useApi<Risk>("/dashboard/api/risk", refresh);
  return (
    <section aria-labelledby="risk-title">
      <h1 id="risk-title">Stake &amp; risk</h1>
      <Loading state={state}>
        {(data) => (
          <>
            {data.networks.map((n) => (
              <section key={n.name} aria-labelledby={`risk-${n.name}`}>
                <h2 id={`risk-${n.name}`}>
                  {n.name}{" "}
                  <span class="sub">
                    {n.operators} operators, {tokens(n.totalStake)} allocated
                  </span>
                </h2>
                <div class="bars-grid">
                  {(["operator", "cloud", "region", "entity"] as const).map((by) => (
                    <figure key={by} class="bars">
                      <figcaption>Stake by {by}</figcaption>
                      <ul class="bars-list">
                        {n.stakeBy[by].map((row) => (
                          <li key={row.group}>
                            <span class="bar-label">{row.group}</span>
                            <span
                              class="bar"
                              style={{ width: `${Math.max(1, row.share * 100)}%` }}
                              aria-hidden="true"
                            />
                            <span class="bar-value">
                              {share(row.share)} ({tokens(row.stake)})
                            </span>
                          </li>
                        ))}
                      </ul>
                    </figure>
                  ))}
                </div>
                <TableWrap label={`${n.name}: concentration figures`}>
                  <thead>
                    <tr>
                      <th scope="col">Basis</th>
                      <th scope="col">By</th>
                      <th scope="col">Largest</th>
                      <th scope="col">Nakamoto &gt;1/3</th>
                      <th scope="col">Nakamoto &gt;1/2</th>
                      <th scope="col">HHI</th>
                    </tr>
                  </thead>
                  <tbody>
                    {n.figures.map((f) => (
                      <tr key={`${f.basis}-${f.by}`}>
                        <td>{f.basis}</td>
                        <th scope="row">{f.by}</th>
                        <td>{f.largest ? `${f.largest} ${share(f.largestShare)}` : "–"}</td>
                        <td>{f.nakamotoThird ?? "–"}</td>
                        <td>{f.nakamotoHalf ?? "–"}</td>
                        <td>{f.hhi === null ? "–" : Math.round(f.hhi).toLocaleString("en-US")}</td>
                      </tr>
                    ))}
                  </tbody>
                </TableWrap>
                <h3>Verdicts</h3>
                <ul>
                  {n.verdicts.map((v) => (
                    <li key={v}>{v}</li>
                  ))}
                </ul>
              </section>
            ))}
            <section aria-labelledby="restaking-title">
              <h2 id="restaking-title">Restaking security</h2>
              {"unavailable" in data.restaking ? (
                <p>{data.restaking.unavailable}.</p>
              ) : (
                <ul>
                  {data.restaking.verdicts.map((v) => (
                    <li key={v}>{v}</li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="drill-title">
              <h2 id="drill-title">Last drill</h2>
              {data.drill ? <Drill drill={data.drill} /> : <p>{data.drillNote}.</p>}
            </section>
          </>
        )}
      </Loading>
    </section>
  );
}

function Drill({ drill }: { drill: DrillSummary }) {
  const x = (drill.clients[0]?.windows ?? []).map((w) => w.startMs / 1000);
  const colors = { baseline: "#b35900", gateway: "#1f6feb" } as Record<string, string>;
  const series = (pick: (w: DrillSummary["clients"][number]["windows"][number]) => number | null) =>
    drill.clients.map((c) => ({
      label: c.name,
      color: colors[c.name] ?? "#555",
      values: c.windows.map(pick),
    }));
  return (
    <>
      <p>
        {drill.file}: {drill.target}, started {drill.startedAt}.{" "}
        {drill.clients.map((c) => `${c.name} ${c.errors} errors of ${c.requests}`).join("; ")}.
      </p>
      <LineChart
        title="Availability per window"
        x={x}
        xLabel="seconds"
        unit="% answered"
        series={series((w) => (w.availability === null ? null : w.availability * 100))}
      />
      <LineChart
        title="p99 latency per window"
        x={x}
        xLabel="seconds"
        unit="ms"
        series={series((w) => w.p99Ms)}
      />
      <TableWrap label="Drill windows">
        <thead>
          <tr>
            <th scope="col">Window from</th>
            <th scope="col">Cloud down</th>
            {drill.clients.map((c) => (
              <th scope="col" key={c.name}>
                {c.name} availability / p99
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {x.map((start, i) => (
            <tr key={start}>
              <th scope="row">{start} s</th>
              <td>{drill.clients[0]?.windows[i]?.outage ? "yes" : "no"}</td>
              {drill.clients.map((c) => {
                const w = c.windows[i];
                return (
                  <td key={c.name}>
                    {w?.availability === null || w === undefined ? "–" : share(w.availability)} /{" "}
                    {w?.p99Ms == null ? "–" : `${w.p99Ms} ms`}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </TableWrap>
      {drill.verdicts.length > 0 && (
        <ul>
          {drill.verdicts.map((v) => (
            <li key={v}>{v}</li>
          ))}
        </ul>
      )}
    </>
  );
}
