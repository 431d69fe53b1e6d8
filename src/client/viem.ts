/**
 * `dinTransport(url, options)`: a viem transport that drops in for `http(url)` and checks what the
 * gateway serves (see verifier.ts). `client.transport.verifier` is the shared core: call
 * `verifier.request(method, params, true)` to check one request whatever the sample says.
 */
import { createTransport, type EIP1193RequestFn, type Transport, type TransportConfig } from "viem";
import { DinVerifier, type DinVerifierOptions } from "./verifier.js";

export interface DinTransportOptions extends DinVerifierOptions {
  /** viem's retries of a failed request (never of a failed check). @default 3 */
  retryCount?: TransportConfig["retryCount"];
  retryDelay?: TransportConfig["retryDelay"];
  key?: string;
  name?: string;
}

export type DinTransport = Transport<"din", { verifier: DinVerifier; url: string }, EIP1193RequestFn>;

export function dinTransport(url: string, options: DinTransportOptions): DinTransport {
  const verifier = new DinVerifier(url, options);
  return ({ retryCount }) =>
    createTransport(
      {
        key: options.key ?? "din",
        name: options.name ?? "OpenDIN (verifying)",
        type: "din",
        retryCount: options.retryCount ?? retryCount,
        ...(options.retryDelay !== undefined ? { retryDelay: options.retryDelay } : {}),
        request: (async ({ method, params }: { method: string; params?: unknown }) =>
          verifier.request(
            method,
            Array.isArray(params) ? params : params === undefined ? [] : [params],
          )) as EIP1193RequestFn,
      },
      { verifier, url },
    );
}
