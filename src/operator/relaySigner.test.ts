// Signing an answer for a caller that sent `din-sign: 1`: a single request the execution client served gets
// a relay any verifier accepts (result or error alike); without a key, for a refusal, a failure or a batch,
// the caller is told why in `din-sign-error` and the answer is otherwise unchanged.
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { relayFromJson, verifyRelay } from "../ledger/din/relay.js";
import { type Answer, json } from "./answers.js";
import { type RelaySignerOptions, signAnswer } from "./relaySigner.js";

const slasher: Address = "0x00000000000000000000000000000000000051a5";
const signer: RelaySignerOptions = {
  account: privateKeyToAccount(generatePrivateKey()),
  chainId: 31337,
  ledgerChainId: 17000,
  slasher,
};
const request = { jsonrpc: "2.0", id: 1, method: "eth_getBalance", params: ["0x01", "latest"] };

function verified(answer: Answer, response: { result?: unknown; error?: unknown }) {
  const headers = answer.headers as Record<string, string>;
  const relay = relayFromJson(JSON.parse(headers["din-relay"] as string));
  return verifyRelay(
    relay,
    headers["din-signature"] as string,
    {
      method: request.method,
      params: request.params,
      response,
      chainId: 31337n,
      signer: signer.account.address,
    },
    { ledgerChainId: 17000, slasher },
  );
}

describe("signAnswer", () => {
  it("adds a relay over the request and the result served, verifiable against the signer", async () => {
    const served = json(200, { jsonrpc: "2.0", id: 1, result: "0x10" });
    const signed = await signAnswer(signer, request, served);
    expect(signed.status).toBe(200);
    expect(signed.body).toBe(served.body);
    expect(signed.headers?.["din-operator"]).toBe(signer.account.address);
    expect(verified(signed, { result: "0x10" }).ok).toBe(true);
  });

  it("signs an execution client's error answer as served", async () => {
    const error = { code: 3, message: "execution reverted" };
    const signed = await signAnswer(signer, request, json(200, { jsonrpc: "2.0", id: 1, error }));
    expect(verified(signed, { error }).ok).toBe(true);
  });

  it("says why it signs nothing: no key, a refusal, a failure, a batch", async () => {
    const served = json(200, { jsonrpc: "2.0", id: 1, result: "0x10" });
    expect((await signAnswer(undefined, request, served)).headers).toEqual({
      "din-sign-error": "this operator has no signing key",
    });
    const refused = { ...json(200, { jsonrpc: "2.0", id: 1, error: { code: -32601 } }), local: true };
    expect((await signAnswer(signer, request, refused)).headers).toEqual({
      "din-sign-error": "refused by this operator: nothing was served to sign",
    });
    const only = { "din-sign-error": "only a single successful request is signed" };
    expect((await signAnswer(signer, request, json(502, {}))).headers).toEqual(only);
    expect((await signAnswer(signer, [request], json(200, [{}]))).headers).toEqual(only);
    expect((await signAnswer(signer, request, { status: 200, body: undefined })).headers).toEqual(only);
  });

  it("leaves an answer it cannot read as it is", async () => {
    const unreadable: Answer = { status: 200, body: "<html>" };
    expect(await signAnswer(signer, request, unreadable)).toBe(unreadable);
    const notAnObject: Answer = { status: 200, body: "[1]" };
    expect(await signAnswer(signer, request, notAnObject)).toBe(notAnObject);
  });
});
