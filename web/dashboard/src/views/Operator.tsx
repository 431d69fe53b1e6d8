// One operator's public page: what it is, its SLA scorecard per epoch (the median and each watcher's
// report), relays, rewards and commission, slashes with evidence and transactions, and its delegators.
import type { OperatorPage, WatcherReport } from "../../../../src/dashboard/types.ts";
import { useApi } from "../api.ts";
import { bps, share, shortAddress, tokens } from "../format.ts";
import { HealthBadge, Loading, StatusBadge, TableWrap, TxLink } from "./parts.tsx";

const report = (r: WatcherReport) => `${bps(r.availabilityBps)} · ${r.p50LatencyMs} ms · lag ${r.lagBlocks}`;

export function OperatorView({ id, refresh }: { id: string; refresh: string }) {
  const state = useApi<OperatorPage>(`/dashboard/api/operators/${encodeURIComponent(id)}`, refresh);
  return (
    <section aria-labelledby="op-title">
      <p>
        <a href="#/network">← Network map</a>
      </p>
      <h1 id="op-title">{id}</h1>
      <Loading state={state}>
        {(page) => (
          <>
            <p class="mono break">ledger address {page.address}</p>
            {page.networks.map((m) => (
              <section key={m.network} aria-labelledby={`m-${m.network}`}>
                <h2 id={`m-${m.network}`}>
                  On {m.network} <HealthBadge health={m.operator.health} />
                </h2>
                <dl class="facts">
                  <dt>Cloud / region</dt>
                  <dd>
                    {m.operator.cloud} / {m.operator.region}
                  </dd>
                  <dt>Stake delegated</dt>
                  <dd>{tokens(m.operator.stake)}</dd>
                  <dt>Allocated to {m.network}</dt>
                  <dd>{tokens(m.operator.allocated)}</dd>
                  <dt>Relays this epoch</dt>
                  <dd>
                    {m.operator.relaysThisEpoch ?? "–"}
                    {m.operator.trafficShare === null ? "" : ` (${share(m.operator.trafficShare)})`}
                  </dd>
                  <dt>Fees earned (escrowed)</dt>
                  <dd>{tokens(m.rewards, 4)}</dd>
                  <dt>Commission</dt>
                  <dd>{m.commission ?? "–"}</dd>
                  <dt>Jail</dt>
                  <dd>{m.operator.jailed ? `jailed until block ${m.operator.jailedUntil}` : "not jailed"}</dd>
                </dl>
                {m.rejoin && <p class="mono break">Ejected; rejoins with: {m.rejoin}</p>}
                <h3>SLA scorecard</h3>
                {m.scorecard.length === 0 ? (
                  <p>No watcher has reported on it yet.</p>
                ) : (
                  <TableWrap label={`SLA scorecard on ${m.network}, most recent epoch first`}>
                    <thead>
                      <tr>
                        <th scope="col">Epoch</th>
                        <th scope="col">Availability</th>
                        <th scope="col">p50</th>
                        <th scope="col">Lag</th>
                        <th scope="col">Multiplier</th>
                        <th scope="col">Relays</th>
                        <th scope="col">Each watcher's report</th>
                      </tr>
                    </thead>
                    <tbody>
                      {m.scorecard.map((e) => (
                        <tr key={e.epoch}>
                          <th scope="row">{e.epoch}</th>
                          {e.median ? (
                            <>
                              <td>{bps(e.median.availabilityBps)}</td>
                              <td>{e.median.p50LatencyMs} ms</td>
                              <td>{e.median.lagBlocks}</td>
                              <td>{bps(e.median.multiplierBps)}</td>
                            </>
                          ) : (
                            <td colSpan={4}>not finalized yet</td>
                          )}
                          <td>{e.relays}</td>
                          <td>
                            {e.watchers.length === 0
                              ? "–"
                              : e.watchers.map((w) => (
                                  <div key={w.watcher}>
                                    <span class="mono">{shortAddress(w.watcher)}</span>: {report(w)}
                                  </div>
                                ))}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </TableWrap>
                )}
              </section>
            ))}
            <section aria-labelledby="slashes-title">
              <h2 id="slashes-title">Slashes</h2>
              {page.slashes.length === 0 && page.fraudProofs.length === 0 ? (
                <p>None.</p>
              ) : (
                <ul class="slashes">
                  {page.slashes.map((s) => (
                    <li
                      key={s.id}
                      class="slash"
                      data-slash={s.id}
                      data-status={s.status}
                      data-epoch={s.evidence.epoch ?? ""}
                    >
                      <p>
                        <strong>Slash #{s.id}</strong> <StatusBadge status={s.status} /> {s.reason} on{" "}
                        {s.network}, {s.percent} of its allocated stake; queued at block {s.queuedAt}, veto
                        window until block {s.vetoWindowEndsAt}.
                      </p>
                      <p>
                        Evidence:{" "}
                        {s.evidence.epoch === null
                          ? "—"
                          : `epoch ${s.evidence.epoch} median ${
                              s.evidence.median
                                ? `${bps(s.evidence.median.availabilityBps)} available, p50 ${s.evidence.median.p50LatencyMs} ms, lag ${s.evidence.median.lagBlocks}`
                                : "not read"
                            }`}
                        {s.evidence.watchers.map((w) => (
                          <span key={w.watcher}>
                            {"; "}
                            <span class="mono">{shortAddress(w.watcher)}</span> reported {report(w)}
                          </span>
                        ))}
                      </p>
                      <p class="txs">
                        <TxLink hash={s.transactions.queued} label="queued" />{" "}
                        <TxLink hash={s.transactions.vetoed} label="vetoed" />{" "}
                        <TxLink hash={s.transactions.executed} label="executed" />
                      </p>
                    </li>
                  ))}
                  {page.fraudProofs.map((p) => (
                    <li key={p.relayDigest} class="slash">
                      <p>
                        <strong>Fraud proof</strong> <StatusBadge status="executed" /> on {p.network}: signed
                        a wrong hash of block {p.blockNumber}, proven at block {p.provenAt}; relay{" "}
                        <span class="mono break">{p.relayDigest}</span>
                      </p>
                      <p class="txs">
                        <TxLink hash={p.transaction} label="proof" />
                      </p>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="delegators-title">
              <h2 id="delegators-title">Delegators</h2>
              {page.delegators.length === 0 ? (
                <p>None besides itself.</p>
              ) : (
                <TableWrap label="Delegators and their withdrawable shares">
                  <thead>
                    <tr>
                      <th scope="col">Staker</th>
                      <th scope="col">Withdrawable shares</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.delegators.map((d) => (
                      <tr key={d.staker}>
                        <td class="mono">{d.staker}</td>
                        <td>{tokens(d.shares, 4)}</td>
                      </tr>
                    ))}
                  </tbody>
                </TableWrap>
              )}
            </section>
          </>
        )}
      </Loading>
    </section>
  );
}
