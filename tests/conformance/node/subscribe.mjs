// Subscribes with the graphql-ws reference client and prints every event, then "complete".
// Usage: node subscribe.mjs <ws-url> <authorization> <query> '<variables json>'
// Prints one JSON line per result ({data} or {errors}), then {"complete": true}.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, authorization, query, variables] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization },
  retryAttempts: 0,
});

try {
  for await (const result of client.iterate({ query, variables: JSON.parse(variables) })) {
    console.log(JSON.stringify(result));
  }
  console.log(JSON.stringify({ complete: true }));
} catch (error) {
  console.log(JSON.stringify({ failed: String(error?.reason ?? error?.message ?? error) }));
  process.exitCode = 1;
} finally {
  await client.dispose();
}
