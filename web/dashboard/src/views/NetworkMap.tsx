// The network map: each network's operators by cloud and region, with health as the gateway sees it now,
// lag, latency, traffic share, allocated stake and jail. It is drawn from the live stream: no reload.
import type { MapOperator } from "../../../../src/dashboard/types.ts";
import type { Live } from "../api.ts";
import { share, tokens } from "../format.ts";
import { HealthBadge } from "./parts.tsx";

export function NetworkMapView({ live }: { live: Live }) {
  const map = live.map;
  return (
    <section aria-labelledby="map-title">
      <h1 id="map-title">Network map</h1>
      {!map ? (
        <p aria-busy="true">Waiting for the gateway's live view…</p>
      ) : (
        <>
          <p class="lead">
            {map.gateway
              ? `Gateway ${map.gateway}: ${map.status}. Health is what the gateway sees now; stake, jail and slashes are the ledger's.`
              : "No gateway is watched: health is not observed; stake, jail and slashes are the ledger's."}
            {live.updatedAt ? ` Updated ${live.updatedAt.toLocaleTimeString()}.` : ""}
          </p>
          {map.networks.map((network) => (
            <section class="network" key={network.name} aria-labelledby={`net-${network.name}`}>
              <h2 id={`net-${network.name}`}>
                {network.name}{" "}
                <span class="sub">
                  chain {network.chainId} · head {network.head.latest ?? "?"}
                </span>
              </h2>
              {network.clouds.length === 0 && <p>No operators serve this network.</p>}
              <div class="clouds">
                {network.clouds.map((cloud) => (
                  <section class="cloud" key={cloud.cloud} aria-label={`${network.name} on ${cloud.cloud}`}>
                    <h3>
                      {cloud.cloud}{" "}
                      <span class="sub">
                        {cloud.share === null ? "" : `${share(cloud.share)} of recent requests`}
                      </span>
                    </h3>
                    {cloud.regions.map((region) => (
                      <div class="region" key={region.region}>
                        <h4>{region.region}</h4>
                        <ul class="cards">
                          {region.operators.map((o) => (
                            <OperatorCard key={`${o.network}-${o.id}`} operator={o} />
                          ))}
                        </ul>
                      </div>
                    ))}
                  </section>
                ))}
              </div>
            </section>
          ))}
        </>
      )}
    </section>
  );
}

function OperatorCard({ operator: o }: { operator: MapOperator }) {
  return (
    <li class={`card health-${o.health}`} data-operator={o.id} data-network={o.network} data-cloud={o.cloud}>
      <h5>
        <a href={`#/operator/${encodeURIComponent(o.id)}`}>{o.id}</a>
      </h5>
      <HealthBadge health={o.health} />
      <dl>
        <dt>Lag</dt>
        <dd>{o.lagBlocks === null ? "–" : `${o.lagBlocks} blocks`}</dd>
        <dt>Latency</dt>
        <dd>{o.latencyMs === null ? "–" : `${o.latencyMs} ms`}</dd>
        <dt>Traffic</dt>
        <dd>{o.trafficShare === null ? "–" : `${share(o.trafficShare)} this epoch`}</dd>
        <dt>Allocated</dt>
        <dd>{tokens(o.allocated)}</dd>
        <dt>Jail</dt>
        <dd>{o.jailed ? `until block ${o.jailedUntil}` : "no"}</dd>
        {o.slashes && (o.slashes.queued > 0 || o.slashes.executed > 0) && (
          <>
            <dt>Slashes</dt>
            <dd>
              {o.slashes.queued} queued, {o.slashes.executed} executed
            </dd>
          </>
        )}
      </dl>
      {o.reasons.length > 0 && o.health !== "healthy" && <p class="reasons">{o.reasons.join("; ")}</p>}
    </li>
  );
}
