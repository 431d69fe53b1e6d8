// The page reads the same JSON API a script can: one fetch per view, and the live stream of the map.
import { useEffect, useRef, useState } from "preact/hooks";
import type { NetworkMap } from "../../../src/dashboard/types.ts";

export type Loaded<T> = { data: T | null; error: string | null };

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await response.json().catch(() => null)) as (T & { error?: string }) | null;
  if (!response.ok) throw new Error(body?.error ?? `${path} answered ${response.status}`);
  return body as T;
}

/**
 * The API's answer at `path`, fetched again when `refresh` changes (the live stream's ledger block),
 * at most every two seconds and never twice at once.
 */
export function useApi<T>(path: string, refresh: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null });
  const last = useRef({ path: "", at: 0, busy: false });
  useEffect(() => {
    const now = Date.now();
    const samePath = last.current.path === path;
    if (samePath && (last.current.busy || now - last.current.at < 2_000)) return;
    if (!samePath) setState({ data: null, error: null });
    last.current = { path, at: now, busy: true };
    getJson<T>(path)
      .then(
        (data) => {
          if (last.current.path === path) setState({ data, error: null });
        },
        (error: Error) => {
          if (last.current.path === path) setState((s) => ({ data: s.data, error: error.message }));
        },
      )
      .finally(() => {
        if (last.current.path === path) last.current.busy = false;
      });
  }, [path, refresh]);
  return state;
}

export type Live = {
  map: NetworkMap | null;
  connected: boolean;
  updatedAt: Date | null;
  error: string | null;
};

/** The network map as the gateway pushes it (server-sent events); the browser reconnects by itself. */
export function useLiveMap(): Live {
  const [live, setLive] = useState<Live>({ map: null, connected: false, updatedAt: null, error: null });
  useEffect(() => {
    const events = new EventSource("/dashboard/api/events");
    events.addEventListener("open", () => setLive((l) => ({ ...l, connected: true })));
    events.addEventListener("error", () => setLive((l) => ({ ...l, connected: false })));
    events.addEventListener("map", (event) => {
      const map = JSON.parse((event as MessageEvent<string>).data) as NetworkMap;
      setLive({ map, connected: true, updatedAt: new Date(), error: null });
    });
    events.addEventListener("failure", (event) => {
      const { error } = JSON.parse((event as MessageEvent<string>).data) as { error: string };
      setLive((l) => ({ ...l, error }));
    });
    return () => events.close();
  }, []);
  return live;
}
