// Runs the graphql-http server audits (GraphQL over HTTP spec) against a URL.
// Usage: node audit.mjs <url> [authorization]
// Prints JSON: [{id, name, status: "ok"|"warn"|"error", reason}]; MUST audits fail as "error".
import { serverAudits } from "graphql-http";

const [url, authorization] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (authorization) headers.set("authorization", authorization);
  return fetch(input, { ...init, headers });
};

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
