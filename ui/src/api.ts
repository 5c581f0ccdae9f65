/**
 * The page's only way to its server: every /api call carries the token from the address the CLI printed, read
 * once at load and then removed from the address bar.
 */

import type {
  ReceivedDelivery,
  WebhookDeliveries,
  WebhookListening,
  WebhookTopics,
} from "../../src/playground/webhooks-contract.js";
import type {
  EmulatorState,
  Info,
  Manifest,
  PickerChoices,
  Rates,
  RequestEntry,
  Run,
  TriggerCatalogue,
  TriggerPoll,
} from "./model";

function takeToken(): string {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token") ?? "";
  if (url.searchParams.has("token")) {
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", `${url.pathname}${url.search}${url.hash}`);
  }
  return token;
}

const token = takeToken();

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { "X-Playground-Token": token, Accept: "application/json" };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new ApiError(
      `The playground server did not answer (${error instanceof Error ? error.message : String(error)}). Is klaviyo ui still running?`,
      0,
    );
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: unknown };
      if (typeof body.error === "string") message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 403 && !token)
      message = "This page has no token: open the address printed by klaviyo ui (with its ?token=…).";
    throw new ApiError(message, response.status);
  }
  return (await response.json()) as T;
}

export const api = {
  hasToken: () => token !== "",
  info: () => call<Info>("/api/info"),
  manifest: () => call<Manifest>("/api/manifest"),
  run: (action: string, inputs: Record<string, unknown>) =>
    call<Run>("/api/run", { method: "POST", body: { action, inputs } }),
  history: () => call<{ runs: Run[] }>("/api/history"),
  triggers: () => call<TriggerCatalogue>("/api/triggers"),
  /** One poll of a trigger from `state` (undefined on the first); the answer's state goes with the next. */
  poll: (key: string, inputs: Record<string, unknown>, state: unknown) =>
    call<TriggerPoll>("/api/triggers/poll", { method: "POST", body: { key, inputs, state: state ?? null } }),
  picker: (picker: string) => call<PickerChoices>(`/api/pickers/${encodeURIComponent(picker)}`),
  webhookTopics: () => call<WebhookTopics>("/api/webhooks/topics"),
  /** Registers the playground's webhook for `topics` (every topic when empty); the secret stays in the server. */
  listen: (topics: string[]) =>
    call<{ listening: WebhookListening }>("/api/webhooks/listen", { method: "POST", body: { topics } }),
  stopListening: () =>
    call<{ listening: null; deleted: string | null }>("/api/webhooks/listen", { method: "DELETE" }),
  deliveries: () => call<WebhookDeliveries>("/api/webhooks/deliveries"),
  /** Sends the receiver a delivery whose body was changed after signing: it comes back refused. */
  forge: () => call<ReceivedDelivery>("/api/webhooks/forge", { method: "POST", body: {} }),
  state: () => call<EmulatorState>("/api/emulator/state"),
  requests: (limit = 200) => call<{ requests: RequestEntry[] }>(`/api/emulator/requests?limit=${limit}`),
  rates: (seconds = 60) => call<Rates>(`/api/emulator/rates?seconds=${seconds}`),
  reset: () => call<unknown>("/api/emulator/reset", { method: "POST", body: {} }),
  /** The address of a template's HTML preview (served with its own policy; a frame cannot send the header). */
  templatePreviewUrl: (id: string) =>
    `/api/emulator/templates/${encodeURIComponent(id)}/preview?token=${encodeURIComponent(token)}`,
  /** An emulator image's bytes, as a blob: URL the page may show (an <img src> could not send the token). */
  async imageUrl(id: string, signal?: AbortSignal): Promise<string> {
    const response = await fetch(`/api/emulator/images/${encodeURIComponent(id)}`, {
      headers: { "X-Playground-Token": token },
      cache: "no-store",
      credentials: "omit",
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw new ApiError(`${response.status}`, response.status);
    return URL.createObjectURL(await response.blob());
  },
};
