// One function per page: each takes the JSON the server gave and returns the page's nodes.

import { act, getJSON } from "./api.js";
import { badge, h, inContext, objectHref, table } from "./dom.js";

const LABELS = {
  reconcile: "Reconcile",
  "reconcile-with-source": "Reconcile with source",
  suspend: "Suspend",
  resume: "Resume",
};

export function toast(text, error = false) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.className = error ? "error" : "";
  box.hidden = false;
  clearTimeout(box.timer);
  box.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function actions(row) {
  return h("td", { class: "actions" }, (row.actions || []).map((action) =>
    h("button", {
      "data-action": action,
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try { toast(await act(action, row)); } catch (error) { toast(error.message, true); }
        button.disabled = false;
      },
    }, LABELS[action] || action)));
}

// Rows are rebuilt only when their data changed: a live redraw of a thousand rows after one
// object changed then builds one row and moves the others into the new table.
const rowCache = new Map();

function cachedRows(view, rows, build) {
  const used = new Set();
  const nodes = rows.map((row) => {
    const key = `${view}:${row.context}:${row.kind}/${row.namespace}/${row.name}`;
    used.add(key);
    return cachedRow(key, row, build);
  });
  for (const key of rowCache.keys()) {
    if (key.startsWith(`${view}:`) && !used.has(key)) rowCache.delete(key);
  }
  return nodes;
}

function cachedRow(key, row, build) {
  const json = JSON.stringify(row);
  const known = rowCache.get(key);
  if (known && known.json === json) return known.node;
  const node = build(row);
  rowCache.set(key, { json, node });
  return node;
}

function nameCell(row) {
  return h("td", {}, h("a", { href: objectHref(row.kind, row.namespace, row.name, row.context) }, row.name));
}

// A row as the tests and the eye find it: its object, and (in a data attribute) its context.
function rowAttrs(row) {
  return { "data-ref": `${row.kind}/${row.namespace}/${row.name}`, "data-context": row.context };
}

function filterBar(filters, namespaces, onChange, contexts = []) {
  const input = h("input", {
    id: "filter-text", type: "search", placeholder: "Filter by name or message", value: filters.text,
    oninput: (event) => { filters.text = event.target.value; onChange(); },
  });
  const state = h("select", { id: "filter-state", onchange: (event) => { filters.state = event.target.value; onChange(); } },
    ["", "ready", "failing", "suspended", "progressing"].map((value) =>
      h("option", { value, selected: filters.state === value }, value || "any state")));
  const namespace = h("select", { id: "filter-namespace", onchange: (event) => { filters.namespace = event.target.value; onChange(); } },
    ["", ...namespaces].map((value) =>
      h("option", { value, selected: filters.namespace === value }, value || "all namespaces")));
  const context = contexts.length > 1
    ? h("select", { id: "filter-context", onchange: (event) => { filters.context = event.target.value; onChange(); } },
      ["", ...contexts].map((value) =>
        h("option", { value, selected: filters.context === value }, value || "all contexts")))
    : null;
  return h("div", { class: "filters" }, input, state, namespace, context);
}

function keep(filters, row) {
  const text = filters.text.toLowerCase();
  return (!filters.state || row.state === filters.state)
    && (!filters.namespace || row.namespace === filters.namespace)
    && (!filters.context || row.context === filters.context)
    && (!text || row.name.toLowerCase().includes(text) || row.message.toLowerCase().includes(text));
}

function namespacesOf(rows) {
  return [...new Set(rows.map((row) => row.namespace))].sort();
}

const STATES = ["ready", "failing", "suspended", "progressing"];

function counts(counted) {
  return h("div", { class: "counts" }, STATES.map((state) =>
    h("span", { class: "count", title: state, "data-state": state },
      h("span", { class: `dot ${state}` }), `${counted[state]} ${state}`)));
}

// One card per context: its user and counts, or why it does not answer. A click filters by it.
function contextCards(contexts, filters, redraw) {
  return h("div", { class: "cards contexts", id: "contexts" }, contexts.map((context) =>
    h("button", {
      class: `card context${context.error ? " unreachable" : ""}${filters.context === context.name ? " chosen" : ""}`,
      "data-context": context.name,
      title: context.server,
      onclick: () => { filters.context = filters.context === context.name ? "" : context.name; redraw(); },
    },
    h("span", { class: "kind" }, context.name),
    context.error
      ? [h("span", { class: "badge failing" }, "unreachable"), h("div", { class: "message" }, context.error)]
      : [h("span", { class: "total" }, context.counts.total), h("div", { class: "muted" }, context.user),
        counts(context.counts)])));
}

export function overview(data, filters, redraw) {
  const several = data.contexts.length > 1;
  const chosen = data.contexts.find((context) => context.name === filters.context);
  const summary = chosen ? chosen.summary : data.summary;
  const cards = h("div", { class: "cards" }, summary.map((kind) =>
    h("a", { class: "card", href: `#/kind/${kind.kind}`, "data-kind": kind.kind },
      h("span", { class: "kind" }, kind.kind), h("span", { class: "total" }, kind.total), counts(kind))));
  const shown = data.rows.filter((row) => keep(filters, row));
  const rows = cachedRows("overview", shown, (row) => h("tr", rowAttrs(row),
    several ? h("td", {}, row.context) : null,
    h("td", {}, row.kind), h("td", {}, row.namespace), nameCell(row),
    h("td", {}, badge(row.state)), h("td", { class: "message" }, row.message), actions(row)));
  return [
    h("h1", {}, "Overview"),
    several || data.contexts.some((context) => context.error)
      ? [h("h2", {}, "Contexts"), contextCards(data.contexts, filters, redraw), h("h2", {}, chosen ? `Kinds in ${chosen.name}` : "Kinds")]
      : null,
    summary.length ? cards : h("p", { class: "muted" }, "No Flux objects this user may list."),
    data.syncing.length ? h("p", { class: "muted", id: "syncing" }, `Not listed (yet): ${data.syncing.join(", ")}`) : null,
    filterBar(filters, namespacesOf(data.rows), redraw, data.contexts.map((context) => context.name)),
    table([several ? "Context" : null, "Kind", "Namespace", "Name", "Ready", "Message", "Actions"].filter(Boolean), rows),
  ];
}

export function listing(data, filters, redraw) {
  const several = data.contexts.length > 1;
  const extra = data.columns.filter((title) => !["READY", "MESSAGE"].includes(title));
  const rows = cachedRows("list", data.rows.filter((row) => keep(filters, row)), (row) =>
    h("tr", rowAttrs(row),
      several ? h("td", {}, row.context) : null, nameCell(row), h("td", {}, row.namespace),
      extra.map((title) => h("td", {}, row.columns[title] || "")),
      h("td", {}, badge(row.state, row.suspended ? "suspended" : row.ready)),
      h("td", { class: "message" }, row.message), h("td", {}, row.age), actions(row)));
  const titles = [several ? "Context" : null, "Name", "Namespace", ...extra.map((t) => t[0] + t.slice(1).toLowerCase()),
    "Ready", "Message", "Age", "Actions"].filter(Boolean);
  return [
    h("h1", {}, data.kind),
    filterBar(filters, namespacesOf(data.rows), redraw, data.contexts),
    table(titles, rows),
  ];
}

function rootCause(links, context) {
  if (!links.length) return null;
  const cause = links[links.length - 1];
  const words = (link) => `${link.state}${link.reason ? ` (${link.reason})` : ""}${link.message ? `: ${link.message}` : ""}`;
  return h("div", { class: "box cause", id: "root-cause" },
    h("ol", {}, links.map((link, index) => h("li", {},
      index ? `${link.relation} ` : "", h("a", { href: objectHref(link.kind, link.namespace, link.name, context) }, link.ref),
      ` — ${words(link)}`))),
    h("div", { class: "root" }, cause.state === "not found"
      ? `Root cause: ${cause.ref} does not exist`
      : cause.state === "suspended"
        ? `Root cause: ${cause.ref} is suspended`
        : `Root cause: ${cause.ref} — ${cause.reason || cause.state}: ${cause.message}`));
}

function chain(steps) {
  if (!steps.length) return h("p", { class: "muted" }, "No artifact yet.");
  const parts = [];
  steps.forEach((step, index) => {
    if (index) parts.push(h("span", { class: "arrow" }, "→"));
    parts.push(h("div", { class: "step", "data-step": step.step },
      h("div", { class: "title" }, step.step),
      h("div", {}, step.label),
      step.digest ? h("div", { class: "muted" }, step.digest) : null,
      step.url && step.step === "source" ? h("div", { class: "muted" }, step.url) : null,
      step.attempted && step.attempted !== step.label ? h("div", { class: "muted" }, `attempted ${step.attempted}`) : null));
  });
  return h("div", { class: "chain" }, parts);
}

function tree(nodes, context) {
  return h("ul", { class: "tree" }, nodes.map((node) => h("li", {},
    node.error ? h("span", { class: "badge failing" }, node.error)
      : (["Kustomization", "HelmRelease"].includes(node.kind)
        ? h("a", { href: objectHref(node.kind, node.namespace, node.name, context) }, node.label) : node.label),
    node.children.length ? tree(node.children, context) : null)));
}

function history(entries) {
  if (!entries.length) return h("p", { class: "muted" }, "No history recorded.");
  const columns = [...new Set(entries.flatMap((entry) => Object.keys(entry)))]
    .filter((key) => typeof entries[0][key] !== "object");
  return table(columns, entries.map((entry) => h("tr", {}, columns.map((key) => h("td", {}, entry[key] ?? "")))));
}

export function detail(data) {
  const row = data.row;
  return [
    h("h1", {}, `${row.kind} ${row.namespace}/${row.name} `, badge(row.state),
      data.several ? h("span", { class: "context-name", id: "context" }, ` in ${row.context}`) : null),
    data.context.error ? h("p", { class: "badge failing", id: "unreachable" }, `Context ${row.context} is unreachable: ${data.context.error}`) : null,
    h("div", { class: "box", id: "summary" },
      h("div", { class: "message" }, row.message || "—"),
      h("table", { class: "plain" }, h("tr", rowAttrs(row), actions(row)))),
    data.why.length && row.state !== "ready" ? [h("h2", {}, "Why it is not Ready"), rootCause(data.why, row.context)] : null,
    h("h2", {}, "Source → artifact → revision"), chain(data.chain),
    h("h2", {}, "Conditions"),
    table(["Type", "Status", "Reason", "Message", "Last transition"], data.conditions.map((c) =>
      h("tr", {}, h("td", {}, c.type), h("td", {}, c.status), h("td", {}, c.reason),
        h("td", { class: "message" }, c.message), h("td", {}, c.lastTransitionTime)))),
    h("h2", {}, "Events"),
    h("div", { id: "events" }, data.events.length ? table(["Age", "Type", "Reason", "Message"], data.events.map((e) =>
      h("tr", {}, h("td", {}, e.age), h("td", {}, e.type), h("td", {}, e.reason), h("td", { class: "message" }, e.message))))
      : h("p", { class: "muted" }, "No events.")),
    ["Kustomization", "HelmRelease"].includes(row.kind)
      ? [h("h2", {}, "Inventory"), data.inventory.length ? tree(data.inventory, row.context) : h("p", { class: "muted" }, "Nothing applied yet.")] : null,
    h("h2", {}, "History"), history(data.history),
    row.kind === "Kustomization" ? [h("h2", {}, "Desired vs live"), diffBox(row)] : null,
  ];
}

// The diff is built and dry-run on request only: it fetches the artifact and asks the API server.
// Its answer is kept (per object) so that a live redraw of the page does not wipe it.
const diffs = new Map();

function diffAnswer(data) {
  if (data.error) return [h("p", { class: "badge failing" }, data.error)];
  if (!data.changes.length) return [h("p", {}, `No differences: the cluster matches ${data.revision}.`)];
  return [h("p", {}, `Applying ${data.revision} would change:`), ...data.changes.map((change) => h("pre", {}, change))];
}

function diffBox(row) {
  const key = `${row.context}/${row.namespace}/${row.name}`;
  const out = h("div", { id: "diff" }, diffs.has(key) ? diffAnswer(diffs.get(key)) : null);
  const button = h("button", {
    id: "show-diff",
    onclick: async () => {
      button.disabled = true;
      out.replaceChildren(h("p", { class: "muted" }, "Building and dry-running…"));
      let data;
      try {
        data = await getJSON(`/api/diff/${encodeURIComponent(row.namespace)}/${encodeURIComponent(row.name)}${inContext(row.context)}`);
      } catch (error) { data = { error: error.message }; }
      diffs.set(key, data);
      out.replaceChildren(...diffAnswer(data));
      button.disabled = false;
    },
  }, "Show the diff of the artifact against the cluster (server-side dry run)");
  return h("div", { class: "box" }, button, out);
}

// One graph per context (each cluster's objects refer only to each other), headed by its name
// when there are several; an unreachable context says so in its place.
export function graph(contexts) {
  const several = contexts.length > 1;
  const sections = contexts.map((context) => {
    if (context.error) {
      return h("section", { "data-context": context.name }, h("h2", {}, context.name),
        h("p", { class: "badge failing" }, `unreachable: ${context.error}`));
    }
    const wrap = h("div", { class: "graph-wrap" });
    wrap.innerHTML = context.svg; // our own server's SVG, every name in it escaped there
    return h("section", { "data-context": context.name }, several ? h("h2", {}, context.name) : null, wrap);
  });
  const legend = h("div", { class: "legend" },
    ["ready", "failing", "suspended", "progressing", "missing"].map((state) =>
      h("span", {}, badge(state))), h("span", { class: "muted" }, "solid: source · dashed: dependsOn"));
  return [h("h1", {}, "Graph"), legend, h("div", { id: "graph" }, sections)];
}
