// Governance: the parameters in force, the governor's proposals and their state, the guardian's queue of
// vetoable slashes with their deadlines, and the contracts' pauses. Read-only: vetoes go through
// `din guardian veto` with the guardian's key, never through this page.
import type { GovernanceView as Governance } from "../../../../src/dashboard/types.ts";
import { useApi } from "../api.ts";
import { tokens } from "../format.ts";
import { Loading, TableWrap } from "./parts.tsx";

export function GovernanceView({ refresh }: { refresh: string }) {
  const state = useApi<Governance>("/dashboard/api/governance", refresh);
  return (
    <section aria-labelledby="gov-title">
      <h1 id="gov-title">Governance</h1>
      <Loading state={state}>
        {(data) => (
          <>
            <section aria-labelledby="queue-title">
              <h2 id="queue-title">Guardian's queue: vetoable slashes</h2>
              {data.guardianQueue.length === 0 ? (
                <p>No slash is waiting.</p>
              ) : (
                <TableWrap label="Queued slashes and their veto deadlines">
                  <thead>
                    <tr>
                      <th scope="col">Slash</th>
                      <th scope="col">Operator</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Share</th>
                      <th scope="col">Veto deadline</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.guardianQueue.map((s) => (
                      <tr key={s.id}>
                        <th scope="row">#{s.id}</th>
                        <td>
                          <a href={`#/operator/${encodeURIComponent(s.operatorId)}`}>{s.operatorId}</a> (
                          {s.network})
                        </td>
                        <td>{s.reason}</td>
                        <td>{s.percent}</td>
                        <td>
                          block {s.vetoWindowEndsAt}:{" "}
                          {s.blocksLeft > 0
                            ? `${s.blocksLeft} blocks left to veto`
                            : "window over, executable"}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </TableWrap>
              )}
            </section>
            <section aria-labelledby="proposals-title">
              <h2 id="proposals-title">Proposals</h2>
              {data.proposals.length === 0 ? (
                <p>No proposal has been made.</p>
              ) : (
                <ul class="proposals">
                  {data.proposals.map((p) => (
                    <li key={p.id}>
                      <strong>{p.description.split("\n")[0] || "(no description)"}</strong>{" "}
                      <span class="badge muted">{p.state}</span>
                      <div class="sub">
                        votes {p.voteStart}–{p.voteEnd}: for {tokens(p.votes.for)}, against{" "}
                        {tokens(p.votes.against)}, abstain {tokens(p.votes.abstain)}
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="pauses-title">
              <h2 id="pauses-title">Pauses</h2>
              <ul>
                {data.pauses.map((p) => (
                  <li key={p.contract}>
                    {p.contract}: {p.paused ? `paused until block ${p.pausedUntil}` : "running"}
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="params-title">
              <h2 id="params-title">Parameters in force</h2>
              <TableWrap label="Parameters in force">
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col">Parameter</th>
                    <th scope="col">Value</th>
                  </tr>
                </thead>
                <tbody>
                  {data.parameters.map((p) => (
                    <tr key={`${p.group}-${p.name}`}>
                      <td>{p.group}</td>
                      <th scope="row">{p.name}</th>
                      <td>{p.value}</td>
                    </tr>
                  ))}
                </tbody>
              </TableWrap>
            </section>
          </>
        )}
      </Loading>
    </section>
  );
}
