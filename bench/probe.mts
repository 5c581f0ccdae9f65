import { KlaviyoClient } from "../src/index.js";

const body = JSON.stringify({
  data: { type: "account", id: "XqT4Lm", attributes: { timezone: "US/Eastern" } },
});
const stub = async (_i: string | URL | Request, init?: RequestInit) => {
  void init;
  return new Response(body, {
    headers: {
      "content-type": "application/vnd.api+json",
      "ratelimit-limit": "15",
      "ratelimit-remaining": "14",
      "ratelimit-reset": "40",
    },
  });
};
const c = new KlaviyoClient({
  apiKey: "pk_0123456789abcdef0123",
  baseUrl: "http://x.local",
  fetch: stub,
  rateLimiter: false,
});
const mode = process.argv[2];
const N = 50000;
const t = process.cpuUsage();
for (let i = 0; i < N; i++) {
  if (mode === "plain")
    await (await stub("http://x.local/api/accounts/XqT4Lm", { headers: { a: "b" } })).json();
  else if (mode === "signal") {
    const ac = new AbortController();
    const tm = setTimeout(() => ac.abort(), 60000);
    await (
      await stub("http://x.local/api/accounts/XqT4Lm", { headers: { a: "b" }, signal: ac.signal })
    ).json();
    clearTimeout(tm);
  } else await c.request({ method: "GET", path: "/api/accounts/XqT4Lm" });
}
const u = process.cpuUsage(t);
console.log(mode, ((u.user + u.system) / N).toFixed(2), "us");
