// Composes the supergraph from live Coda subgraphs with Apollo's own composition library.
// Usage: node compose.mjs '<json: [{"name": ..., "url": ...}]>'
// Prints JSON: {errors: [...], hints: [{code, message}], supergraphSdl}.
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const subgraphs = JSON.parse(process.argv[2]);

async function sdlOf(url) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${url}: ${JSON.stringify(body.errors)}`);
  return body.data._service.sdl;
}

const services = [];
for (const { name, url } of subgraphs) {
  services.push({ name, url, typeDefs: parse(await sdlOf(url)) });
}
const result = composeServices(services);
console.log(
  JSON.stringify({
    errors: (result.errors ?? []).map((e) => e.message),
    hints: (result.hints ?? []).map((h) => ({ code: h.definition.code, message: h.message })),
    supergraphSdl: result.supergraphSdl ?? null,
  }),
);
