/**
 * `DinProvider`: an ethers v6 `JsonRpcProvider` that checks what the gateway serves, with the same core as
 * the viem transport (verifier.ts). A failed check rejects the call with a {@link DinVerificationError};
 * requests are sent one at a time (no JSON-RPC batches), since a signed relay covers one request.
 */
import {
  type JsonRpcApiProviderOptions,
  type JsonRpcPayload,
  JsonRpcProvider,
  type JsonRpcResult,
  type Networkish,
} from "ethers";
import { DinRpcError } from "./errors.js";
import { DinVerifier, type DinVerifierOptions } from "./verifier.js";

export interface DinProviderOptions extends DinVerifierOptions {
  /** The network, when known (skips ethers' detection). */
  network?: Networkish;
  /** ethers' own provider options (`batchMaxCount` is always 1). */
  provider?: JsonRpcApiProviderOptions;
}

export class DinProvider extends JsonRpcProvider {
  readonly verifier: DinVerifier;

  constructor(url: string, options: DinProviderOptions) {
    super(url, options.network, {
      ...options.provider,
      batchMaxCount: 1,
      ...(options.network !== undefined ? { staticNetwork: true } : {}),
    });
    this.verifier = new DinVerifier(url, options);
  }

  /** Sends each payload through the verifier; JSON-RPC errors are answered as errors, failed checks thrown. */
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const payloads = Array.isArray(payload) ? payload : [payload];
    const answers = await Promise.all(
      payloads.map(async ({ id, method, params }) => {
        try {
          const list = Array.isArray(params) ? params : params === undefined ? [] : [params];
          return { id, result: await this.verifier.request(method, list) };
        } catch (error) {
          if (!(error instanceof DinRpcError)) throw error;
          return { id, error: { code: error.code, message: error.message, data: error.data } };
        }
      }),
    );
    // ethers' JsonRpcProvider declares results only, but its caller reads `error` answers as JSON-RPC errors.
    return answers as JsonRpcResult[];
  }
}

export { DinVerificationError } from "./errors.js";
export type { DinVerifierOptions } from "./verifier.js";
