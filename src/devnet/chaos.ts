// `din chaos`: fault injection on a running `din up`, by operator, cloud or region, through each
// operator's chaos control (devnet mode only), with the control token `din up` left in the data dir.
import { dinEpochsAbi } from "../ledger/artifacts/index.js";
import { connectLedger, readDeployment } from "../ledger/din/directory.js";
import { type ChaosMode, type ChaosState, chaosModes, maxChaosForMs } from "../operator/chaos.js";
import { readControlToken } from "../operator/controlToken.js";
import { controlTokenFile, type NetworkStateOperator, readNetworkState } from "./state.js";

export interface ChaosTarget {
  operator?: string | undefined;
  cloud?: string | undefined;
  region?: string | undefined;
  network?: string | undefined;
}

export interface ChaosChange {
  operator: string;
  network: string;
  cloud: string;
  region: string;
  state: ChaosState | undefined;
  error?: string;
}

/**
 * How long a fault given `--for` lasts, in ms: `500ms`, `30s`, `2m`, or `N-epoch(s)` of the running
 * network's ledger (its epoch length in blocks times the devnet's block time).
 */
export async function chaosDurationMs(dataDir: string, text: string): Promise<number> {
  const time = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  const epochs = /^(\d+)-epochs?$/.exec(text.trim());
  let ms: number;
  if (time) ms = Number(time[1]) * { ms: 1, s: 1_000, m: 60_000 }[time[2] as "ms" | "s" | "m"];
  else if (epochs) {
    const state = readNetworkState(dataDir);
    if (state.blockTimeMs === undefined)
      throw new Error("this network does not record its block time: give --for in s or m");
    const deployment = readDeployment(state.ledger.deployment);
    const params = await connectLedger(state.ledger.rpc, deployment.chainId).public.readContract({
      address: deployment.addresses.epochs,
      abi: dinEpochsAbi,
      functionName: "getEpochParams",
    });
    ms = Number(epochs[1]) * Number(params.epochLength) * state.blockTimeMs;
  } else throw new Error(`--for takes a duration such as 30s, 2m or 1-epoch, not "${text}"`);
  ms = Math.round(ms);
  if (!(ms > 0) || ms > maxChaosForMs)
    throw new Error(`--for must be between 1 ms and ${maxChaosForMs / 3_600_000} h`);
  return ms;
}

export function isChaosMode(mode: string): mode is ChaosMode {
  return (chaosModes as readonly string[]).includes(mode);
}

/** Operators of the running network that match every given criterion. */
export function selectOperators(
  operators: readonly NetworkStateOperator[],
  target: ChaosTarget,
): NetworkStateOperator[] {
  return operators.filter(
    (operator) =>
      (target.operator === undefined || operator.id === target.operator) &&
      (target.cloud === undefined || operator.cloud === target.cloud) &&
      (target.region === undefined || operator.region === target.region) &&
      (target.network === undefined || operator.network === target.network),
  );
}

export async function applyChaos(
  dataDir: string,
  target: ChaosTarget,
  state: ChaosState,
): Promise<ChaosChange[]> {
  const network = readNetworkState(dataDir);
  const selected = selectOperators(network.operators, target);
  if (selected.length === 0) {
    const known = network.operators.map(
      (operator) => `${operator.id} (${operator.cloud}, ${operator.region})`,
    );
    throw new Error(`no operator matches ${JSON.stringify(target)}; operators:\n  ${known.join("\n  ")}`);
  }
  const token = readControlToken(controlTokenFile(dataDir));
  return Promise.all(
    selected.map(async (operator): Promise<ChaosChange> => {
      const change = {
        operator: operator.id,
        network: operator.network,
        cloud: operator.cloud,
        region: operator.region,
      };
      if (!operator.controlUrl) return { ...change, state: undefined, error: "no chaos control" };
      try {
        const response = await fetch(`${operator.controlUrl}/chaos`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(state),
        });
        const body = (await response.json()) as { state?: ChaosState; error?: string } & ChaosState;
        if (!response.ok)
          return { ...change, state: undefined, error: body.error ?? `HTTP ${response.status}` };
        return {
          ...change,
          state: body.state ?? {
            mode: body.mode,
            ...(body.value !== undefined ? { value: body.value } : {}),
            ...(body.forMs !== undefined ? { forMs: body.forMs } : {}),
          },
        };
      } catch (error) {
        return { ...change, state: undefined, error: (error as Error).message };
      }
    }),
  );
}
