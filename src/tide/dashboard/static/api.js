// Talk to the dashboard's own server: JSON reads, the live stream, and actions.

export async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

export async function getText(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(response.statusText);
  return response.text();
}

// The header tells the server the request comes from this page (a cross-site form cannot set it).
export async function act(action, row) {
  const response = await fetch("/api/action", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Tide-Dashboard": "1" },
    body: JSON.stringify({ action, kind: row.kind, namespace: row.namespace, name: row.name, context: row.context }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body.done;
}

// Call onChange whenever the server's read model moves on; reconnects on its own (EventSource),
// and after a lost connection draws again, since changes made meanwhile were not announced.
export function follow(onChange, onState) {
  const stream = new EventSource("/api/stream");
  let lost = false;
  stream.addEventListener("version", () => onChange());
  stream.addEventListener("open", () => {
    onState(true);
    if (lost) onChange();
    lost = false;
  });
  stream.addEventListener("error", () => { onState(false); lost = true; });
  return stream;
}
