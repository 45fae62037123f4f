// The page: a hash router over the views, redrawn whenever the server's read model changes.

import { follow, getJSON, getText } from "./api.js";
import { h, inContext } from "./dom.js";
import * as views from "./views.js";

const main = document.getElementById("main");
const filters = { text: "", state: "", namespace: "", context: "" };

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return parts[0] ? parts : ["overview"];
}

async function page() {
  const [view, ...args] = route();
  if (view === "kind") return views.listing(await getJSON(`/api/list/${encodeURIComponent(args[0])}`), filters, redraw);
  if (view === "object") {
    const [context, kind, namespace, name] = args.length > 3 ? args : ["", ...args];
    const path = [kind, namespace, name].map(encodeURIComponent).join("/");
    return views.detail(await getJSON(`/api/object/${path}${inContext(context)}`));
  }
  if (view === "graph") {
    const contexts = await getJSON("/api/contexts");
    const drawn = await Promise.all(contexts.map(async (context) =>
      ({ ...context, svg: context.error ? "" : await getText(`/api/graph.svg${inContext(context.name)}`) })));
    return views.graph(drawn);
  }
  const data = await getJSON("/api/overview");
  document.getElementById("who").textContent = data.user;
  return views.overview(data, filters, redraw);
}

// Keep the focused filter and its caret across a redraw, so typing is not interrupted.
async function draw() {
  const focused = document.activeElement?.id;
  const caret = document.activeElement?.selectionStart;
  const started = performance.now();
  let nodes;
  try { nodes = await page(); } catch (error) { nodes = [h("p", { class: "error" }, error.message)]; }
  main.replaceChildren(...[nodes].flat(3).filter(Boolean));
  main.dataset.view = route()[0];
  main.dataset.drawMs = Math.round(performance.now() - started); // read by bench/dashboard.py
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", link.dataset.nav === route()[0]);
  }
  if (focused) {
    const again = document.getElementById(focused);
    again?.focus();
    if (again && caret !== undefined && caret !== null && again.setSelectionRange) again.setSelectionRange(caret, caret);
  }
}

// Changes arriving while a draw runs are folded into one more draw, not queued one by one.
let drawing = false;
let dirty = false;

async function redraw() {
  if (drawing) { dirty = true; return; }
  drawing = true;
  try {
    do { dirty = false; await draw(); } while (dirty);
  } finally {
    drawing = false;
  }
}

async function kindsMenu() {
  const select = document.getElementById("kind-nav");
  for (const kind of await getJSON("/api/kinds")) select.append(h("option", { value: kind.kind }, kind.kind));
  select.addEventListener("change", () => { if (select.value) location.hash = `#/kind/${select.value}`; select.value = ""; });
}

window.addEventListener("hashchange", () => {
  Object.assign(filters, { text: "", state: "", namespace: "", context: "" });
  redraw();
});
follow(redraw, (on) => document.getElementById("live").classList.toggle("on", on));
kindsMenu();
redraw();
