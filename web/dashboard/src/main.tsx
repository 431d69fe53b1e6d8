// The dashboard page: a header with the views, the live state of the stream, and the view the address's
// hash names (#/network, #/operator/<id>, #/epochs, #/risk, #/governance), so every view has a link.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useLiveMap } from "./api.ts";
import { EpochsView } from "./views/Epochs.tsx";
import { GovernanceView } from "./views/Governance.tsx";
import { NetworkMapView } from "./views/NetworkMap.tsx";
import { OperatorView } from "./views/Operator.tsx";
import { RiskView } from "./views/Risk.tsx";

type Route = { view: "network" | "operator" | "epochs" | "risk" | "governance"; operator?: string };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "operator" && parts[1])
    return { view: "operator", operator: decodeURIComponent(parts[1]) };
  if (parts[0] === "epochs" || parts[0] === "risk" || parts[0] === "governance") return { view: parts[0] };
  return { view: "network" };
}

const NAV = [
  ["network", "Network map"],
  ["epochs", "Epochs"],
  ["risk", "Stake & risk"],
  ["governance", "Governance"],
] as const;

function App() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const live = useLiveMap();
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    const onHash = () => {
      setRoute(parseRoute(location.hash));
      // A keyboard or screen-reader user lands on the new view, not on the link they followed.
      main.current?.focus();
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  // Views other than the map refresh on each new ledger block the stream reports.
  const block = live.map?.ledger?.block ?? "";
  const title = NAV.find(([view]) => view === route.view)?.[1] ?? "Operator";
  useEffect(() => {
    document.title = `${route.view === "operator" ? route.operator : title} · OpenDIN dashboard`;
  }, [route, title]);
  return (
    <>
      <button class="skip" type="button" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <div class="brand">
          <strong>OpenDIN</strong> dashboard
        </div>
        <nav aria-label="Views">
          <ul>
            {NAV.map(([view, label]) => (
              <li key={view}>
                <a href={`#/${view}`} aria-current={route.view === view ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="live">
          <span class={`dot ${live.connected ? "good" : "warn"}`} aria-hidden="true" />
          {/* Only the connection's state is announced: the block number changes every second. */}
          <span role="status">
            {live.connected ? "Live" : "Connecting…"}
            {live.error ? ` · last update failed: ${live.error}` : ""}
          </span>
          {live.map?.ledger ? ` · ledger block ${live.map.ledger.block}, epoch ${live.map.ledger.epoch}` : ""}
        </p>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {route.view === "network" && <NetworkMapView live={live} />}
        {route.view === "operator" && <OperatorView id={route.operator!} refresh={block} />}
        {route.view === "epochs" && <EpochsView refresh={block} />}
        {route.view === "risk" && <RiskView refresh={block} />}
        {route.view === "governance" && <GovernanceView refresh={block} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
